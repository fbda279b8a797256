"""Generate the student side of the course from ``solutions/``, the single source of truth.

What is where:

* ``solutions/ecglab/<module>.py``: the exercise modules (one per lesson, named in ``course.yml``),
  reference bodies between ``### BEGIN SOLUTION`` / ``### END SOLUTION``;
* ``solutions/lessons/NN_*.py``: the lesson sources (jupytext percent files);
* ``ecglab/``: the ready-made package, written by hand, *plus* the generated exercise modules.

Generated (``python -m autograder generate``), and only these:

* ``ecglab/<module>.py``: every solution region becomes a stub that raises ``NotImplementedError``
  naming the exercise and the lesson; signatures and docstrings stay;
* ``lessons/NN_*.ipynb``: through ``nbgrader generate_assignment`` (:mod:`autograder.nbgrader_course`).

Every generated file carries a *fingerprint* of what was generated (a header line of a module, the
notebook's ``metadata.ecg_course``), so the generator can tell a file it wrote from a file someone
edited since: it never replaces an edited file (a student's work) unless told to with ``force``,
and then it moves the edited file to a dated backup first.

The reference package is the two together (``solutions/ecglab/__init__.py`` overlays the exercise
modules on ``ecglab/``); :func:`render_package` makes self-contained copies of it with chosen
lessons solved, for the nbgrader folders and the simulated students.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .course import REPO, SOLUTIONS, Course, load_course, module_file

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PACKAGE = "ecglab"
#: Files the generator leaves in a package folder when it moves an edited one aside.
BACKUP_SUFFIX = ".bak"
FINGERPRINT = re.compile(r"^# .*\(fingerprint ([0-9a-f]{12})\)\s*$")


class GenerateError(ValueError):
    """A problem in a source file under ``solutions/``; the message names file and line."""


# --- stripping solution regions --------------------------------------------------------------------

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
    """Replace the solution regions of one module by stubs (or keep them, for solved exercises).

    Parameters
    ----------
    text : str
        The module's source.
    path : Path
        For error messages.
    module : str
        The module's name inside ``ecglab`` (``"preprocess"``).
    solved : set of str
        Exercise ids whose regions keep their solution (only the marker lines go).

    Returns
    -------
    str, the student's version; it is compiled to make sure it is still valid Python.
    """
    spans = _enclosing_definitions(ast.parse(text, filename=str(path)))
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    regions = set()
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
        regions.add(exercise.id)
        if exercise.id in solved:
            out.extend(lines[i + 1: end])
        else:
            out.extend(stub_lines(indent, exercise))
        i = end + 1
    missing = [e.id for e in course.exercises if e.module == module and e.id not in regions]
    if missing:
        raise GenerateError(f"{path}: no solution region for exercise(s) {', '.join(missing)} of "
                            f"course.yml (put the body between {BEGIN} and {END})")
    result = "".join(out)
    try:
        compile(result, str(path), "exec")
    except SyntaxError as exc:
        raise GenerateError(f"{path}: the stripped file does not compile: {exc}") from None
    return result


def has_solutions(text: str) -> bool:
    return any(line.strip() == BEGIN for line in text.splitlines())


# --- fingerprints: generated or edited? ------------------------------------------------------------

def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _module_header(module: str, lesson: int, solved: bool) -> str:
    what = (f"Exercise module of lesson {lesson}, solved (a later lesson builds on it)." if solved
            else f"Exercise module of lesson {lesson}: write your code where it says YOUR CODE HERE.")
    return (f"# {what}\n"
            f"# Made from solutions/{PACKAGE}/{module}.py by `python -m autograder generate`, which\n"
            f"# never replaces a copy you have edited. (fingerprint {{}})\n")


def with_fingerprint(header: str, body: str) -> str:
    """``header`` (with a ``{}`` for the fingerprint) + ``body``; the fingerprint is the body's."""
    return header.format(_digest(body)) + body


def module_is_generated(text: str) -> bool:
    """True when a module is exactly as the generator wrote it (its body matches its fingerprint)."""
    head = text.splitlines(keepends=True)[:3]
    match = FINGERPRINT.match(head[-1]) if len(head) == 3 else None
    return bool(match) and _digest(text[len("".join(head)):]) == match.group(1)


def notebook_fingerprint(nb) -> str:
    """The fingerprint of a notebook: its canonical JSON without ``metadata.ecg_course``."""
    import copy

    import nbformat
    nb = copy.deepcopy(nb)
    nb.metadata.pop("ecg_course", None)
    return _digest(nbformat.writes(nb))


