"""The exercise sheets tell the truth: every EXAMPLE in an exercise module's docstrings is a doctest
that the reference passes.

The docstrings are what students read (the stubs in ``ecglab/`` carry them unchanged), so an
example whose output is wrong teaches the wrong thing. Each exercise module of ``course.yml`` is
imported from the reference and its doctests are run there, with ``np`` at hand as in the sheets.
"""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest

from autograder.course import load_course
from autograder.reference import reference_module

COURSE = load_course()
MODULES = sorted({lesson.module for lesson in COURSE.lessons})


def _run_doctests(module) -> tuple[doctest.TestResults, str]:
    """Run every doctest of ``module``; returns the results and doctest's report of the failures."""
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in finder.find(module, extraglobs={"np": np}):
        runner.run(test, out=report.append)
    return doctest.TestResults(runner.failures, runner.tries), "".join(report)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_are_what_the_reference_gives(module):
    results, report = _run_doctests(reference_module(module))
    assert results.attempted > 0, f"ecglab/{module}.py: no doctest in its docstrings"
    assert results.failed == 0, f"ecglab/{module}.py: docstring examples that are wrong:\n{report}"


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_every_exercise_sheet_has_a_runnable_example(exercise):
    """An EXAMPLE section made of prose only would slip past the doctests above."""
    doc = inspect.getdoc(getattr(reference_module(exercise.module), exercise.function)) or ""
    assert "EXAMPLE:" in doc, f"{exercise.qualname} ({exercise.id}): its docstring has no EXAMPLE"
    example = doc.split("EXAMPLE:", 1)[1].split("HINT:", 1)[0]
    assert ">>> " in example, f"{exercise.qualname} ({exercise.id}): its EXAMPLE has no >>> lines"
