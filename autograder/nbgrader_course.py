"""The nbgrader course, generated from ``course.yml``, ``solutions/`` and the ready-made ``ecglab/``.

``python -m autograder nbgrader build DIR`` writes::

    DIR/nbgrader_config.py        course id, cell timeout, kernel, what autograde must not overwrite
    DIR/source/lesson1/01_preprocessing.ipynb
    DIR/source/lesson1/ecglab/     the package as lesson-1 students get it: lesson 1 stubbed
    DIR/source/lesson2/...         (lesson 2: lesson 1 solved, lesson 2 stubbed, and so on)

so that every lesson can be released and graded on its own. The notebooks come from the jupytext
sources in ``solutions/lessons``: this module adds the "Open in Colab" badge, the set-up cell and
the nbgrader metadata (the check cell of every exercise becomes a locked grade cell worth the
exercise's points in ``course.yml``). The check code itself stays in ``autograder/``: a check
cell holds only ``check("1.2")``, so feedback shows results, never test internals.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .course import SOLUTIONS, Course, Lesson, load_course, module_file
from .generate import GenerateError, write_package

CHECK_CALL = re.compile(r"""^\s*check\(\s*["'](\d+\.\d+)["']\s*\)\s*$""", re.MULTILINE)

SETUP_CELL = '''\
# Set-up: run this cell first. It finds your ecglab (in Colab it fetches the course first),
# the data, and says what this lesson works with.
KEEP_ON_DRIVE = False   # Colab: True keeps your exercise modules in Google Drive across resets
import os, sys, subprocess
if "google.colab" in sys.modules:
    # Colab: clone the course once (after "Restart session" the clone is still there), add the
    # two packages Colab lacks (--no-deps keeps Colab's own torch and numpy), work in lessons/.
    if not os.path.isdir("/content/{name}"):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "https://github.com/{repository}",
                        "/content/{name}"], check=True)
    try:
        import wfdb, pooch
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "wfdb", "pooch"],
                       check=True)
    os.chdir("/content/{name}/lessons")

def _course_root():
    """The folder that holds the ecglab to use: $ECGLAB_IMPL, else the nearest one up from here."""
    if os.environ.get("ECGLAB_IMPL"):
        return os.path.abspath(os.environ["ECGLAB_IMPL"])
    here = os.path.abspath(os.getcwd())
    for folder in [here, os.path.dirname(here), os.path.dirname(os.path.dirname(here))]:
        if os.path.isfile(os.path.join(folder, "ecglab", "__init__.py")):
            return folder
    raise RuntimeError(f"ecglab not found in {{here}} or above: open this notebook from the "
                       f"course's lessons/ folder")

if _course_root() not in sys.path:
    sys.path.insert(0, _course_root())
%load_ext autoreload
%autoreload 2
%matplotlib inline
from autograder.notebook import setup
setup(lesson={number}, keep_on_drive=KEEP_ON_DRIVE)'''

CHECK_CELL = '''\
# Check exercise {id} ({function}): run this cell again after each change to ecglab/{module}.py
from autograder.notebook import check
check("{id}")'''


def _nbgrader(grade_id: str, points: float | None = None, locked: bool = True) -> dict:
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": False}
    if points is not None:
        meta["points"] = points
    return meta


def lesson_notebook(lesson: Lesson, course: Course):
    """The nbgrader source notebook of a lesson, built from ``solutions/lessons/<notebook>.py``."""
    import jupytext
    import nbformat

    source = SOLUTIONS / "lessons" / f"{lesson.notebook}.py"
    nb = jupytext.read(source)
    cells = list(nb.cells)
    if not cells or cells[0].cell_type != "markdown":
        raise GenerateError(f"{source}: the first cell must be the lesson's title (markdown)")
    badge = nbformat.v4.new_markdown_cell(
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({course.colab_url(lesson)})")
    name = course.repository.split("/")[-1]
    setup = nbformat.v4.new_code_cell(SETUP_CELL.format(name=name, repository=course.repository,
                                                        number=lesson.number))
    setup.metadata["nbgrader"] = _nbgrader("setup")
    out = [cells[0], badge, setup]
    seen: dict[str, int] = {}
    by_id = {e.id: e for e in lesson.exercises}
    for cell in cells[1:]:
        cell.metadata.pop("lines_to_next_cell", None)
        found = CHECK_CALL.findall(cell.source) if cell.cell_type == "code" else []
        if found:
            if len(found) > 1 or found[0] not in by_id:
                raise GenerateError(f"{source}: check cell {cell.source!r}: one check of an exercise "
                                    f"of lesson {lesson.number} per cell")
            ex = by_id[found[0]]
            seen[ex.id] = seen.get(ex.id, 0) + 1
            cell.source = CHECK_CELL.format(id=ex.id, function=ex.function, module=ex.module)
            cell.metadata["nbgrader"] = _nbgrader(ex.grade_id, ex.points)
        out.append(cell)
    missing = [e.id for e in lesson.exercises if seen.get(e.id) != 1]
    if missing:
        raise GenerateError(f"{source}: every exercise needs exactly one check cell "
                            f"(`check(\"{missing[0]}\")`); wrong for {', '.join(missing)}")
    for i, cell in enumerate(out):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = grade_id or f"cell-{i}"   # stable ids: regeneration gives the same bytes
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells = out
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": course.kernel_name},
                   "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


CONFIG = '''\
# nbgrader configuration of {course_id}, generated by `python -m autograder nbgrader build`
# from course.yml: rebuild rather than edit. Run nbgrader from this folder, with the course's
# virtual environment active (nbgrader calls `alembic` from PATH).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import CheckCellMetadata, ClearHiddenTests, ClearOutput, GetGrades, \\
    OverwriteKernelspec

from autograder.nbgrader_plugins import DeduplicateIdsKeepingLast, OverwriteCellsRestoringMissing

c = get_config()
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
# Lesson 3 trains a network: nbgrader's default of 30 s per cell is far too short.
c.Execute.timeout = {timeout}
c.Execute.kernel_name = "{kernel}"
# The students' own files: autograde must grade them, not put the source (stub) copies back.
c.Autograde.exclude_overwriting = {exclude}
# A student who deletes or duplicates a check cell loses that check's points, nothing more:
# the deleted cell is put back (and graded), a duplicate loses its grading metadata.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIdsKeepingLast, OverwriteKernelspec,
                                      OverwriteCellsRestoringMissing, CheckCellMetadata]
c.OverwriteCellsRestoringMissing.add_missing_cells = True
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
'''


def student_files(lesson: Lesson) -> list[str]:
    """The files of a lesson that students write (relative to the lesson folder)."""
    return sorted({f"ecglab/{module_file(e.module)}" for e in lesson.exercises})


def build_course(dest: str | os.PathLike, course: Course | None = None,
                 lessons: list[int] | None = None) -> Path:
    """Write the nbgrader course directory (see the module docstring) and return its path."""
    import nbformat

    course = course or load_course()
    dest = Path(dest).resolve()
    chosen = [l for l in course.lessons
              if (SOLUTIONS / "lessons" / f"{l.notebook}.py").is_file()
              and (lessons is None or l.number in lessons)]
    exclude = {l.id: student_files(l) for l in chosen}
    (dest / "source").mkdir(parents=True, exist_ok=True)
    (dest / "nbgrader_config.py").write_text(CONFIG.format(
        course_id=course.course_id, timeout=course.cell_timeout_seconds, kernel=course.kernel_name,
        exclude=repr(exclude)))
    for lesson in chosen:
        folder = dest / "source" / lesson.id
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        nbformat.write(lesson_notebook(lesson, course), folder / f"{lesson.notebook}.ipynb")
        solved = frozenset(l.number for l in course.lessons if l.number < lesson.number)
        write_package(folder / "ecglab", solved, course)
    return dest


def nbgrader_env() -> dict:
    """The environment for nbgrader: this interpreter's bin first on PATH (for `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(args: list[str], course_dir: str | os.PathLike, check: bool = True,
                 timeout: float | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course directory; raises with nbgrader's output on failure."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir,
                          env=env or nbgrader_env(), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def fingerprinted(text: str, lesson_id: str) -> str:
    """A release notebook with its fingerprint in ``metadata.ecg_course`` (see :mod:`autograder.generate`)."""
    import nbformat

    from .generate import notebook_fingerprint
    nb = nbformat.reads(text, as_version=4)
    nb.metadata["ecg_course"] = {"lesson": lesson_id, "fingerprint": notebook_fingerprint(nb)}
    return nbformat.writes(nb)


def release_notebooks(lessons_dir: str | os.PathLike, course: Course | None = None) -> list[Path]:
    """Regenerate ``lessons/*.ipynb``: each lesson's release notebook from nbgrader."""
    course = course or load_course()
    lessons_dir = Path(lessons_dir)
    lessons_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="ecglab-release-") as tmp:
        root = build_course(tmp, course)
        wanted = set()
        for lesson_dir in sorted((root / "source").iterdir()):
            run_nbgrader(["generate_assignment", lesson_dir.name, "--force", "--no-db"], root)
            for notebook in sorted((root / "release" / lesson_dir.name).glob("*.ipynb")):
                target = lessons_dir / notebook.name
                text = fingerprinted(notebook.read_text(), lesson_dir.name)
                if not target.is_file() or target.read_text() != text:
                    target.write_text(text)
                wanted.add(target)
                written.append(target)
        for stale in lessons_dir.glob("*.ipynb"):
            if stale not in wanted:
                stale.unlink()
    return written


# --- a class, graded by nbgrader end to end ------------------------------------------------------

def read_gradebook(course_dir: str | os.PathLike, assignment: str, course_id: str) -> dict:
    """``{student: {grade_id: score}}`` of an assignment, read from the course's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}",
                   course_id=course_id) as gradebook:
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            scores[student.id] = {grade.name: float(grade.score or 0.0)
                                  for notebook in submission.notebooks for grade in notebook.grades}
    return scores


def autograde_class(course_dir: str | os.PathLike, lesson_number: int, students: list,
                    course: Course | None = None) -> dict:
    """Release a lesson, hand in ``students`` (``autograder.submissions.Student``), autograde,
    generate feedback and export grades — the instructor's whole round, as nbgrader runs it.

    Returns
    -------
    dict with ``scores`` ({student: {grade_id: score}}), ``autograde_seconds``,
    ``autograde_returncode``, ``feedback`` (student -> HTML path), ``grades_csv`` and ``log``.
    """
    from .submissions import write_submission

    course = course or load_course()
    lesson = course.lesson(lesson_number)
    root = build_course(course_dir, course, lessons=[lesson_number])
    run_nbgrader(["generate_assignment", lesson.id, "--force"], root)
    release = root / "release" / lesson.id
    for student in students:
        write_submission(student, release, root / "submitted" / student.name / lesson.id, course)
    started = time.perf_counter()
    graded = run_nbgrader(["autograde", lesson.id, "--force"], root, check=False)
    seconds = time.perf_counter() - started
    run_nbgrader(["generate_feedback", lesson.id, "--force"], root, check=False)
    grades_csv = root / "grades.csv"
    run_nbgrader(["export", "--to", str(grades_csv)], root)
    feedback = {s.name: sorted((root / "feedback" / s.name / lesson.id).glob("*.html"))
                for s in students}
    return {"scores": read_gradebook(root, lesson.id, course.course_id),
            "autograde_seconds": seconds, "autograde_returncode": graded.returncode,
            "feedback": feedback, "grades_csv": grades_csv,
            "log": graded.stdout[-5000:] + graded.stderr[-5000:]}
