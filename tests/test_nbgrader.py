"""The nbgrader round trip, for real: generate_assignment, a class of simulated students, autograde,
the gradebook against ``autograder check``, generate_feedback, export."""

from __future__ import annotations

import csv
import html
import re
import tempfile
from pathlib import Path

import pytest

from autograder.course import load_course
from autograder.grader import grade
from autograder.nbgrader_course import autograde_class
from autograder.submissions import Student, demo_class, write_package_for

COURSE = load_course()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    students = demo_class(1, COURSE) + [
        Student("twin", frozenset(e.id for e in COURSE.lesson(1).exercises),
                duplicate_cells=("check-1-3",), description="copied a check cell"),
    ]
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    return students, autograde_class(root, 1, students, COURSE), root


def test_autograde_finishes_for_everyone(graded_class):
    students, result, _ = graded_class
    assert result["autograde_returncode"] == 0, result["log"]
    assert set(result["scores"]) == {s.name for s in students}


def test_gradebook_equals_autograder_check(graded_class):
    students, result, _ = graded_class
    for student in students:
        with tempfile.TemporaryDirectory() as tmp:
            report = grade(write_package_for(student, Path(tmp), COURSE), lesson=1)
        expected = {COURSE.exercise(e.id).grade_id: e.points for e in report.exercises}
        assert result["scores"][student.name] == pytest.approx(expected), student.name


def test_reference_full_marks_blank_zero(graded_class):
    _, result, _ = graded_class
    total = COURSE.lesson(1).points
    assert sum(result["scores"]["ada"].values()) == total
    assert sum(result["scores"]["blank"].values()) == 0
    assert sum(result["scores"]["syntax"].values()) == 0
    assert 0 < sum(result["scores"]["half"].values()) < total
    assert 0 < sum(result["scores"]["bugs"].values()) < total


def test_a_deleted_or_copied_check_cell_costs_nothing_more(graded_class):
    _, result, _ = graded_class
    total = COURSE.lesson(1).points
    assert sum(result["scores"]["lostcell"].values()) == total
    assert sum(result["scores"]["twin"].values()) == total


def test_feedback_shows_results_not_test_internals(graded_class):
    _, result, _ = graded_class
    page = result["feedback"]["bugs"][0].read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))  # what the student reads
    assert "First failure" in text and 'check("1.2")' in text
    assert "a constant signal gives zeros, not NaN" in text  # the failing case, named
    for internal in ("arrays_close", "def normalize_cases", "reference_object", "BEGIN SOLUTION"):
        assert internal not in text


def test_export_has_one_row_per_student(graded_class):
    students, result, _ = graded_class
    with open(result["grades_csv"]) as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == {s.name for s in students}
    assert float(rows["ada"]["score"]) == float(rows["ada"]["max_score"]) == COURSE.lesson(1).points
    assert float(rows["blank"]["score"]) == 0.0


def test_release_holds_stubs_only(graded_class):
    _, _, root = graded_class
    release = root / "release" / "lesson1"
    text = (release / "ecglab" / "preprocess.py").read_text()
    assert "raise NotImplementedError" in text and "BEGIN SOLUTION" not in text
