"""Every lesson runs top to bottom: with the reference, in grading mode, and on the bare stubs
(self-study: the reference stands in for what is not written yet, with a notice).

The notebooks and the stubs are freshly generated, not the working copy's: ``lessons/`` and
``ecglab/`` may hold a student's work, which is theirs to run.
"""

from __future__ import annotations

import pytest

from autograder.generate import write_package
from autograder.lessons import run_lessons
from autograder.nbgrader_course import release_notebooks

from .conftest import SOLUTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``(folder of fresh lesson notebooks, folder with freshly generated stubs)``."""
    root = tmp_path_factory.mktemp("fresh")
    release_notebooks(root / "lessons")
    write_package(root / "stubs" / "ecglab")
    return root / "lessons", root / "stubs"


@pytest.mark.parametrize("which,grading", [("reference", False), ("reference", True), ("stubs", False)],
                         ids=["reference", "reference-grading-mode", "stubs-self-study"])
def test_lessons_run_to_the_end(fresh, which, grading):
    """The stubs run with ECGLAB_QUICK (small training settings): what is tested there is that
    every reference fallback works, which the settings do not change."""
    notebooks, stubs = fresh
    results = run_lessons(SOLUTIONS if which == "reference" else stubs, grading=grading,
                          notebooks=notebooks, quick=which == "stubs")
    assert results, "no lesson notebook found"
    for result in results:
        assert result["ok"], f"lesson {result['lesson']}: {result['error']}"


def test_lesson5_runs_under_colabs_ipywidgets(fresh, monkeypatch):
    """Colab pins ipywidgets 7.7.1: lesson 5's explorers must run there too (the kernel gets a
    small second environment with 7.7.1 first on its path, see tests/widget_kernel.py)."""
    from .widget_kernel import IPYWIDGETS7, WidgetsUnavailable, ipywidgets7_env

    try:
        env = ipywidgets7_env()
    except WidgetsUnavailable as exc:
        pytest.skip(f"ipywidgets {IPYWIDGETS7} could not be installed: {exc}")
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    notebooks, _ = fresh
    results = run_lessons(SOLUTIONS, grading=True, lessons=[5], notebooks=notebooks)
    assert [r["lesson"] for r in results] == [5]
    assert results[0]["ok"], results[0]["error"]
