"""One test per exercise of ``course.yml`` (see ``autograder/conftest.py``)."""

import pytest

from .course import load_course
from .checks import validate
from .grader import grade_exercise

validate()   # an exercise without a check is an error here too, never a test that goes missing
EXERCISES = [
    pytest.param(e, marks=getattr(pytest.mark, f"lesson{e.lesson}"), id=f"{e.id}-{e.function}")
    for e in load_course().exercises
]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_exercise(exercise, impl_dir, grade_data_dir, record_result):
    result = grade_exercise(exercise, impl_dir, data_dir=grade_data_dir)
    record_result(result)
    if not result.full_marks:
        pytest.fail(f"exercise {exercise.id} ({exercise.function}): {result.points:g} / "
                    f"{result.max:g}\n{result.message}"
                    + (f"\nnote: {result.note}" if result.note else ""), pytrace=False)
