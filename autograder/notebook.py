"""The course inside the notebooks: the set-up cell, ``check()`` and the reference fallback.

``setup(lesson)``
    says which ``ecglab`` the notebook uses, where the data comes from (loudly when synthetic)
    and which exercises of earlier lessons the lesson builds on are written yet.
``check("1.2")``
    grades one exercise of *this* ``ecglab`` with the course's grader, prints a ✓/✗ line per
    case and explains the first failure (with a figure where one helps); returns the points as a
    plain float, which is also how nbgrader reads a check cell's score.
``exercises("preprocess")``
    the functions of an exercise module, yours where written; in self-study, where one is not
    written yet, the reference takes its place with a notice, so a lesson never gets stuck on an
    unfinished exercise. In grading mode (nbgrader sets ``NBGRADER_EXECUTION``) it never does.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import io
import os
import sys
import textwrap
import warnings
from pathlib import Path

from .config import data_dir, package_dir, repository_root

REFERENCE_ALIAS = "_ecglab_reference"


def grading_mode() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


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
    """A module of the reference solutions (``solutions/ecglab``), imported under its own name.

    Returns None when the reference is not at hand (an nbgrader release, an installed package).
    """
    root = repository_root()
    init = root / "solutions" / "ecglab" / "__init__.py" if root else None
    if init is None or not init.is_file():
        return None
    if REFERENCE_ALIAS not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            REFERENCE_ALIAS, init, submodule_search_locations=[str(init.parent)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[REFERENCE_ALIAS] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{REFERENCE_ALIAS}.{name}")


class _Exercises:
    """Attribute access to an exercise module that falls back to the reference (see module doc)."""

    def __init__(self, module: str):
        self._module = module
        self._told: set[str] = set()

    def __getattr__(self, name: str):
        yours = getattr(importlib.import_module(f"{__package__}.{self._module}"), name)
        if implemented(yours) or grading_mode():
            return yours
        reference = reference_module(self._module)
        if reference is None:
            return yours
        if name not in self._told:
            self._told.add(name)
            print(f"ℹ {name} is not written yet in ecglab/{self._module}.py: using the reference "
                  f"{name} so the lesson can go on. Write yours and run the cell again.")
        return getattr(reference, name)

    def __dir__(self):
        return dir(importlib.import_module(f"{__package__}.{self._module}"))


def exercises(module: str) -> _Exercises:
    """The functions of ``ecglab.<module>``: yours where written, else (self-study) the reference."""
    return _Exercises(module)


# --- set-up ----------------------------------------------------------------------------------------

def _course_manifest() -> dict | None:
    root = repository_root()
    if root is None:
        return None
    import yaml
    return yaml.safe_load((root / "course.yml").read_text())


def setup(lesson: int) -> None:
    """Print what the lesson works with: package, data, grading mode, earlier exercises."""
    from . import data

    print(f"ecglab from {package_dir()}")
    if grading_mode():
        print(f"grading mode ({os.environ['NBGRADER_EXECUTION']}): figures and long runs are "
              f"skipped, and nothing falls back to the reference")
    source = data.mitbih_source()
    if source == "generator":
        print("*** SYNTHETIC DATA *** no MIT-BIH records or Kaggle CSVs were found in "
              f"{data_dir()}: the lessons use ecglab's synthetic ECG generator.\n"
              "    For real data: `python -m ecglab data fetch mitbih` (or set ECGLAB_DATA).")
    else:
        print(f"data: real MIT-BIH ({'PhysioNet records' if source == 'wfdb' else 'Kaggle CSVs'}) "
              f"in {data_dir()}")
    manifest = _course_manifest()
    if manifest is None:
        return
    entry = next((l for l in manifest["lessons"] if int(l["number"]) == lesson), None)
    uses = [str(u) for u in (entry or {}).get("uses", [])]
    by_id = {str(e["id"]): (l["module"], e["function"])
             for l in manifest["lessons"] for e in l["exercises"]}
    for exercise_id in uses:
        module, name = by_id[exercise_id]
        yours = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        if implemented(yours):
            print(f"✓ exercise {exercise_id} ({name}): using yours")
        elif not grading_mode() and reference_module(module) is not None:
            print(f"ℹ exercise {exercise_id} ({name}) is not written yet: using the reference "
                  f"{name} — finish exercise {exercise_id} to use yours")
        else:
            print(f"✗ exercise {exercise_id} ({name}) is not written yet, and this lesson needs it")


# --- check ---------------------------------------------------------------------------------------

def check(exercise_id: str, figures: bool | None = None) -> float:
    """Grade exercise ``exercise_id`` of this ``ecglab`` and print what passed and what did not.

    Parameters
    ----------
    exercise_id : str
        ``"1.2"`` etc. (see ``course.yml``).
    figures : bool, optional
        Draw a figure of the first failure where it helps; default: yes, except in grading mode.

    Returns
    -------
    float
        Points earned, between 0 and the exercise's points.
    """
    try:
        import autograder.grader as grader
    except ImportError:
        print("✗ cannot check: the course's autograder is not importable here. Run the set-up "
              "cell first (it puts the course repository on the path).")
        return 0.0
    impl = package_dir().parent
    # Nothing may reach stderr in a check cell: nbgrader scores a cell with stderr output 0.
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = grader.grade(impl, exercises=[exercise_id])
        except Exception as exc:  # a broken environment must not look like a student mistake
            print(f"✗ the check of exercise {exercise_id} could not run: {type(exc).__name__}: {exc}")
            return 0.0
    result = report.exercises[0]
    print(grader.exercise_summary(result))
    if figures is None:
        figures = not grading_mode()
    failed = next((c for c in result.cases if not c.passed and c.figure), None)
    if figures and failed is not None:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from autograder.feedback import draw
            draw(failed)
    return float(min(result.max, max(0.0, result.points)))