def notebook_is_generated(text: str) -> bool:
    """True when a notebook is as the generator wrote it (outputs, edits or a broken file: False)."""
    import nbformat
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception:  # not a notebook any more: someone's edit, never overwrite it silently
        return False
    recorded = nb.metadata.get("ecg_course", {}).get("fingerprint")
    return recorded is not None and recorded == notebook_fingerprint(nb)


def is_generated(path: Path, text: str) -> bool:
    return notebook_is_generated(text) if path.suffix == ".ipynb" else module_is_generated(text)


# --- what is generated -----------------------------------------------------------------------------

def exercise_modules(course: Course | None = None) -> dict[str, Path]:
    """``{module: solutions source}`` of the exercise modules, checked against ``solutions/``.

    Raises GenerateError for a module of ``course.yml`` without a source, and for a file in
    ``solutions/ecglab`` that is not an exercise module (ready-made code belongs in ``ecglab/``).
    """
    course = course or load_course()
    source = SOLUTIONS / PACKAGE
    modules = {lesson.module: source / module_file(lesson.module) for lesson in course.lessons}
    for module, path in modules.items():
        if not path.is_file():
            raise GenerateError(f"{path}: missing; course.yml names {module!r} as an exercise module")
    extra = sorted(p for p in source.rglob("*.py") if "__pycache__" not in p.parts
                   and p.name != "__init__.py" and p not in modules.values())
    if extra:
        raise GenerateError(f"{extra[0]}: not an exercise module of course.yml; solutions/{PACKAGE}/ "
                            f"holds only those (ready-made code is written in {PACKAGE}/)")
    return modules


def render_module(module: str, course: Course | None = None, solved=frozenset()) -> str:
    """The generated text of one exercise module, with the ``solved`` exercise ids solved."""
    course = course or load_course()
    path = exercise_modules(course)[module]
    lesson = next(l for l in course.lessons if l.module == module)
    body = strip_source(path.read_text(), path, module, course, solved)
    all_solved = all(e.id in solved for e in lesson.exercises)
    return with_fingerprint(_module_header(module, lesson.number, all_solved), body)


def ready_made_files(package: Path = REPO / PACKAGE, course: Course | None = None) -> list[Path]:
    """The hand-written files of ``ecglab/``: everything but the generated exercise modules."""
    course = course or load_course()
    generated = {package / module_file(m) for m in exercise_modules(course)}
    return sorted(p for p in package.rglob("*") if p.is_file() and p not in generated
                  and "__pycache__" not in p.parts and p.suffix not in (".pyc", BACKUP_SUFFIX))


def render_package(solved_lessons=frozenset(), course: Course | None = None,
                   solved_exercises=frozenset()) -> dict[str, str]:
    """``{relative path: text}`` of a self-contained student copy of ``ecglab``.

    The ready-made files as they are, the exercise modules generated with the exercises of
    ``solved_lessons`` and the ``solved_exercises`` solved.
    """
    course = course or load_course()
    solved = {e.id for e in course.exercises if e.lesson in solved_lessons} | set(solved_exercises)
    package = REPO / PACKAGE
    files = {str(p.relative_to(package)): p.read_text() for p in ready_made_files(package, course)}
    for module in exercise_modules(course):
        files[module_file(module)] = render_module(module, course, solved)
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
    """Write a self-contained copy of ``ecglab`` to ``dest`` with ``solved_lessons`` solved."""
    return write_tree(render_package(solved_lessons, course, solved_exercises=solved_exercises), dest)


def fresh_files(repo: Path = REPO, notebooks: bool = True, course: Course | None = None) -> dict[Path, str]:
    """``{path in repo: text}`` of every generated file, as a fresh generation makes it."""
    import tempfile

    course = course or load_course()
    from .checks import validate
    validate(course)
    files = {repo / PACKAGE / module_file(m): render_module(m, course)
             for m in exercise_modules(course)}
    if notebooks:
        from .nbgrader_course import release_notebooks
        with tempfile.TemporaryDirectory() as tmp:
            for path in release_notebooks(Path(tmp), course):
                files[repo / "lessons" / path.name] = path.read_text()
    return files


# --- generate, never losing an edit ----------------------------------------------------------------

