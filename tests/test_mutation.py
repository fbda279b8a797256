"""The mutation run: every small wrong version of the reference loses points, except the mutants
shown to be equivalent (listed with their reason in each lesson's autograder/checks/lessonN/teeth.py)."""

from __future__ import annotations

import pytest

from autograder.course import load_course
from autograder.checks import teeth
from autograder.mutate import mutants, run_mutants

COURSE = load_course()


def test_mutants_are_made_inside_the_solution_region_only():
    made = mutants(COURSE.exercise("1.5"))
    descriptions = [m.description for m in made]
    assert "np.median(np.diff(r_peaks)) -> np.mean(np.diff(r_peaks))" in descriptions
    assert "len(r_peaks) < 2 -> len(r_peaks) <= 2" in descriptions
    for m in made:
        compile(m.source, "mutant.py", "exec")
        assert "def nominal_period" in m.source


@pytest.mark.slow
@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_checks_kill_every_non_equivalent_mutant(exercise):
    results = run_mutants(exercise)
    assert results, f"no mutant of {exercise.function}"
    survivors = [f"line {m.line}: {m.description}" for m in results if m.status == "survived"]
    assert not survivors, f"the check of {exercise.id} misses: {survivors}"


def test_equivalent_mutants_still_exist():
    """An entry of EQUIVALENT_MUTANTS whose mutant is no longer made is stale."""
    made = {(e.id, m.description) for e in COURSE.exercises for m in mutants(e)}
    listed = {key for lesson in COURSE.lessons for key in teeth(lesson.number).EQUIVALENT_MUTANTS}
    assert not listed - made, sorted(listed - made)
