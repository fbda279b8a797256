"""The graders: full marks for the reference and for other correct code, less for wrong code, 0 for
stubs; each exercise isolated; the copy pointed at is the copy graded; the same points every time."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.checks import teeth
from autograder.course import load_course, module_file
from autograder.generate import render_package, write_tree
from autograder.grader import grade, grade_exercise
from autograder.submissions import DISASTERS, Student, write_package_for

from .conftest import REPO, SOLUTIONS, subprocess_env

COURSE = load_course()
LESSON1 = [e.id for e in COURSE.lesson(1).exercises]
# the teeth of every lesson's checks (autograder/checks/lessonN/teeth.py), by exercise id
CORRECT = {k: v for lesson in COURSE.lessons for k, v in teeth(lesson.number).CORRECT.items()}
WRONG = {k: v for lesson in COURSE.lessons for k, v in teeth(lesson.number).WRONG.items()}


ALL = tuple(e.id for e in COURSE.exercises)


def make_impl(folder: Path, extra: str = "", solved=ALL, module: str = "preprocess") -> Path:
    """A student copy with ``solved`` exercises written and ``extra`` appended to ``module``."""
    files = render_package(solved_exercises=frozenset(solved))
    files[module_file(module)] += "\n" + extra
    write_tree(files, folder / "ecglab")
    return folder


@pytest.fixture(scope="module")
def reference_report():
    return grade(SOLUTIONS, lesson=1)


def test_reference_gets_full_marks(reference_report):
    assert reference_report.total == reference_report.max == COURSE.lesson(1).points
    assert all(e.status == "ok" for e in reference_report.exercises)


def test_generated_stubs_get_zero(tmp_path):
    # freshly generated stubs, not the working copy's ecglab/ (which may hold a student's work)
    report = grade(make_impl(tmp_path, solved=()), lesson=1)
    assert report.total == 0
    for e in report.exercises:
        assert e.status == "not-implemented", e.message
        assert "not implemented yet" in e.message and e.name in e.message


@pytest.mark.parametrize("exercise_id,index", [(k, i) for k, v in CORRECT.items() for i in range(len(v))])
def test_other_correct_implementations_get_full_marks(tmp_path, exercise_id, index):
    impl = make_impl(tmp_path, CORRECT[exercise_id][index], module=COURSE.exercise(exercise_id).module)
    result = grade_exercise(COURSE.exercise(exercise_id), impl)
    assert result.full_marks, result.message


@pytest.mark.parametrize("exercise_id,index", [(k, i) for k, v in WRONG.items() for i in range(len(v))])
def test_plausible_mistakes_lose_points(tmp_path, exercise_id, index):
    what, source = WRONG[exercise_id][index]
    impl = make_impl(tmp_path, source, module=COURSE.exercise(exercise_id).module)
    result = grade_exercise(COURSE.exercise(exercise_id), impl)
    assert result.points < result.max, f"{exercise_id} with the mistake '{what}' got full marks"
    assert result.status in ("partial", "failed")
    failed = [c for c in result.cases if not c.passed]
    assert failed[0].name in result.message
    assert "expected" in result.message or "raised" in result.message


def test_every_exercise_has_two_alternatives_and_two_mistakes():
    every = {e.id for e in COURSE.exercises}
    assert set(CORRECT) == set(WRONG) == every
    assert all(len(CORRECT[k]) >= 2 and len(WRONG[k]) >= 2 for k in every)


def test_partial_credit_is_proportional_and_names_the_failing_case(tmp_path):
    impl = make_impl(tmp_path, WRONG["1.3"][0][1])  # strict comparison: plateau cases fail
    result = grade_exercise(COURSE.exercise("1.3"), impl)
    passed = sum(c.passed for c in result.cases)
    assert 0 < passed < len(result.cases)
    assert result.points == round(result.max * passed / len(result.cases), 2)
    assert "flat tops" in result.message
    assert "hint:" in result.message and "got:" in result.message


BROKEN_NORMALIZE = "def normalize(x):\n    return np.asarray(x, dtype=float)\n"


def test_a_helper_mistake_costs_only_the_helper(tmp_path):
    """find_r_peaks uses normalize; a broken normalize must not cost find_r_peaks."""
    impl = make_impl(tmp_path, BROKEN_NORMALIZE)
    assert not grade_exercise(COURSE.exercise("1.2"), impl).full_marks
    assert grade_exercise(COURSE.exercise("1.4"), impl).full_marks
    assert grade_exercise(COURSE.exercise("1.7"), impl).full_marks


def test_course_yml_can_grade_with_the_students_own_helpers(tmp_path):
    impl = make_impl(tmp_path, BROKEN_NORMALIZE)
    own_helpers = replace(COURSE.exercise("1.4"), student_helpers=True)
    assert not grade_exercise(own_helpers, impl, COURSE).full_marks


def test_changing_an_input_in_place_fails(tmp_path):
    impl = make_impl(tmp_path, '''
def normalize(x):
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    x -= lo
    return np.divide(x, span, out=np.zeros(x.shape), where=span > 0)
''')
    result = grade_exercise(COURSE.exercise("1.2"), impl)
    assert not result.full_marks
    assert "changed its input in place" in result.message


def test_grading_is_deterministic(tmp_path):
    impl = make_impl(tmp_path, WRONG["1.6"][1][1])
    first = grade(impl, lesson=1).to_json()
    second = grade(impl, lesson=1).to_json()
    strip = lambda report: [(e["id"], e["points"], e["message"]) for e in report["exercises"]]  # noqa: E731
    assert strip(first) == strip(second)


def test_disasters_cost_only_their_exercise(tmp_path, monkeypatch):
    """An endless loop, os._exit, 80 GB and a segfault: four exercises lose their points, the
    others keep theirs, and the table comes out whole."""
    course = replace(COURSE, timeout_seconds=5.0)
    student = Student("disaster", frozenset(LESSON1), disasters=tuple(DISASTERS))
    impl = write_package_for(student, tmp_path, course)
    report = grade(impl, lesson=1, course=course)
    by_id = {e.id: e for e in report.exercises}
    expected = {"1.3": "timeout", "1.5": "crash", "1.2": "memory", "1.8": "crash"}
    for exercise_id, status in expected.items():
        assert by_id[exercise_id].points == 0
        assert by_id[exercise_id].status == status, by_id[exercise_id].message
    assert "killed by SIGSEGV" in by_id["1.8"].message
    assert "exited with code 1" in by_id["1.5"].message
    for exercise_id in set(LESSON1) - set(expected):
        assert by_id[exercise_id].full_marks, by_id[exercise_id].message
    assert len(report.exercises) == len(LESSON1)


def test_printing_and_input_do_not_break_grading(tmp_path):
    impl = make_impl(tmp_path, '''
def aami_class(symbol):
    print("x" * 1_000_000)
    input("press enter")
''')
    result = grade_exercise(COURSE.exercise("1.8"), impl)
    assert result.points == 0 and "EOFError" in result.message
    assert len(result.message) < 5000


def test_a_syntax_error_is_named(tmp_path):
    impl = make_impl(tmp_path, "def broken(:\n    pass\n")
    result = grade_exercise(COURSE.exercise("1.1"), impl)
    assert result.status == "import" and "SyntaxError" in result.message
    assert "preprocess.py" in result.message


def test_a_folder_without_ecglab_is_named(tmp_path):
    result = grade_exercise(COURSE.exercise("1.1"), tmp_path)
    assert result.status == "import" and "no package ecglab" in result.message


def test_the_copy_pointed_at_is_graded_not_the_imported_one(tmp_path):
    """The grader process has the reference ecglab imported (these tests do); two copies that
    differ in one exercise get different grades, each its own."""
    import ecglab
    assert Path(ecglab.__file__).resolve().is_relative_to(SOLUTIONS)
    a = make_impl(tmp_path / "a")
    b = make_impl(tmp_path / "b", WRONG["1.8"][1][1])
    assert grade_exercise(COURSE.exercise("1.8"), a).full_marks
    assert not grade_exercise(COURSE.exercise("1.8"), b).full_marks


def test_the_worker_never_sees_the_reference_or_the_checks(tmp_path):
    """Student code that looks for the solutions or the checks finds neither."""
    impl = make_impl(tmp_path, '''
def aami_class(symbol):
    import importlib.util, sys
    found = [m for m in ("autograder", "solutions", "_ecglab_reference")
             if importlib.util.find_spec(m) is not None]
    on_path = [p for p in sys.path if "solutions" in p or p.endswith("autograder")]
    if found or on_path:
        raise RuntimeError(f"found {found} {on_path}")
    return {s: k for k, g in enumerate(["NLRej", "AaJS", "VE", "F", "/fQ"]) for s in g}.get(symbol)
''')
    # The student's folder holds a copy of the whole course, reference included.
    (tmp_path / "solutions").mkdir()
    (tmp_path / "autograder").mkdir()
    (tmp_path / "autograder" / "__init__.py").write_text("")
    result = grade_exercise(COURSE.exercise("1.8"), impl)
    assert result.full_marks, result.message


def test_check_command_json_and_exit_status(tmp_path):
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "autograder", "check", *args], cwd=REPO, env=subprocess_env(),
        capture_output=True, text=True, timeout=300)
    ok = run("--impl", str(SOLUTIONS), "--lesson", "1", "--json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["total"] == report["max"] == COURSE.lesson(1).points
    for entry in report["exercises"]:
        assert {"id", "lesson", "name", "points", "max", "message"} <= set(entry)
    stubs = run("--impl", str(make_impl(tmp_path, solved=())), "--lesson", "1", "--brief")
    assert stubs.returncode == 1
    assert "0 / 14" in stubs.stdout.replace("  ", " ") or " 0 / 14" in stubs.stdout
    bad = run("--exercise", "9.9")
    assert bad.returncode == 2 and "9.9" in bad.stderr
    no_lesson = run("--lesson", "9")
    assert no_lesson.returncode == 2 and "no lesson 9" in no_lesson.stderr and "lessons are 1" in no_lesson.stderr


def test_pytest_plugin(tmp_path):
    impl = make_impl(tmp_path, WRONG["1.5"][0][1])
    out = tmp_path / "grades.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "autograder", "--impl", str(impl),
                           "-m", "lesson1", "-q", "-p", "no:cacheprovider", "--grade-json", str(out)],
                          cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "1 failed, 7 passed" in proc.stdout
    assert "ecg-course points" in proc.stdout
    via_pytest = {e["id"]: e["points"] for e in json.loads(out.read_text())["exercises"]}
    via_grade = {e.id: e.points for e in grade(impl, lesson=1).exercises}
    assert via_pytest == via_grade


def test_checks_and_course_yml_agree_exactly(monkeypatch):
    """Every exercise has its check and every check its exercise; a check removed from its lesson's
    module, or one without an exercise, is an error that names it (at generation and here)."""
    from autograder import grader
    from autograder.checks import CheckError, validate
    validate(COURSE)
    registry = dict(grader.CHECKS)
    monkeypatch.setattr(grader, "CHECKS", {k: v for k, v in registry.items() if k != "1.3"})
    monkeypatch.setattr("autograder.checks.load_all", lambda: grader.CHECKS)
    with pytest.raises(CheckError, match=r"exercise 1\.3 of course.yml has no check"):
        validate(COURSE)
    monkeypatch.setattr(grader, "CHECKS", {**registry, "1.9": registry["1.1"]})
    with pytest.raises(CheckError, match=r"check 1\.9 is of no exercise"):
        validate(COURSE)


def test_a_lesson_without_exercises_is_an_error(tmp_path):
    import yaml
    manifest = yaml.safe_load((REPO / "course.yml").read_text())
    manifest["lessons"].append({"number": 2, "id": "lesson2", "title": "t", "notebook": "02_x",
                                "module": "models", "exercises": []})
    (tmp_path / "course.yml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(ValueError, match="lesson 2 has no exercises"):
        load_course(tmp_path / "course.yml")


def test_the_note_names_the_reference_helpers_and_where_the_students_own_differ(tmp_path):
    """Strict comparisons in local_maxima (plateaus never count): 1.7 still gets full marks with
    the reference helpers, and its note points from the changed case to find_r_peaks and on to
    the exercises it calls."""
    strict = WRONG["1.3"][0][1]
    result = grade_exercise(COURSE.exercise("1.7"), make_impl(tmp_path, strict))
    assert result.full_marks
    assert result.note.startswith("Graded with the reference to_windows (1.1), normalize (1.2), "
                                  "find_r_peaks (1.4)")
    assert "other results" in result.note
    assert "Your find_r_peaks (1.4) gives other results than the reference" in result.note
    assert "local_maxima" in result.note.splitlines()[-1]
    clean = grade_exercise(COURSE.exercise("1.7"), make_impl(tmp_path / "clean"))
    assert clean.note.count("\n") == 0        # graded with stand-ins, nothing differs
    assert grade_exercise(COURSE.exercise("1.8"), make_impl(tmp_path / "clean")).note == ""


@pytest.mark.parametrize("block", ["stub", "MaxPool1d(5) without stride", "crashes in __init__"])
def test_a_mistake_in_residual_block_costs_only_exercise_2_2(tmp_path, block):
    """KachueeNet (2.3) is graded with a stand-in for ResidualBlock (2.2), made from data."""
    extra = {
        "stub": "",
        "MaxPool1d(5) without stride": '''
_Block = ResidualBlock
class ResidualBlock(_Block):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__(channels, kernel_size)
        self.pool = nn.MaxPool1d(5)
''',
        "crashes in __init__": '''
class ResidualBlock(nn.Module):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__()
        self.conv = nn.Conv1d(channels, kernel_size)
''',
    }[block]
    solved = [e for e in ALL if e != "2.2"] if block == "stub" else ALL
    impl = make_impl(tmp_path, extra, solved=solved, module="models")
    assert not grade_exercise(COURSE.exercise("2.2"), impl).full_marks
    kachuee = grade_exercise(COURSE.exercise("2.3"), impl)
    assert kachuee.full_marks, kachuee.message


def test_the_checks_synthetic_signals_come_back_from_the_cache_unchanged(tmp_path, monkeypatch):
    """The 125-Hz synthetic records of the checks are cached between grader runs (resampling
    needs scipy.signal, a second to import); what the cache gives back is what was made."""
    import dataclasses

    import numpy as np

    from autograder.checks import ecg
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made = ecg._cached_synthetic(12.0)
    assert ecg._cache_file(12.0).is_file()
    again = ecg._cached_synthetic(12.0)
    assert len(again) == len(made) == len(ecg.SYNTHETIC_RECORDS)
    for a, b in zip(made, again):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and np.array_equal(x, y), f.name
            else:
                assert type(x) is type(y) and x == y, f.name
