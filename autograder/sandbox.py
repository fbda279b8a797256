"""Run one exercise of student code in its own process, with a time and a memory limit.

The grader (this process) keeps the reference and the checks; the worker process
(:mod:`autograder.worker`) sees only the student's ``ecglab``. See the worker's docstring for the
protocol. Whatever the student code does — loop forever, ``sys.exit()``, segfault, allocate 80 GB,
print 10 MB — :func:`run_exercise` returns a :class:`WorkerOutcome` that says what happened.
"""

from __future__ import annotations

import copy
import io
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
from .course import REPO, SOLUTIONS

READY_MADE = REPO / "ecglab"

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
                 timeout: float, memory_mb: int, preload: tuple = ("numpy",)) -> WorkerOutcome:
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
    preload : tuple of str
        Libraries the worker imports before its guard is up (``torch`` for lessons 2-5).
    """
    impl_dir = Path(impl_dir).resolve()
    package = impl_dir / "ecglab"
    started = time.monotonic()
    if not (package / "__init__.py").is_file():
        return WorkerOutcome("import", detail=f"{impl_dir}: there is no package ecglab here "
                                              f"(no {package / '__init__.py'})")
    problem = package_problem(package)
    if problem:
        return WorkerOutcome("refused", detail=problem)
    home = Path(tempfile.mkdtemp(prefix="ecglab-grade-"))
    # Only a link to the student's package goes on the worker's path: not the student's whole
    # folder, which may hold a copy of the reference solutions or of the checks.
    (home / "path").mkdir()
    os.symlink(package, home / "path" / "ecglab")
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    settings = {"path_first": str(home / "path"), "site": site_packages(),
                "fd_in": to_worker_r, "fd_out": from_worker_w, "preload": list(preload),
                "guard": guard_settings(package, home)}
    env = {"PATH": os.defpath, "HOME": str(home), "TMPDIR": str(home), "LC_ALL": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           # glibc fills what malloc hands out with this byte: uninitialised memory is never 0
           "MALLOC_PERTURB_": "165"}
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", "-B", "-c", WORKER_SOURCE, json.dumps(settings)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        pass_fds=(to_worker_r, from_worker_w), cwd=home, env=env,
        preexec_fn=_limits(memory_mb),
    )
    os.close(to_worker_r)
    os.close(from_worker_w)
    os.set_blocking(to_worker_w, False)     # see _write_frame
    printed: list[bytes] = []
    drainer = threading.Thread(target=_drain, args=(proc.stdout, printed), daemon=True)
    drainer.start()
    outcome = WorkerOutcome("ok")
    deadline = started + timeout
    try:
        outcome = _converse(proc, from_worker_r, to_worker_w, request, serve_reference, deadline,
                            package, timeout, memory_mb)
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


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site_packages()}
    return sorted(str(Path(r).resolve()) for r in roots)


def guard_settings(package: Path, home: Path) -> dict:
    """What the worker's guard lets graded code touch (see ``worker.guard``): read the package,
    its private home and the Python installation; write its home; never the reference
    solutions or the autograder, even where those lie inside an allowed folder."""
    read = [str(package.resolve()), str(home), *_python_roots(), "/usr", "/lib", "/lib64",
            "/etc", "/dev", "/sys", "/proc"]
    deny = [str(Path(__file__).resolve().parent)]
    if _is_reference(package):
        # grading the reference itself (``--impl solutions``): it is solutions/ over ecglab/
        read.append(str(READY_MADE.resolve()))
    else:
        deny.append(str(SOLUTIONS.resolve()))
    return {"read": read, "write": [str(home), "/dev/null"], "deny": deny}


def _is_reference(package: Path) -> bool:
    return package.resolve() == (SOLUTIONS / "ecglab").resolve()


def _reference_files() -> set:
    found = set()
    for path in SOLUTIONS.rglob("*.py"):
        try:
            stat = path.stat()
            found.add((stat.st_dev, stat.st_ino))
        except OSError:
            pass
    return found


def package_problem(package: Path) -> str:
    """Why the package cannot be graded as submitted, or "": every file in it must be the
    student's own Python — not a link that leads out of the package, not the reference's file
    itself, not a compiled extension module (which could do anything the worker's guard
    cannot see)."""
    import importlib.machinery
    package = package.resolve()
    reference = set() if _is_reference(package) else _reference_files()
    compiled = tuple(importlib.machinery.EXTENSION_SUFFIXES) + (".so", ".pyd", ".dylib")
    for folder, dirs, files in os.walk(package):
        for name in dirs + files:
            path = Path(folder) / name
            shown = path.relative_to(package)
            if name.endswith(compiled):
                return (f"ecglab/{shown} is a compiled module; the grader grades Python source "
                        f"only (remove it)")
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(package):
                    return (f"ecglab/{shown} is a link to {target}, outside the submitted package; "
                            f"submit the file itself")
            try:
                stat = path.stat()
            except OSError:
                continue
            if (stat.st_dev, stat.st_ino) in reference:
                return f"ecglab/{shown} is the reference solution's own file (a hard link); submit your own"
    return ""


class _Ended(Exception):
    pass


def _write_frame(fd: int, payload: bytes, deadline: float) -> None:
    """Send one frame to the worker before ``deadline``: a worker that stops reading (its pipe
    full) cannot block the grader."""
    view = memoryview(len(payload).to_bytes(4, "big") + payload)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Ended("timeout")
        _, ready, _ = select.select([], [fd], [], min(remaining, 0.5))
        if not ready:
            continue
        try:
            written = os.write(fd, view[: 1 << 16])
        except BlockingIOError:
            continue
        view = view[written:]


def _read_exactly(fd: int, n: int, deadline: float) -> bytes:
    """``n`` bytes from ``fd`` before ``deadline``; chunks are joined once (linear in ``n``)."""
    chunks, left = [], n
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Ended("timeout")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if not ready:
            continue
        chunk = os.read(fd, min(1 << 20, left))
        if not chunk:
            raise _Ended("eof")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float) -> bytes:
    size = int.from_bytes(_read_exactly(fd, 4, deadline), "big")
    if size > wire.MAX_FRAME:
        raise _Ended("oversize")
    return _read_exactly(fd, size, deadline)


def _receive(fd: int, proc: subprocess.Popen, deadline: float) -> dict:
    """The next message from the worker; raises _Ended on timeout, when the worker is gone or
    when what it sent is not a message of the protocol."""
    payload = _read_frame(fd, deadline)
    try:
        message = wire.decode(payload.decode()) if payload else None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError, OverflowError):
        raise _Ended("unreadable") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise _Ended("unreadable")
    if _depth(message) > MAX_DEPTH:
        raise _Ended(f"malformed: a value nested more than {MAX_DEPTH} levels deep")
    return message


MAX_DEPTH = 64   # nesting of lists, tuples and dicts in one message; results are arrays, not trees


def _depth(value) -> int:
    """How deeply lists, tuples and dicts nest in ``value`` (without recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, (list, tuple)):
            children = item
        elif isinstance(item, dict):
            children = list(item.values()) + list(item.keys())
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        todo.extend((c, level + 1) for c in children)
    return deepest


