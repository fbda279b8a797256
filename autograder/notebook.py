"""The course inside the notebooks: the set-up cell, ``check()``, the reference fallback, saved work.

This is the grading side of a lesson notebook; the ``ecglab`` package itself never imports it.

``setup(lesson)``
    says which ``ecglab`` the notebook uses, where the data comes from (loudly when synthetic,
    with the command that fetches real data *here*), and which exercises of earlier lessons the
    lesson builds on are written yet. In Colab it restores work kept in Google Drive.
``check("1.2")``
    grades one exercise of the notebook's ``ecglab`` with the course's grader, prints a ✓/✗ line
    per case and explains the first failure (with a figure where one helps); it says when the
    exercise was graded with the reference versions of other exercises and where the student's own
    pipeline gives other results. Returns the points (which is how nbgrader reads a check cell).
``exercises("preprocess")``
    the functions of an exercise module, yours where written; in self-study, where one is not
    written yet (or where yours raises), the reference takes its place with a notice, so a lesson
    never gets stuck on an unfinished exercise. In grading mode (nbgrader sets
    ``NBGRADER_EXECUTION``) it never does.
``save_work()`` / ``restore_work()``
    keep the exercise modules in a folder (Google Drive in Colab) and bring them back after a
    runtime reset; ``setup(..., keep_on_drive=True)`` does both by itself.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import inspect
import io
import os
import shutil
import sys
import textwrap
import warnings
from pathlib import Path

#: Where Colab mounts Google Drive, and the folder in it that keeps a student's exercise modules.
DRIVE_MOUNT = Path("/content/drive")
DRIVE_FOLDER = "MyDrive/ecg-course-work"

_keep: dict = {"folder": None}   # set by setup(keep_on_drive=True) / save_work(): check() saves too


def grading_mode() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def in_colab() -> bool:
    return "google.colab" in sys.modules


def _ecglab():
    """The ``ecglab`` this notebook imported (the set-up cell put its folder first on sys.path)."""
    return importlib.import_module("ecglab")


def package_dir() -> Path:
    return Path(_ecglab().__file__).resolve().parent


# --- is an exercise written yet? -------------------------------------------------------------------

def _is_stub_function(node: ast.AST) -> bool:
    """A function whose body (after its docstring) is only ``raise NotImplementedError(...)``."""
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def implemented(obj) -> bool:
    """Whether a function or class of an exercise has been written (is no longer the stub).

    A class counts as written when none of its methods is still a stub.
    """
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return True  # cannot tell: trust the student's object
    node = tree.body[0]
    if isinstance(node, ast.ClassDef):
        methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return not any(_is_stub_function(m) for m in methods)
    return not _is_stub_function(node)


# --- the reference, for self-study ---------------------------------------------------------------

def reference_module(name: str):
    """A module of the reference (``solutions/`` over ``ecglab/``), or None where it is not at hand."""
    from .course import SOLUTIONS
    if not (SOLUTIONS / "ecglab" / "__init__.py").is_file():
        return None
    from .reference import reference_module as load
    return load(name)


class _Exercises:
    """Attribute access to an exercise module that falls back to the reference (see module doc)."""

    def __init__(self, module: str):
        self._module = module
        self._told: set[str] = set()

    def __getattr__(self, name: str):
        yours = getattr(importlib.import_module(f"ecglab.{self._module}"), name)
        if grading_mode():
            return yours
        reference = reference_module(self._module)
        if reference is None:
            return yours
        if implemented(yours):
            return self._explained(name, yours, getattr(reference, name)) \
                if inspect.isfunction(yours) else yours
        if name not in self._told:
            self._told.add(name)
            print(f"ℹ {name} is not written yet in ecglab/{self._module}.py: using the reference "
                  f"{name} so the lesson can go on. Write yours and run the cell again.")
        return getattr(reference, name)

    def _explained(self, name: str, yours, reference):
        """Your function; when it raises, the lesson says so and goes on with the reference."""

        told = self._told

        @functools.wraps(yours)
        def run(*args, **kwargs):
            try:
                return yours(*args, **kwargs)
            except Exception as exc:
                # each failure is told once: a cell that calls the function 16 times says it once
                problem = (name, type(exc).__name__, str(exc))
                first = problem not in told
                told.add(problem)
                if first:
                    print(f"✗ your {name} raised {type(exc).__name__}: {exc}")
            try:
                result = reference(*args, **kwargs)
            except Exception:
                print(f"  The reference {name} fails on this input too: the input is the problem. "
                      f"It comes from an earlier step of your pipeline; see the checks above.")
                raise
            if first:
                print(f"  This cell goes on with the reference {name}; fix yours and run it again.")
            return result

        return run

    def __dir__(self):
        return dir(importlib.import_module(f"ecglab.{self._module}"))


def exercises(module: str) -> _Exercises:
    """The functions of ``ecglab.<module>``: yours where written, else (self-study) the reference."""
    return _Exercises(module)


def network(name: str = "KachueeNet", n_classes: int = 5, exercises_used: tuple = ("2.2", "2.3"),
            grade: bool = True):
    """A fresh lesson-2 network for a later lesson: yours when it is written and passes its checks,
    else (self-study) the reference, with a notice that says why.

    ``grade``: run the checks of ``exercises_used`` first (a few seconds); without it, yours is
    used when it builds and runs on a batch of beats and has ``features`` and ``classifier``. In
    grading mode yours is always used (nbgrader's release carries lesson 2 solved).
    """
    import torch

    yours = getattr(importlib.import_module("ecglab.models"), name)
    reference = None if grading_mode() else reference_module("models")
    problem = "" if implemented(yours) else "is not written yet"
    if not problem and reference is not None:
        try:
            model = yours(n_classes=n_classes)
            with torch.no_grad():
                model(torch.zeros(2, 1, 187))
            missing = [p for p in ("features", "classifier")
                       if not isinstance(getattr(model, p, None), torch.nn.Module)]
            if missing:
                problem = f"has no {missing[0]!r}"
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {(str(exc) or '-').splitlines()[0][:120]}"
    if not problem and grade and reference is not None:
        from . import grader
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = grader.grade(package_dir().parent, exercises=list(exercises_used))
        failing = [e.id for e in report.exercises if not e.full_marks]
        if failing:
            problem = f"does not pass exercise {' and '.join(failing)} yet"
    if problem and reference is not None:
        print(f"ℹ your {name} {problem}: this lesson uses the reference {name} — finish lesson 2 "
              f"(check(\"2.3\")) to use yours")
        return getattr(reference, name)(n_classes=n_classes)
    if not problem:
        print(f"✓ using your {name} from lesson 2")
    return yours(n_classes=n_classes)


# --- set-up ----------------------------------------------------------------------------------------

def fetch_hint(database: str = "mitbih") -> str:
    """The command that fetches real data into the data directory this notebook reads, as it is
    typed *here*: a ``!`` cell in Colab, a terminal command elsewhere."""
    root = package_dir().parent
    if in_colab():
        return f"run a cell with: !cd {root} && python -m ecglab data fetch {database}"
    return f"in a terminal, in {root}: python -m ecglab data fetch {database} (or set ECGLAB_DATA)"


def setup(lesson: int, keep_on_drive: bool = False) -> None:
    """Print what the lesson works with: package, data, grading mode, earlier exercises.

    Parameters
    ----------
    lesson : int
        The lesson's number.
    keep_on_drive : bool
        In Colab: keep your exercise modules in Google Drive (Colab asks for permission once),
        restore them now if a saved copy is there, and save them again after every check.
    """
    from ecglab import data
    from ecglab.config import data_dir

    from .course import load_course

    print(f"ecglab from {package_dir()}")
    if grading_mode():
        print(f"grading mode ({os.environ['NBGRADER_EXECUTION']}): figures and long runs are "
              f"skipped, and nothing falls back to the reference")
    if keep_on_drive and in_colab() and not grading_mode():
        restore_work(_drive_folder(mount=True))
    source = data.mitbih_source()
    if source == "generator":
        print(f"*** SYNTHETIC DATA *** no MIT-BIH records or Kaggle CSVs were found in {data_dir()}:\n"
              f"    the lesson uses ecglab's synthetic ECG generator, and its numbers are those of\n"
              f"    synthetic signals, not of patients. For real data, {fetch_hint()}.")
    else:
        print(f"data: real MIT-BIH ({'PhysioNet records' if source == 'wfdb' else 'Kaggle CSVs'}) "
              f"in {data_dir()}")
    if in_colab() and not keep_on_drive and not grading_mode():
        print("ℹ Colab forgets your files when the runtime is reset: run save_work() to keep your "
              "exercise modules in Google Drive\n  (or set keep_on_drive=True in the set-up cell).")
    course = load_course()
    by_id = {e.id: e for e in course.exercises}
    for exercise_id in course.lesson(lesson).uses:
        exercise = by_id[exercise_id]
        yours = getattr(importlib.import_module(f"ecglab.{exercise.module}"), exercise.function)
        if implemented(yours):
            print(f"✓ exercise {exercise_id} ({exercise.function}): using yours")
        elif not grading_mode() and reference_module(exercise.module) is not None:
            print(f"ℹ exercise {exercise_id} ({exercise.function}) is not written yet: using the "
                  f"reference {exercise.function} — finish exercise {exercise_id} to use yours")
        else:
            print(f"✗ exercise {exercise_id} ({exercise.function}) is not written yet, and this "
                  f"lesson needs it")


# --- keeping work across Colab runtime resets ------------------------------------------------------

def _drive_folder(mount: bool) -> Path:
    if mount and not (DRIVE_MOUNT / "MyDrive").is_dir():
        from google.colab import drive  # Colab asks the student for permission here
        drive.mount(str(DRIVE_MOUNT))
    return DRIVE_MOUNT / DRIVE_FOLDER


def _exercise_files() -> list[Path]:
    from .course import load_course, module_file
    package = package_dir()
    files = [package / module_file(lesson.module) for lesson in load_course().lessons]
    return [path for path in files if path.is_file()]


def save_work(folder: str | os.PathLike | None = None, quiet: bool = False) -> list[Path]:
    """Copy the exercise modules you have edited to ``folder`` (default: Google Drive in Colab).

    From then on every ``check()`` saves them again. Returns the files written.
    """
    from .generate import module_is_generated
    if folder is None:
        if not in_colab():
            raise ValueError("save_work(): outside Colab, name the folder: save_work('my-backup')")
        folder = _drive_folder(mount=True)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _keep["folder"] = folder
    saved = []
    for path in _exercise_files():
        if not module_is_generated(path.read_text()):     # an untouched stub is not work
            shutil.copy2(path, folder / path.name)
            saved.append(folder / path.name)
    if not quiet:
        names = ", ".join(p.name for p in saved) or "nothing edited yet"
        print(f"✓ saved to {folder}: {names}; check() keeps saving there")
    return saved


def restore_work(folder: str | os.PathLike | None = None) -> list[Path]:
    """Bring back exercise modules saved by :func:`save_work`, where yours is still the stub.

    A module you have edited here is never replaced: when both differ, yours stays and the saved
    one is named. Returns the files restored.
    """
    from .generate import module_is_generated
    if folder is None:
        folder = _drive_folder(mount=True) if in_colab() else None
    if folder is None:
        raise ValueError("restore_work(): outside Colab, name the folder: restore_work('my-backup')")
    folder = Path(folder)
    _keep["folder"] = folder
    restored = []
    for path in _exercise_files():
        saved = folder / path.name
        if not saved.is_file() or saved.read_text() == path.read_text():
            continue
        if module_is_generated(path.read_text()):
            shutil.copy2(saved, path)
            restored.append(path)
        else:
            print(f"ℹ kept your {path.name} here; the copy saved in {folder} differs (not restored)")
    if restored:
        # (the set-up cell's %autoreload picks the restored modules up)
        print(f"✓ restored from {folder}: {', '.join(p.name for p in restored)}")
    elif folder.is_dir():
        print(f"✓ your exercise modules are kept in {folder}")
    return restored


# --- check ---------------------------------------------------------------------------------------

class Points(float):
    """The points of a check cell: a float (nbgrader reads the plain-text form as the cell's
    partial credit) that shows nothing in a notebook, where the printed summary says it all."""

    def _repr_html_(self) -> str:
        return ""


def check(exercise_id: str, figures: bool | None = None) -> Points:
    """Grade exercise ``exercise_id`` of this notebook's ``ecglab`` and print what passed and what not.

    Parameters
    ----------
    exercise_id : str
        ``"1.2"`` etc. (see ``course.yml``).
    figures : bool, optional
        Draw a figure of the first failure where it helps; default: yes, except in grading mode.

    Returns
    -------
    Points (a float)
        Points earned, between 0 and the exercise's points.
    """
    from . import grader
    impl = package_dir().parent
    # Nothing may reach stderr in a check cell: nbgrader scores a cell with stderr output 0.
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = grader.grade(impl, exercises=[exercise_id])
        except Exception as exc:  # a broken environment must not look like a student mistake
            print(f"✗ the check of exercise {exercise_id} could not run: {type(exc).__name__}: {exc}")
            return Points(0.0)
    result = report.exercises[0]
    print(grader.exercise_summary(result))
    if figures is None:
        figures = not grading_mode()
    failed = next((c for c in result.cases if not c.passed and c.figure), None)
    if figures and failed is not None and result.status != "not-implemented":
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from .feedback import draw
            draw(failed)
    if _keep["folder"] is not None and not grading_mode():
        with contextlib.suppress(OSError):
            save_work(_keep["folder"], quiet=True)
    return Points(min(result.max, max(0.0, result.points)))


__all__ = ["setup", "check", "exercises", "network", "grading_mode", "save_work", "restore_work"]
