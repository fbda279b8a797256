"""Simulated students: submissions made from the reference, for the demo class and the tests.

Each submission is a lesson folder as a student hands it in (the notebook and the ``ecglab``
package), made from the reference by solving some exercises, leaving others as stubs, and putting
in the kind of mistake students make. They show that the graders reward exactly what is right.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .course import Course, load_course, module_file
from .generate import render_package, write_tree

#: Plausible mistakes, as text replacements in the reference source: exercise -> (old, new).
BUGS = {
    # a constant row divides by zero: NaN instead of zeros
    "1.2": ("np.divide(x - lo, span, out=np.zeros_like(x), where=span > 0)", "(x - lo) / span"),
    # strict comparison on both sides: plateaus are never maxima
    "1.3": ("(inner >= x[2:])", "(inner > x[2:])"),
    # the mean is not the median
    "1.5": ("np.median(np.diff(r_peaks))", "np.mean(np.diff(r_peaks))"),
    # truncation instead of rounding
    "1.6": ("span = int(round(factor * period))", "span = int(factor * period)"),
    # the ReLU before the skip connection is added
    "2.2": ("return self.pool(torch.relu(y + x))", "return self.pool(torch.relu(y) + x)"),
    # trainable_only ignored
    "2.5": (" if p.requires_grad or not trainable_only)", ")"),
    # no zero_grad: every step uses the gradients of all the batches so far
    "3.2": ("        optimizer.zero_grad()\n", ""),
    # specificity from the false negatives instead of the false positives
    "3.5": ('"specificity": ratio(tn, tn + fp)', '"specificity": ratio(tn, tn + fn)'),
    # never freezes again what an earlier call left trainable
    "4.2": ("    model.requires_grad_(False)\n", ""),
    # the hooks are left on the model: they run at every later forward pass
    "5.1": ("        for hook in handles:\n            hook.remove()\n        _restore(modes)\n"
            "    return {name: outputs[name] for name in names}",
            "        _restore(modes)\n    return {name: outputs[name] for name in names}"),
    # the stride forgotten: the jump stays 1
    "5.2": ("return r + (k - 1) * d * j, j * s", "return r + (k - 1) * d * j, j"),
}
#: Code that takes the grader down with it, if the grader let it: exercise -> (old, new).
DISASTERS = {
    "hang": ("1.3", "    x = np.asarray(x)\n    inner", "    while True:\n        pass\n    inner"),
    "exit": ("1.5", "    r_peaks = np.asarray(r_peaks)\n", "    import os\n    os._exit(1)\n"),
    "memory": ("1.2", "    x = np.asarray(x, dtype=np.float64)\n",
               "    x = np.asarray(x, dtype=np.float64)\n    waste = np.ones(10**11)\n"),
    "segfault": ("1.8", "    for index, symbols in",
                 "    import faulthandler\n    faulthandler._sigsegv()\n    for index, symbols in"),
}


@dataclass
class Student:
    """What one simulated student hands in for a lesson."""

    name: str
    solved: frozenset = frozenset()          # exercise ids written correctly
    bugs: frozenset = frozenset()            # exercise ids (of BUGS) written with the mistake
    disasters: tuple = ()                    # keys of DISASTERS
    syntax_error: bool = False               # the student's module does not parse
    drop_cells: tuple = ()                   # grade ids of check cells deleted from the notebook
    duplicate_cells: tuple = ()              # grade ids of check cells the student copied
    description: str = ""


def demo_class(lesson: int = 1, course: Course | None = None) -> list[Student]:
    """The students of the demo class for ``lesson``."""
    course = course or load_course()
    ids = [e.id for e in course.lesson(lesson).exercises]
    every = frozenset(ids)
    buggy = frozenset(b for b in BUGS if b in every)
    return [
        Student("ada", every, description="the reference solution"),
        Student("blank", description="handed in the stubs"),
        Student("half", frozenset(ids[: len(ids) // 2]), description="the first half of the exercises"),
        Student("bugs", every - buggy, buggy, description="everything, with plausible mistakes"),
        Student("syntax", every, syntax_error=True, description="a syntax error in the module"),
        Student("lostcell", every, drop_cells=(course.lesson(lesson).exercises[1].grade_id,),
                description="deleted a check cell from the notebook"),
    ]


def render_student_package(student: Student, course: Course | None = None) -> dict[str, str]:
    """The student's ``ecglab`` as ``{relative path: text}``."""
    course = course or load_course()
    files = render_package(course=course, solved_exercises=student.solved | student.bugs)
    for exercise_id in student.bugs:
        old, new = BUGS[exercise_id]
        files = _replace(files, course.exercise(exercise_id), old, new)
    for key in student.disasters:
        exercise_id, old, new = DISASTERS[key]
        files = _replace(files, course.exercise(exercise_id), old, new)
    if student.syntax_error:
        module = next(e for e in course.exercises if e.id in student.solved).module
        rel = module_file(module)
        files[rel] = files[rel].replace("def ", "def def ", 1)
    return files


def _replace(files: dict, exercise, old: str, new: str) -> dict:
    rel = module_file(exercise.module)
    if files[rel].count(old) != 1:
        raise ValueError(f"simulated student: {old!r} is not in the reference {exercise.function} "
                         f"exactly once; update autograder/submissions.py")
    files = dict(files)
    files[rel] = files[rel].replace(old, new)
    return files


def write_package_for(student: Student, dest: Path, course: Course | None = None) -> Path:
    """Write the student's ``ecglab`` into ``dest/ecglab``; returns ``dest``."""
    write_tree(render_student_package(student, course), Path(dest) / "ecglab")
    return Path(dest)


def write_submission(student: Student, release_dir: Path, dest: Path,
                     course: Course | None = None) -> Path:
    """Copy a released lesson folder to ``dest`` as the student hands it in."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(release_dir, dest, ignore=shutil.ignore_patterns("__pycache__"))
    write_package_for(student, dest, course)
    for notebook in dest.glob("*.ipynb"):
        nb = json.loads(notebook.read_text())
        cells = []
        for cell in nb["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in student.drop_cells:
                continue
            cells.append(cell)
            if grade_id in student.duplicate_cells:
                copy = json.loads(json.dumps(cell))
                copy["id"] = f"{cell['id']}-copy"
                cells.append(copy)
        nb["cells"] = cells
        notebook.write_text(json.dumps(nb, indent=1))
    return dest
