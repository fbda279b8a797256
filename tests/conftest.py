"""Shared fixtures of the test suite.

The tests test the single source of truth: ``solutions/`` goes first on ``sys.path``, so
``import ecglab`` is the reference package here. Tests that grade or run the student copy point
the graders at it explicitly.

Real data: the tests that need it look in the data directory setting (``ECGLAB_DATA``, else
``data/`` of the repository) and skip, saying why, when the MIT-BIH records are not there. CI
sets ``ECGLAB_DATA`` to the shared data folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
sys.path.insert(0, str(SOLUTIONS))
sys.path.insert(1, str(REPO))

import ecglab  # noqa: E402

assert Path(ecglab.__file__).resolve().is_relative_to(SOLUTIONS), (
    f"the tests must import the reference ecglab from solutions/, not {ecglab.__file__}")

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _own_checkpoint_folder(tmp_path_factory):
    """Lessons 3 and 4 keep trained networks in a cache folder (``ecglab.training``): the tests'
    lesson runs use a folder of their own, never a user's."""
    previous = os.environ.get("ECGLAB_CACHE")
    os.environ["ECGLAB_CACHE"] = str(tmp_path_factory.mktemp("checkpoints"))
    yield
    if previous is None:
        os.environ.pop("ECGLAB_CACHE", None)
    else:
        os.environ["ECGLAB_CACHE"] = previous


def _real_data_dir() -> Path | None:
    from ecglab.config import data_dir
    folder = data_dir()
    return folder if (folder / "mitdb" / "100.hea").is_file() else None


REAL_DATA = _real_data_dir()
SKIP_REASON = ("needs the real MIT-BIH records: set ECGLAB_DATA to a data directory with mitdb/ "
               "(e.g. after `python -m ecglab data fetch mitbih`)")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The data directory with the real records; skips the test when there is none."""
    if REAL_DATA is None:
        pytest.skip(SKIP_REASON)
    return REAL_DATA


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def empty_data_dir(tmp_path, monkeypatch) -> Path:
    """A data directory with nothing in it (so everything falls back to the synthetic data)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("ECGLAB_DATA", str(folder))
    return folder


def subprocess_env(**extra) -> dict:
    """Environment for ``python -m ecglab`` / ``python -m autograder`` in a subprocess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SOLUTIONS), str(REPO)])
    env.update({k: str(v) for k, v in extra.items()})
    return env
