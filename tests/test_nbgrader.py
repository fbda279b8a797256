"""The nbgrader round trip, for real: generate_assignment, a class of simulated students, autograde,
the gradebook against ``autograder check``, generate_feedback, export."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import load_course
from autograder.nbgrader_course import autograde_class
from autograder.submissions import Student, demo_class, write_package_for

from .conftest import REPO, subprocess_env

COURSE = load_course()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One nbgrader round trip, for a small class that still has every kind of submission: the
    reference, blank stubs, plausible bugs (partial credit), a syntax error, and a student who
    deleted one check cell and copied another."""
    by_name = {s.name: s for s in demo_class(1, COURSE)}
    every = frozenset(e.id for e in COURSE.lesson(1).exercises)
    students = [by_name["ada"], by_name["blank"], by_name["bugs"], by_name["syntax"],
                Student("lostcell", every, drop_cells=("check-1-2",), duplicate_cells=("check-1-3",),
                        description="deleted one check cell and copied another")]
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    return students, autograde_class(root, 1, students, COURSE), root


@pytest.fixture(scope="module", params=[2, 3, 4, 5], ids=lambda n: f"lesson{n}")
def graded_torch_lesson(request, tmp_path_factory):
    """Lessons 2-5 (PyTorch models, training, transfer, interpretation; graded through probes) through the same
    round trip: the reference, blank stubs, and plausible bugs."""
    lesson = request.param
    by_name = {s.name: s for s in demo_class(lesson, COURSE)}
    students = [by_name["ada"], by_name["blank"], by_name["bugs"]]
    root = tmp_path_factory.mktemp(f"nbgrader{lesson}") / "course"
    return lesson, students, autograde_class(root, lesson, students, COURSE), root


def test_torch_lesson_round_trip(graded_torch_lesson, tmp_path):
    lesson, students, result, _ = graded_torch_lesson
    assert result["autograde_returncode"] == 0, result["log"]
    total = COURSE.lesson(lesson).points
    assert sum(result["scores"]["ada"].values()) == total
    assert sum(result["scores"]["blank"].values()) == 0
    bugs = next(s for s in students if s.name == "bugs")
    assert bugs.bugs, f"lesson {lesson} has no simulated bug (autograder/submissions.py BUGS)"
    assert 0 < sum(result["scores"]["bugs"].values()) < total
    impl = write_package_for(bugs, tmp_path / "bugs", COURSE)
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", "--impl", str(impl),
                           "--lesson", str(lesson), "--json"], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=300)
    cli = {e["id"]: e["points"] for e in json.loads(proc.stdout)["exercises"]}
    gradebook = {e.id: result["scores"]["bugs"][e.grade_id] for e in COURSE.lesson(lesson).exercises}
    assert cli == pytest.approx(gradebook)


def test_autograde_finishes_for_everyone(graded_class):
    students, result, _ = graded_class
    assert result["autograde_returncode"] == 0, result["log"]
    assert set(result["scores"]) == {s.name for s in students}


def test_reference_full_marks_blank_zero(graded_class):
    _, result, _ = graded_class
    total = COURSE.lesson(1).points
    assert sum(result["scores"]["ada"].values()) == total
    assert sum(result["scores"]["blank"].values()) == 0
    assert sum(result["scores"]["syntax"].values()) == 0
    assert 0 < sum(result["scores"]["bugs"].values()) < total


def test_a_deleted_or_copied_check_cell_costs_nothing_more(graded_class):
    _, result, _ = graded_class
    assert sum(result["scores"]["lostcell"].values()) == COURSE.lesson(1).points


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


def _points_by_cli(impl: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", "--impl", str(impl),
                           "--lesson", "1", "--json"], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=300)
    return {e["id"]: e["points"] for e in json.loads(proc.stdout)["exercises"]}


def _points_by_pytest(impl: Path, out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "pytest", "autograder", "--impl", str(impl), "-m", "lesson1",
                    "-q", "-p", "no:cacheprovider", "--grade-json", str(out)],
                   cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    return {e["id"]: e["points"] for e in json.loads(out.read_text())["exercises"]}


def _points_by_check_cells(impl: Path, ids: list[str]) -> dict:
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); "
            "from autograder.notebook import check; "
            "print(json.dumps([check(i, figures=False) for i in sys.argv[3:]]))")
    proc = subprocess.run([sys.executable, "-c", code, str(impl), str(REPO), *ids], cwd=impl,
                          capture_output=True, text=True, timeout=300)
    return dict(zip(ids, json.loads(proc.stdout.strip().splitlines()[-1])))


def test_four_ways_of_grading_agree(graded_class, tmp_path):
    """nbgrader's gradebook, `autograder check`, `pytest autograder` and the notebook's check()
    give every exercise the same points: for the students whose points tell most (plausible bugs
    in four exercises, a deleted and a copied check cell); the others' totals are checked above."""
    students, result, _ = graded_class
    ids = [e.id for e in COURSE.lesson(1).exercises]
    for student in [s for s in students if s.name in ("bugs", "lostcell")]:
        impl = write_package_for(student, tmp_path / student.name, COURSE)
        nbgrader = {e.id: result["scores"][student.name][e.grade_id] for e in COURSE.lesson(1).exercises}
        ways = {"autograder check": _points_by_cli(impl),
                "pytest autograder": _points_by_pytest(impl, tmp_path / f"{student.name}.json"),
                "check() cells": _points_by_check_cells(impl, ids)}
        for way, points in ways.items():
            assert points == pytest.approx(nbgrader), f"{student.name}: {way} {points} != nbgrader {nbgrader}"


def test_validator_sees_no_solution_in_the_release(graded_class):
    """nbgrader's own validator (`nbgrader validate` exits 0 even on failure, so it is called in
    code): on the released stubs every check cell fails; on the reference every one passes."""
    from nbgrader.validator import Validator
    _, _, root = graded_class
    notebook = next((root / "release" / "lesson1").glob("*.ipynb"))
    env_before = os.environ.get("ECGLAB_IMPL")
    try:
        os.environ["ECGLAB_IMPL"] = str(notebook.parent)
        stubs = Validator().validate(str(notebook))
        os.environ["ECGLAB_IMPL"] = str(root / "autograded" / "ada" / "lesson1")
        solved = Validator().validate(str(notebook))
    finally:
        if env_before is None:
            os.environ.pop("ECGLAB_IMPL", None)
        else:
            os.environ["ECGLAB_IMPL"] = env_before
    assert len(stubs.get("failed", [])) == len(COURSE.lesson(1).exercises)
    assert not solved.get("failed") and not solved.get("changed")
