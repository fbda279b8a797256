"""Every lesson runs top to bottom: with the reference, in grading mode, and on the bare stubs
(self-study: the reference stands in for what is not written yet, with a notice)."""

from __future__ import annotations

import pytest

from autograder.lessons import run_lessons

from .conftest import REPO, SOLUTIONS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("impl,grading", [(SOLUTIONS, False), (SOLUTIONS, True), (REPO, False)],
                         ids=["reference", "reference-grading-mode", "stubs-self-study"])
def test_lessons_run_to_the_end(impl, grading):
    results = run_lessons(impl, grading=grading)
    assert results, "no lesson notebook found"
    for result in results:
        assert result["ok"], f"lesson {result['lesson']}: {result['error']}"