@dataclass
class Generated:
    """What :func:`generate` did: files written, edited files kept (or backed up with ``force``)."""

    written: list
    unchanged: list
    kept: list          # edited files left as they are (the generation was refused for them)
    backups: dict       # edited file -> its backup (with ``force``)
    removed: list       # stale generated notebooks of lessons that no longer exist

    def message(self, repo: Path = REPO) -> str:
        rel = lambda p: str(Path(p).relative_to(repo)) if Path(p).is_relative_to(repo) else str(p)
        lines = [f"generated {len(self.written)} file(s), {len(self.unchanged)} already up to date"]
        for path, backup in self.backups.items():
            lines.append(f"  {rel(path)} held edits: moved to {rel(backup)}, then regenerated")
        for path in self.kept:
            lines.append(f"✗ {rel(path)} holds edits (your work?) that differ from what solutions/ "
                         f"generates: left as it is.")
        if self.kept:
            it = "it" if len(self.kept) == 1 else "them"
            lines.append(f"  Keep working in {it}: nothing is lost, and `python -m autograder check` "
                         f"grades your code as it is.\n  To replace {it} with the fresh version "
                         "anyway, run `python -m autograder generate --force`: it moves your copy "
                         f"to a dated backup (NAME.YYYYmmdd-HHMMSS{BACKUP_SUFFIX}) first.")
        return "\n".join(lines)


def _backup_path(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = path.with_name(f"{path.name}.{stamp}{BACKUP_SUFFIX}"), 1
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}.{stamp}-{n}{BACKUP_SUFFIX}"), n + 1
    return candidate


def generate(repo: Path = REPO, notebooks: bool = True, force: bool = False) -> Generated:
    """Regenerate the exercise modules of ``ecglab/`` and the notebooks of ``lessons/``.

    A file that differs both from what it was generated as (its fingerprint) and from the fresh
    generation is someone's edit: it is kept, and listed in ``Generated.kept``; with
    ``force=True`` it is moved to ``NAME.<date-time>.bak`` beside itself and regenerated.
    """
    course = load_course()
    done = Generated([], [], [], {}, [])
    fresh = fresh_files(repo, notebooks, course)
    for path, text in fresh.items():
        current = path.read_text() if path.is_file() else None
        if current == text:
            done.unchanged.append(path)
            continue
        if current is not None and not is_generated(path, current):
            if not force:
                done.kept.append(path)
                continue
            backup = _backup_path(path)
            path.rename(backup)
            done.backups[path] = backup
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        done.written.append(path)
    if notebooks:
        for stale in sorted((repo / "lessons").glob("*.ipynb")):
            if stale not in fresh and notebook_is_generated(stale.read_text()):
                stale.unlink()
                done.removed.append(stale)
    return done


# --- in sync? --------------------------------------------------------------------------------------

@dataclass
class Drift:
    """A generated file that is not what a fresh generation makes.

    ``kind``: ``"stale"`` (generated from an older ``solutions/``: regenerating is safe),
    ``"edited"`` (someone changed the generated file: a student's work, or a hand edit),
    ``"missing"`` or ``"extra"`` (a notebook of no lesson).
    """

    path: str
    kind: str

    def __str__(self) -> str:
        return f"{self.path} ({self.kind})"


def out_of_sync(repo: Path = REPO, notebooks: bool = True, fresh: dict | None = None) -> list[Drift]:
    """The generated files of ``repo`` that a fresh generation would change, add or remove.

    The check behind ``make demo`` and the test suite: empty when the exercise modules in
    ``ecglab/`` and the notebooks in ``lessons/`` are exactly what ``solutions/`` generates.
    ``fresh``: the result of :func:`fresh_files` for ``repo``, where the caller has it already.
    """
    fresh = fresh if fresh is not None else fresh_files(repo, notebooks)
    drift = []
    for path, text in fresh.items():
        rel = str(path.relative_to(repo))
        if not path.is_file():
            drift.append(Drift(rel, "missing"))
        elif path.read_text() != text:
            drift.append(Drift(rel, "stale" if is_generated(path, path.read_text()) else "edited"))
    if notebooks:
        for extra in sorted((repo / "lessons").glob("*.ipynb")):
            if extra not in fresh:
                drift.append(Drift(str(extra.relative_to(repo)), "extra"))
    return drift


def drift_message(drift: list[Drift]) -> str:
    """What a contributor (and a student who ran the tests) reads about files out of sync."""
    stale = [d for d in drift if d.kind != "edited"]
    edited = [d for d in drift if d.kind == "edited"]
    lines = []
    if stale:
        lines.append("generated from an older solutions/ (contributors: run `python -m autograder "
                     "generate`, which keeps edited files): " + ", ".join(map(str, stale)))
    if edited:
        lines.append("edited after generation: " + ", ".join(d.path for d in edited) + ". "
                     "If this is your exercise work, it is safe: grade it with `python -m autograder "
                     "check`. Contributors: generated files are never edited by hand; change "
                     "solutions/ and regenerate.")
    return "\n".join(lines)