class _Refused(Exception):
    pass


def _text(value, limit: int = 2000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _clean_error(error) -> dict:
    """An error frame's fields as the grader uses them; anything else is a protocol error."""
    if not isinstance(error, dict) or not isinstance(error.get("type"), str):
        raise _Ended("malformed: an error without a type")
    mro = error.get("mro")
    return {"type": error["type"][:200], "message": _text(error.get("message")),
            "where": _text(error.get("where"), 300), "line": _text(error.get("line"), 300),
            "traceback": _text(error.get("traceback")),
            "mro": [m[:200] for m in mro if isinstance(m, str)][:50] if isinstance(mro, list)
            else [error["type"][:200]]}


def _result(message: dict, expected_ids: set, results: dict) -> dict:
    """A ``result`` frame, checked: a known id, not seen before, fields of the right kinds."""
    call_id = message.get("id")
    if type(call_id) is not int or call_id not in expected_ids:
        raise _Ended(f"malformed: a result for call {call_id!r}, which the grader did not make")
    if call_id in results:
        raise _Ended(f"malformed: a second result for call {call_id}")
    reply = {"id": call_id}
    if message.get("error") is not None:
        reply["error"] = _clean_error(message["error"])
    elif "value" in message:
        reply["value"] = message["value"]
    else:
        raise _Ended(f"malformed: the result of call {call_id} has neither a value nor an error")
    modified = message.get("modified", [])
    if not isinstance(modified, list) or not all(type(m) in (int, str) for m in modified):
        raise _Ended(f"malformed: the result of call {call_id} has a bad 'modified' field")
    reply["modified"] = modified[:50]
    seconds = message.get("seconds", 0.0)
    reply["seconds"] = float(seconds) if type(seconds) in (int, float) else 0.0
    return reply


def _fatal(outcome: WorkerOutcome, message: dict) -> WorkerOutcome:
    """The worker's last word: an import failure, out of memory, or (``refused``) its guard
    stopped something the grader does not allow — then nothing of the run counts."""
    kind = message.get("kind")
    error = _clean_error(message.get("error"))
    if kind == "refused":
        return WorkerOutcome("refused", detail=error["message"], ecglab_file=outcome.ecglab_file)
    outcome.status = kind if kind in ("import", "memory", "crash") else "crash"
    outcome.error = error
    return outcome


def _converse(proc, fd_in, fd_out, request, serve_reference, deadline, package, timeout, memory_mb=3072):
    outcome = WorkerOutcome("ok")
    logged: dict = {}
    expected_ids = {c["id"] for c in request["calls"]}
    allowed = set(request["stand_ins"])
    server = ReferenceServer(serve_reference, memory_mb)
    if allowed and hasattr(os, "fork"):
        server.start()       # now, while the worker starts up, not at its first call
    try:
        hello = _receive(fd_in, proc, deadline)
        if hello.get("op") == "fatal":
            return _fatal(WorkerOutcome("ok"), hello)
        if hello.get("op") != "hello" or not isinstance(hello.get("file"), str):
            raise _Ended("malformed: the first message was not the worker's hello")
        outcome.ecglab_file = hello["file"]
        if not Path(outcome.ecglab_file).resolve().is_relative_to(package.resolve()):
            return WorkerOutcome("wrong-package", ecglab_file=outcome.ecglab_file,
                                 detail=f"imported ecglab from {outcome.ecglab_file}, "
                                        f"not from {package}")
        _write_frame(fd_out, trusted_dumps(request), deadline)
        while True:
            message = _receive(fd_in, proc, deadline)
            op = message.get("op")
            if op == "result":
                reply = _result(message, expected_ids, outcome.results)
                outcome.results[reply["id"]] = reply
            elif op == "reference":
                target, args, kwargs = message.get("target"), message.get("args"), message.get("kwargs")
                if not isinstance(target, str) or not isinstance(args, list) \
                        or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
                    raise _Ended("malformed: a reference call without target, args and kwargs")
                if target not in allowed:
                    raise _Refused(target)
                outcome.reference_calls.add(target)
                during = len(outcome.results)          # the call whose code asked for it
                key = (during, target)
                logged[key] = logged.get(key, 0) + 1
                if logged[key] <= REFERENCE_LOG:
                    outcome.reference_log.append((during, target, args, kwargs))
                _write_frame(fd_out, server.call(target, args, kwargs, deadline), deadline)
            elif op == "fatal":
                return _fatal(outcome, message)
            elif op == "done":
                return outcome
            else:
                raise _Ended(f"malformed: a message of unknown kind {op[:40]!r}")
    except _Refused as refused:
        target = str(refused)
        outcome.status = "refused"
        offered = ", ".join(sorted(allowed)) or "none"
        outcome.detail = (f"asked the grader to run {target[:80]!r}, which this exercise's check "
                          f"does not provide (the reference helpers it provides: {offered})")
        return outcome
    except _Ended as ended:
        reason = str(ended)
        if reason == "timeout":
            outcome.status = "timeout"
            outcome.detail = f"did not finish within {timeout:g} s"
        elif reason == "oversize":
            outcome.status = "protocol"
            outcome.detail = f"sent a message larger than the grader accepts ({wire.MAX_FRAME // 2**20} MB)"
        elif reason == "unreadable":
            outcome.status = "protocol"
            outcome.detail = "sent a message the grader cannot read as plain data"
        elif reason.startswith("malformed"):
            outcome.status, outcome.detail = "protocol", reason.split(": ", 1)[-1]
        elif reason == "reference-crash":
            outcome.status = "crash"
            outcome.detail = "the reference helper the grader ran for this exercise failed"
        else:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            outcome.status = "crash"
        return outcome
    except (BrokenPipeError, OSError):
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        outcome.status = "crash"
        return outcome
    finally:
        server.close()


# --- pickling for the worker, and the reference server -------------------------------------------

REFERENCE_PREFIX = "_ecglab_reference"


class _TrustedPickler(pickle.Pickler):
    """Pickles what the grader sends the worker, refusing any object of the reference package:
    the worker could not unpickle it, and it would hand the student the reference's code."""

    def reducer_override(self, obj):
        module = obj.__module__ if isinstance(obj, type) or callable(obj) and hasattr(obj, "__module__") \
            else type(obj).__module__
        if isinstance(module, str) and module.startswith(REFERENCE_PREFIX):
            what = getattr(obj, "__qualname__", type(obj).__qualname__)
            raise pickle.PicklingError(f"{what} of the reference cannot be sent to the worker: "
                                       f"send data (or a probe that builds it) instead")
        return NotImplemented


def trusted_dumps(value) -> bytes:
    buffer = io.BytesIO()
    _TrustedPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _reply_error(exc: BaseException) -> bytes:
    return trusted_dumps({"error": {"type": type(exc).__name__, "message": str(exc)[:500]}})


class ReferenceServer:
    """Runs the reference helpers the worker asks for, in a forked copy of the grader.

    The copy is made at the first call of an exercise and killed when the exercise ends: a
    reference call can take no longer than the exercise's time limit, and whatever it changes
    (module state, caches, files it opened) dies with it, so it cannot change what later
    exercises or later students are graded against. Where ``os.fork`` is missing (Windows) the
    call runs in the grader, on copies of its arguments.
    """

    def __init__(self, serve: Callable[[str, list, dict], object], memory_mb: int = 3072):
        self.serve = serve
        self.memory_mb = memory_mb
        self.pid = None
        self.fds: tuple = ()

    def start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: serve calls until the pipe closes, then leave without cleanup
            try:
                os.close(to_child_w)
                os.close(from_child_r)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _limit_memory(self.memory_mb)
                while True:
                    target, args, kwargs = pickle.loads(wire.read_frame(to_child_r))
                    wire.write_frame(from_child_w, self._serve_one(target, args, kwargs))
            except BaseException:
                pass
            finally:
                os._exit(0)
        os.close(to_child_r)
        os.close(from_child_w)
        self.pid, self.fds = pid, (to_child_w, from_child_r)

    def _serve_one(self, target: str, args: list, kwargs: dict) -> bytes:
        """One reference call, as the pickled reply for the worker."""
        try:
            payload = trusted_dumps({"value": self.serve(target, args, kwargs)})
            if len(payload) > wire.MAX_FRAME:
                raise MemoryError("the reference's result is larger than the grader sends")
            return payload
        except MemoryError:
            return _reply_error(MemoryError(f"the reference helper ran out of the "
                                            f"{self.memory_mb} MB it may use"))
        except Exception as exc:  # the reference raises by design (e.g. ValueError)
            return _reply_error(exc)

    def call(self, target: str, args: list, kwargs: dict, deadline: float) -> bytes:
        """The pickled reply for the worker: ``{"value": ...}`` or ``{"error": {...}}``."""
        try:
            args, kwargs = _plain(args), _plain(kwargs)
        except TypeError as exc:
            return _reply_error(exc)
        if not hasattr(os, "fork"):
            return self._serve_one(target, copy.deepcopy(args), copy.deepcopy(kwargs))
        if self.pid is None:
            self.start()
        wire.write_frame(self.fds[0], pickle.dumps((target, args, kwargs)))
        try:
            return _read_frame(self.fds[1], deadline)
        except _Ended as ended:
            if str(ended) == "timeout":
                raise
            raise _Ended("reference-crash") from None

    def value(self, target: str, args: list, kwargs: dict, deadline: float):
        """What the reference returns, or a ``Raised`` where it raises (for the grader itself)."""
        from .cases import Raised
        reply = pickle.loads(self.call(target, args, kwargs, deadline))
        if "error" in reply:
            return Raised(reply["error"]["type"], reply["error"]["message"])
        return reply["value"]

    def close(self) -> None:
        if self.pid is None:
            return
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = None


def _limit_memory(memory_mb: int) -> None:
    """At most ``memory_mb`` more address space than this (forked) process has already."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        limit = pages * os.sysconf("SC_PAGE_SIZE") + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass


def _plain(value):
    """Worker data as a reference function takes it: tensors back to torch; anything that is
    not data (a repr that came back for an object) is refused with a clear message."""
    if isinstance(value, wire.Opaque):
        raise TypeError(f"the grader's stand-in takes plain data (numbers, arrays, lists...), "
                        f"not a {value.type_name} object")
    if isinstance(value, wire.Tensorlike):
        import torch
        return torch.as_tensor(value.array)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
