"""Where ecglab looks for things: the data directory and the repository it came from.

The data directory is, in this order of precedence:

1. the ``data_dir`` argument (the ``--data-dir`` option of the command line),
2. the environment variable ``ECGLAB_DATA``,
3. ``data/`` in the repository that holds this package (the folder with ``course.yml``),
4. ``data/`` in the current working directory (an installed package outside a repository).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "ECGLAB_DATA"

#: The sampling rate of every beat dataset, in Hz (as in the Kaggle heartbeat CSVs).
FS = 125
#: Samples per beat (1.5 s at 125 Hz).
BEAT_LENGTH = 187


def package_dir() -> Path:
    """The folder of this ``ecglab`` package."""
    return Path(__file__).resolve().parent


def repository_root() -> Path | None:
    """The course repository that holds this package (the folder with ``course.yml``), or None.

    The package sits at ``<repo>/ecglab`` (the student copy) or at ``<repo>/solutions/ecglab``
    (the reference), so the search goes at most three folders up.
    """
    for parent in list(package_dir().parents)[:3]:
        if (parent / "course.yml").is_file():
            return parent
    return None


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory (see the module docstring for the order)."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(ENV_DATA)
    if from_env:
        return Path(from_env).expanduser()
    root = repository_root()
    return (root if root is not None else Path.cwd()) / "data"
