"""Run one exercise of student code in its own process, with a time and a memory limit.

The grader (this process) keeps the reference and the checks; the worker process
(:mod:`autograder.worker`) sees only the student's ``ecglab``. See the worker's docstring for the
protocol. Whatever the student code does — loop forever, ``sys.exit()``, segfault, allocate 80 GB,
print 10 MB — :func:`run_exercise` returns a :class:`WorkerOutcome` that says what happened.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import worker as wire

WORKER_SOURCE = Path(wire.__file__).read_text()
OUTPUT_LIMIT = 8192  # bytes of the student's printed output kept for messages
REFERENCE_LOG = 8    # calls of each stand-in kept per call, to compare the student's own helper on


@dataclass
class WorkerOutcome:
    """What came back from one worker process.

    ``status`` is ``"ok"`` (all calls ran, each may still have raised), ``"timeout"``,
    ``"memory"``, ``"crash"`` (signal or exit before the end), ``"import"`` (the student's package
    or module failed to import) or ``"wrong-package"`` (the ``ecglab`` imported was not the one
    under grading).
    """

    status: str
    results: dict = field(default_factory=dict)     # call id -> result message
    detail: str = ""
    error: dict | None = None
    ecglab_file: str = ""
    stdout: str = ""
    seconds: float = 0.0
    reference_calls: set = field(default_factory=set)   # stand-ins the student's code called
    #: (call id, target, args, kwargs) of the first REFERENCE_LOG calls of each stand-in per call
    reference_log: list = field(default_factory=list)


def site_packages() -> list[str]:
    """The interpreter's site-packages folders (the worker runs with -S, so it has none itself).

    Only the folders: their ``.pth`` files are not processed, so an editable install of this
    repository does not put the repository's own ``ecglab`` on the worker's path.
    """
    import site
    return [p for p in site.getsitepackages() if os.path.isdir(p)]


def _limits(memory_mb: int) -> Callable[[], None]:
    def apply():
        os.setsid()  # own process group: a timeout kills the worker and anything it started
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _drain(stream, sink: list, limit: int = OUTPUT_LIMIT) -> None:
    kept = 0
    for chunk in iter(lambda: stream.read(4096), b""):
        if kept < limit:
            sink.append(chunk[: limit - kept])
            kept += len(sink[-1])
    stream.close()


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def run_exercise(impl_dir: str | Path, request: dict, serve_reference: Callable[[str, list, dict], object],
                 timeout: float, memory_mb: int) -> WorkerOutcome:
    """Run ``request`` (module, function, stand_ins, calls) against the ``ecglab`` in ``impl_dir``.

    Parameters
    ----------
    impl_dir : path
        A folder that contains the package ``ecglab`` to grade.
    request : dict
        ``{"module": "preprocess", "function": "normalize", "stand_ins": ["preprocess.to_windows",
        ...], "calls": [{"id": 0, "args": [...], "kwargs": {...}}, ...]}``.
    serve_reference : callable
        ``serve_reference(target, args, kwargs)`` runs a reference function for a stand-in.
    timeout : float
        Wall-clock seconds for the whole exercise.
    memory_mb : int
        Address-space limit of the worker process.
    """
    impl_dir = Path(impl_dir).resolve()
    package = impl_dir / "ecglab"
    started = time.monotonic()
    if not (package / "__init__.py").is_file():
        return WorkerOutcome("import", detail=f"{impl_dir}: there is no package ecglab here "
                                              f"(no {package / '__init__.py'})")
    home = Path(tempfile.mkdtemp(prefix="ecglab-grade-"))
    # Only a link to the student's package goes on the worker's path: not the student's whole
    # folder, which may hold a copy of the reference solutions or of the checks.
    (home / "path").mkdir()
    os.symlink(package, home / "path" / "ecglab")
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    settings = {"path_first": str(home / "path"), "site": site_packages(),
                "fd_in": to_worker_r, "fd_out": from_worker_w}
    env = {"PATH": os.defpath, "HOME": str(home), "TMPDIR": str(home), "LC_ALL": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           # glibc fills what malloc hands out with this byte: uninitialised memory is never 0
           "MALLOC_PERTURB_": "165"}
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", WORKER_SOURCE, json.dumps(settings)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        pass_fds=(to_worker_r, from_worker_w), cwd=home, env=env,
        preexec_fn=_limits(memory_mb),
    )
    os.close(to_worker_r)
    os.close(from_worker_w)
    printed: list[bytes] = []
    drainer = threading.Thread(target=_drain, args=(proc.stdout, printed), daemon=True)
    drainer.start()
    outcome = WorkerOutcome("ok")
    deadline = started + timeout
    try:
        outcome = _converse(proc, from_worker_r, to_worker_w, request, serve_reference, deadline,
                            package, timeout)
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        for fd in (from_worker_r, to_worker_w):
            try:
                os.close(fd)
            except OSError:
                pass
        drainer.join(timeout=2)
        shutil.rmtree(home, ignore_errors=True)
    outcome.stdout = b"".join(printed).decode("utf-8", "replace")
    outcome.seconds = time.monotonic() - started
    if outcome.status == "crash" and not outcome.detail:
        code = proc.returncode
        outcome.detail = (f"the process was killed by {_signal_name(code)}" if code < 0
                          else f"the process exited with code {code}")
    return outcome


class _Ended(Exception):
    pass


def _receive(fd: int, proc: subprocess.Popen, deadline: float) -> dict:
    """The next message from the worker; raises _Ended on timeout or when the worker is gone."""
    buffer = b""
    need = 4
    size = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Ended("timeout")
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            continue
        chunk = os.read(fd, min(1 << 20, need - len(buffer)))
        if not chunk:
            raise _Ended("eof")
        buffer += chunk
        if size is None and len(buffer) == 4:
            size = int.from_bytes(buffer, "big")
            if size > wire.MAX_FRAME:
                raise _Ended("oversize")
            buffer, need = b"", size
            if size == 0:
                return wire.decode("null")
        elif size is not None and len(buffer) == need:
            try:
                return wire.decode(buffer.decode())
            except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError):
                raise _Ended("unreadable") from None


def _converse(proc, fd_in, fd_out, request, serve_reference, deadline, package, timeout):
    outcome = WorkerOutcome("ok")
    logged: dict = {}
    try:
        hello = _receive(fd_in, proc, deadline)
        if hello.get("op") == "fatal":
            return WorkerOutcome(hello.get("kind", "import"), error=hello.get("error"))
        outcome.ecglab_file = hello.get("file", "")
        if not Path(outcome.ecglab_file).resolve().is_relative_to(package.resolve()):
            return WorkerOutcome("wrong-package", ecglab_file=outcome.ecglab_file,
                                 detail=f"imported ecglab from {outcome.ecglab_file}, "
                                        f"not from {package}")
        wire.write_frame(fd_out, pickle.dumps(request))
        while True:
            message = _receive(fd_in, proc, deadline)
            op = message.get("op")
            if op == "result":
                outcome.results[message["id"]] = message
            elif op == "reference":
                target = str(message.get("target"))
                outcome.reference_calls.add(target)
                during = len(outcome.results)          # the call whose code asked for it
                key = (during, target)
                logged[key] = logged.get(key, 0) + 1
                if logged[key] <= REFERENCE_LOG:
                    outcome.reference_log.append((during, target, message["args"], message["kwargs"]))
                try:
                    reply = {"value": serve_reference(message["target"], message["args"],
                                                      message["kwargs"])}
                except Exception as exc:  # the reference raises by design (e.g. ValueError)
                    reply = {"error": {"type": type(exc).__name__, "message": str(exc)}}
                wire.write_frame(fd_out, pickle.dumps(reply))
            elif op == "fatal":
                outcome.status, outcome.error = message.get("kind", "crash"), message.get("error")
                return outcome
            elif op == "done":
                return outcome
    except _Ended as ended:
        reason = str(ended)
        if reason == "timeout":
            outcome.status = "timeout"
            outcome.detail = f"did not finish within {timeout:g} s"
        elif reason == "oversize":
            outcome.status, outcome.detail = "crash", "sent a result larger than the grader accepts"
        elif reason == "unreadable":
            outcome.status, outcome.detail = "crash", "sent a result the grader cannot read"
        else:
            proc.wait(timeout=5)
            outcome.status = "crash"
        return outcome
    except (BrokenPipeError, OSError):
        proc.wait(timeout=5)
        outcome.status = "crash"
        return outcome
