"""Run code in a real Jupyter kernel, as a notebook front end does, under ipywidgets 8 or 7.7.1.

:class:`WidgetKernel` starts an IPython kernel through nbclient and runs code in it cell by cell.
nbclient mimics a widget front end's ``Output`` widgets (as nbconvert does when it executes a
notebook): what a kernel sends into an Output ends up in ``widget_outputs(model_id)``, cleared by
``clear_output`` like Jupyter does, and is synced back to the kernel's ``Output.outputs``. Cells
hand results back as JSON on their last line of stdout (:meth:`WidgetKernel.json`).

ipywidgets 7.7.1 (the version Colab pins) runs in the project's own Python, ipykernel 7,
traitlets 5 and IPython 9: pip installs it by itself, with no dependencies, into a cache folder
(:func:`ipywidgets7_dir`), and the kernel starts with that folder first on ``PYTHONPATH``, so
``import ipywidgets`` gives 7.7.1. What it needs, found by trying:

* ``ipywidgets==7.7.1`` itself (pure Python);
* ``ipython_genutils==0.2.0``: 7.x imports ``ipython_genutils.py3compat`` (no longer in the
  project's environment);
* nothing else: its ``from ipykernel.comm import Comm``, ``kernel.comm_manager`` and
  ``kernel._parent_header`` still exist in ipykernel 7 (the last one deprecated).
  ``widgetsnbextension`` 3.6 and ``jupyterlab_widgets`` 1.x, which pip would add, are the
  front end's JavaScript: a kernel never imports them.

The pip command (about 2 s, two wheels of 0.2 MB)::

    python -m pip install --target <cache>/ipywidgets-7.7.1 --no-deps ipywidgets==7.7.1 \\
        ipython_genutils==0.2.0

The cache folder is ``$ECGLAB_WIDGETS_CACHE``, else ``$XDG_CACHE_HOME/ecg-course``, else
``~/.cache/ecg-course`` (never inside the repository). To execute the lesson-5 notebook under
7.7.1::

    PYTHONPATH=$(python tests/widget_kernel.py) python -m autograder lessons --impl solutions --lesson 5

(the script prints the folder, installing it first; :func:`ipywidgets7_env` gives the whole
environment for a subprocess).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"

IPYWIDGETS7 = "7.7.1"
IPYWIDGETS7_REQUIREMENTS = (f"ipywidgets=={IPYWIDGETS7}", "ipython_genutils==0.2.0")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class WidgetsUnavailable(RuntimeError):
    """ipywidgets 7.7.1 could not be installed (no package registry, most likely)."""


def cache_root() -> Path:
    """Where the ipywidgets 7.7.1 folder is kept: ``$ECGLAB_WIDGETS_CACHE``, else the user cache."""
    if os.environ.get("ECGLAB_WIDGETS_CACHE"):
        return Path(os.environ["ECGLAB_WIDGETS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ecg-course"


def _pythonpath(first: list[str], base: dict) -> str:
    rest = [p for p in base.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(first + [p for p in rest if p not in first])


def _imported_version(folder: Path) -> str:
    env = dict(os.environ, PYTHONPATH=_pythonpath([str(folder)], os.environ))
    done = subprocess.run([sys.executable, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout.strip() if done.returncode == 0 else f"(import failed: {done.stderr[-300:]})"


def ipywidgets7_dir(cache: str | os.PathLike | None = None, timeout: float = 300) -> Path:
    """The folder that holds ipywidgets 7.7.1 and ipython_genutils, installed on first use.

    The install goes to a temporary folder next to it and is moved into place only once
    ``import ipywidgets`` from it gives 7.7.1, so a broken or half-done install is never used.
    Raises :class:`WidgetsUnavailable` when pip fails (its last line of output says why).
    """
    root = Path(cache) if cache is not None else cache_root()
    folder = root / f"ipywidgets-{IPYWIDGETS7}-py{sys.version_info.major}{sys.version_info.minor}"
    marker = folder / ".ecg-course-complete"
    if marker.is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="ipywidgets-install-", dir=root))
    staging.chmod(0o755)
    try:
        command = [sys.executable, "-m", "pip", "install", "--target", str(staging), "--no-deps",
                   "--disable-pip-version-check", "--no-input", "--quiet", *IPYWIDGETS7_REQUIREMENTS]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise WidgetsUnavailable(f"pip took over {timeout:.0f} s to install "
                                     f"{' '.join(IPYWIDGETS7_REQUIREMENTS)}") from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr + done.stdout).splitlines()
                     if line.strip() and "is ignored: it is neither a file nor a directory" not in line]
            raise WidgetsUnavailable(f"pip could not install {' '.join(IPYWIDGETS7_REQUIREMENTS)}: "
                                     f"{lines[-1] if lines else f'exit status {done.returncode}'}")
        version = _imported_version(staging)
        if version != IPYWIDGETS7:
            raise WidgetsUnavailable(f"{staging}: import ipywidgets gave {version}, not {IPYWIDGETS7}")
        (staging / marker.name).write_text(" ".join(command[3:]) + "\n")
        if folder.exists():          # another process won the race, or a stale unfinished copy
            if marker.is_file():
                return folder
            shutil.rmtree(folder)
        os.replace(staging, folder)
        return folder
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def ipywidgets7_env(base: dict | None = None, cache: str | os.PathLike | None = None) -> dict:
    """A copy of ``base`` (default ``os.environ``) whose ``PYTHONPATH`` starts with the
    ipywidgets 7.7.1 folder: a kernel (or ``python -m autograder lessons``) started with it
    imports ipywidgets 7.7.1."""
    base = dict(os.environ if base is None else base)
    base["PYTHONPATH"] = _pythonpath([str(ipywidgets7_dir(cache))], base)
    return base


def kernel_env(widgets: str = "8", base: dict | None = None) -> dict:
    """The environment of a test kernel: the reference ``ecglab`` (``solutions/`` over the
    repository, as in ``tests/conftest.py``), the Agg backend, one thread per library (small
    work, two cores shared), and with ``widgets="7.7.1"`` ipywidgets 7.7.1 first on the path."""
    env = dict(os.environ if base is None else base)
    first = [str(SOLUTIONS), str(REPO)]
    if widgets == IPYWIDGETS7:
        first.insert(0, str(ipywidgets7_dir()))
    elif widgets != "8":
        raise ValueError(f"widgets: '8' or {IPYWIDGETS7!r}, got {widgets!r}")
    env["PYTHONPATH"] = _pythonpath(first, env)
    env.update(MPLBACKEND="agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


class WidgetKernel:
    """A live IPython kernel that runs code cell by cell through nbclient (a context manager).

    >>> with WidgetKernel(kernel_env("8")) as kernel:            # doctest: +SKIP
    ...     kernel.json("import ipywidgets, json; print(json.dumps(ipywidgets.__version__))")
    '8.1.9'
    """

    def __init__(self, env: dict | None = None, cwd: str | os.PathLike = REPO, timeout: int = 120,
                 kernel_name: str = "python3"):
        self.env, self.cwd, self.timeout, self.kernel_name = env, Path(cwd), timeout, kernel_name
        self.nb = self.client = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> WidgetKernel:
        import nbformat
        from nbclient import NotebookClient
        self.nb = nbformat.v4.new_notebook()
        self.client = NotebookClient(self.nb, timeout=self.timeout, kernel_name=self.kernel_name,
                                     resources={"metadata": {"path": str(self.cwd)}})
        self._stack.enter_context(self.client.setup_kernel(env=self.env))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def run(self, code: str) -> list:
        """Run ``code`` as the next cell; returns its outputs (nbformat output dicts). A cell that
        raises raises ``nbclient.exceptions.CellExecutionError`` with the kernel's traceback."""
        import nbformat
        cell = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.nb.cells) - 1)
        return cell.outputs

    def json(self, code: str):
        """Run ``code``; the last line it prints, parsed as JSON."""
        outputs = self.run(code)
        text = "".join(o.get("text", "") for o in outputs
                       if o.get("output_type") == "stream" and o.get("name") == "stdout")
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"the cell printed nothing; its outputs: {outputs}")
        return json.loads(lines[-1])

    def widget_outputs(self, model_id: str) -> list:
        """What the front end (nbclient) holds in the Output widget ``model_id`` now."""
        return list(self.client.widget_state.get(model_id, {}).get("outputs", []))


def main() -> int:
    """Print the ipywidgets 7.7.1 folder (installing it first), for ``PYTHONPATH=$(...)``."""
    try:
        print(ipywidgets7_dir())
    except WidgetsUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
