"""The pytest plugin of the graders: ``pytest autograder [--impl DIR] [-m lessonN]``.

One test per exercise, marked with its lesson; a test passes on full marks and fails with the
grader's message otherwise. The points table is printed at the end, as ``autograder check`` does,
from the same grader (so both give the same points for the same code).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .course import REPO

RESULTS = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("ecg-course grading")
    group.addoption("--impl", metavar="DIR", default=None,
                    help="folder that contains the ecglab package to grade (default: this repository)")
    group.addoption("--data-dir", metavar="DIR", default=None,
                    help="data directory for the real-data cases (default: $ECGLAB_DATA or data/)")
    group.addoption("--grade-json", metavar="FILE", default=None,
                    help="also write the per-exercise results to FILE as JSON")


def pytest_configure(config):
    config.stash[RESULTS] = {}


@pytest.fixture(scope="session")
def impl_dir(pytestconfig) -> Path:
    impl = pytestconfig.getoption("--impl")
    return Path(impl).resolve() if impl else REPO


@pytest.fixture(scope="session")
def grade_data_dir(pytestconfig):
    return pytestconfig.getoption("--data-dir")


@pytest.fixture
def record_result(request):
    def record(result):
        request.config.stash[RESULTS][result.id] = result
    return record


def pytest_terminal_summary(terminalreporter, config):
    results = config.stash.get(RESULTS, {})
    if not results:
        return
    from .grader import Report
    impl = config.getoption("--impl") or str(REPO)
    report = Report(str(Path(impl).resolve()), [results[k] for k in sorted(results, key=_id_key)])
    terminalreporter.write_sep("=", "ecg-course points")
    terminalreporter.write_line(report.table(details=False))
    out = config.getoption("--grade-json")
    if out:
        Path(out).write_text(json.dumps(report.to_json(), indent=2))


def _id_key(exercise_id: str):
    return tuple(int(part) for part in exercise_id.split("."))
