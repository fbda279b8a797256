"""Generate the student side of the course from ``solutions/``, the single source of truth.

* ``solutions/ecglab/**.py``  ->  ``ecglab/**.py``: every ``### BEGIN SOLUTION`` ...
  ``### END SOLUTION`` region becomes a stub that raises ``NotImplementedError`` naming the
  exercise and the lesson; signatures and docstrings stay. Files without solution regions are
  copied with a first line that says where to edit them.
* ``solutions/lessons/NN_*.py`` (jupytext percent files with nbgrader cell metadata) ->
  ``lessons/NN_*.ipynb``, through ``nbgrader generate_assignment`` (see :mod:`autograder.nbgrader_course`).

The same stripping makes the ``ecglab`` copy of each lesson's nbgrader folder, in which the
earlier lessons are solved (see :func:`write_package`).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from .course import REPO, SOLUTIONS, Course, load_course

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PACKAGE = "ecglab"


class GenerateError(ValueError):
    """A problem in a source file under ``solutions/``; the message names file and line."""


def _enclosing_definitions(tree: ast.AST) -> list[tuple[int, int, str]]:
    """``(first line, last line, name)`` of every function and class, outermost first."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            spans.append((node.lineno, node.end_lineno, node.name))
    return spans


def _exercise_at(line: int, spans, module: str, course: Course, path: Path):
    """The exercise whose function or class encloses ``line``."""
    names = [name for first, last, name in spans if first <= line <= last]
    for ex in course.exercises:
        if ex.module == module and ex.function in names:
            return ex
    raise GenerateError(f"{path}:{line}: a solution region outside every exercise of course.yml "
                        f"(inside {'.'.join(names) or 'module level'})")


def stub_lines(indent: str, exercise) -> list[str]:
    """The student's stub for one solution region."""
    return [
        f"{indent}# YOUR CODE HERE\n",
        f'{indent}raise NotImplementedError("exercise {exercise.id} (lesson {exercise.lesson}): '
        f'write {exercise.function}")\n',
    ]


def strip_source(text: str, path: Path, module: str, course: Course, solved=frozenset()) -> str:
    """Replace the solution regions of one module by stubs (or keep them, for solved lessons).

    Parameters
    ----------
    text : str
        The module's source.
    path : Path
        For error messages.
    module : str
        The module's dotted name inside ``ecglab`` (``"preprocess"``, ``"data.beats"``).
    solved : set of str
        Exercise ids whose regions keep their solution (only the marker lines go).

    Returns
    -------
    str, the student's version; it is compiled to make sure it is still valid Python.
    """
    spans = _enclosing_definitions(ast.parse(text, filename=str(path)))
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == END:
            raise GenerateError(f"{path}:{i + 1}: {END} without {BEGIN}")
        if line.strip() != BEGIN:
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() in (BEGIN, END)), None)
        if end is None or lines[end].strip() != END:
            raise GenerateError(f"{path}:{i + 1}: {BEGIN} without a matching {END}")
        exercise = _exercise_at(i + 1, spans, module, course, path)
        if exercise.id in solved:
            out.extend(lines[i + 1: end])
        else:
            out.extend(stub_lines(indent, exercise))
        i = end + 1
    result = "".join(out)
    try:
        compile(result, str(path), "exec")
    except SyntaxError as exc:
        raise GenerateError(f"{path}: the stripped file does not compile: {exc}") from None
    return result


def has_solutions(text: str) -> bool:
    return any(line.strip() == BEGIN for line in text.splitlines())


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def package_files(source: Path = SOLUTIONS / PACKAGE) -> list[Path]:
    """The files of the reference package that the student copy holds (no caches)."""
    return sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix != ".pyc")


def render_package(solved_lessons=frozenset(), course: Course | None = None,
                   source: Path = SOLUTIONS / PACKAGE, solved_exercises=frozenset()) -> dict[str, str]:
    """``{relative path: text}`` of the student copy of the package.

    The exercises of ``solved_lessons`` and the ``solved_exercises`` keep their solutions.
    """
    course = course or load_course()
    solved = {e.id for e in course.exercises if e.lesson in solved_lessons} | set(solved_exercises)
    files = {}
    for path in package_files(source):
        rel = path.relative_to(source)
        text = path.read_text()
        if path.suffix == ".py" and has_solutions(text):
            files[str(rel)] = strip_source(text, path, _module_name(path, source), course, solved)
        elif path.suffix == ".py":
            files[str(rel)] = (f"# Generated from solutions/{PACKAGE}/{rel} by `python -m autograder "
                               f"generate`: edit that file, not this one.\n") + text
        else:
            files[str(rel)] = text
    return files


def write_tree(files: dict[str, str], dest: Path) -> list[Path]:
    """Make ``dest`` hold exactly ``files`` (stale files removed); returns the paths written."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {dest / rel for rel in files}
    for old in sorted(dest.rglob("*"), reverse=True):
        if old.is_file() and old not in wanted and "__pycache__" not in old.parts:
            old.unlink()
        elif old.is_dir() and old.name == "__pycache__":
            shutil.rmtree(old)
        elif old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    written = []
    for rel, text in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text() != text:
            target.write_text(text)
        written.append(target)
    return written


def write_package(dest: Path, solved_lessons=frozenset(), course: Course | None = None,
                  solved_exercises=frozenset()) -> list[Path]:
    """Write a student copy of ``ecglab`` to ``dest`` with ``solved_lessons`` solved."""
    return write_tree(render_package(solved_lessons, course, solved_exercises=solved_exercises), dest)


def lesson_sources(course: Course | None = None) -> dict[int, Path]:
    """Lesson number -> its jupytext source in ``solutions/lessons``, for the lessons that have one."""
    course = course or load_course()
    found = {}
    for lesson in course.lessons:
        path = SOLUTIONS / "lessons" / f"{lesson.notebook}.py"
        if path.is_file():
            found[lesson.number] = path
    return found


def generate(repo: Path = REPO, notebooks: bool = True) -> list[Path]:
    """Regenerate ``ecglab/`` and ``lessons/`` in ``repo``; returns the generated paths."""
    course = load_course()
    written = write_package(repo / PACKAGE, frozenset(), course)
    if notebooks:
        from .nbgrader_course import release_notebooks
        written += release_notebooks(repo / "lessons", course)
    return written



def out_of_sync(repo: Path = REPO, notebooks: bool = True) -> list[str]:
    """Generated files of ``repo`` that a fresh generation would change, add or remove.

    The check behind ``make demo`` and the test suite: empty when ``ecglab/`` and ``lessons/``
    are exactly what ``solutions/`` generates.
    """
    import tempfile

    def compare(fresh: dict[str, bytes], folder: Path, pattern: str) -> list[str]:
        skip = {"__pycache__", ".ipynb_checkpoints"}
        committed = {str(p.relative_to(folder)): p.read_bytes() for p in folder.glob(pattern)
                     if p.is_file() and not skip & set(p.parts)} if folder.is_dir() else {}
        return sorted(f"{folder.name}/{rel}" for rel in set(fresh) | set(committed)
                      if fresh.get(rel) != committed.get(rel))

    files = {rel: text.encode() for rel, text in render_package().items()}
    stale = compare(files, repo / PACKAGE, "**/*")
    if notebooks:
        from .nbgrader_course import release_notebooks
        with tempfile.TemporaryDirectory() as tmp:
            fresh = {p.name: p.read_bytes() for p in release_notebooks(Path(tmp))}
        stale += compare(fresh, repo / "lessons", "*.ipynb")
    return stale
