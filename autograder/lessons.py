"""Execute the lesson notebooks top to bottom against a given ``ecglab``.

The set-up cell of every lesson puts ``$ECGLAB_IMPL`` first on ``sys.path`` when it is set, so the
same release notebook runs against the reference (``--impl solutions``), the student stubs, or a
student's copy. ``grading=True`` runs them as nbgrader's autograde does (``NBGRADER_EXECUTION``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .course import REPO, load_course


def run_notebook(path: Path, impl: Path, grading: bool = False, timeout: int = 900,
                 data_dir: str | None = None, quick: bool = False) -> dict:
    """Execute one notebook; returns ``{"ok", "seconds", "error"}`` (error: the first failing cell).

    ``quick``: with ``ECGLAB_QUICK=1``, which makes the lessons that train (3 and 4) use the small
    settings of grading mode while everything else stays as in self-study."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    course = load_course()
    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ["ECGLAB_IMPL"] = str(impl)
    os.environ["MPLBACKEND"] = "agg"
    if data_dir:
        os.environ["ECGLAB_DATA"] = str(Path(data_dir).resolve())
    if quick:
        os.environ["ECGLAB_QUICK"] = "1"
    else:
        os.environ.pop("ECGLAB_QUICK", None)
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    started = time.perf_counter()
    error = None
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name=course.kernel_name,
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    except CellExecutionError as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        error = lines[-1] if lines else "a cell raised"
    except (CellTimeoutError, DeadKernelError, RuntimeError) as exc:
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return {"ok": error is None, "seconds": round(time.perf_counter() - started, 1), "error": error}


def run_lessons(impl: Path, grading: bool = False, lessons: list[int] | None = None,
                data_dir: str | None = None, notebooks: Path = REPO / "lessons",
                quick: bool = False) -> list[dict]:
    """Run every lesson notebook in ``notebooks`` (default ``lessons/``), or the given lesson numbers."""
    results = []
    for lesson in load_course().lessons:
        path = Path(notebooks) / f"{lesson.notebook}.ipynb"
        if (lessons and lesson.number not in lessons) or not path.is_file():
            continue
        result = run_notebook(path, Path(impl).resolve(), grading=grading, data_dir=data_dir,
                              quick=quick)
        results.append({"lesson": lesson.number, **result})
    return results
