"""The grader's worker: runs one exercise of student code in a process of its own.

The grader starts it as ``python -I -S -c <this file's text> <settings>``, so the worker imports
nothing of the autograder and its ``sys.path`` is exactly what the grader puts there: a private
folder with a link to the student's ``ecglab`` and the interpreter's own libraries. The reference
solutions and the checks are never on it. Student code that hangs, exits, crashes or eats memory
can only end this process; the grader notices and goes on with the next exercise.

Protocol, over two pipes (frames = 4-byte big-endian length + payload):

* grader -> worker: pickled dicts (the grader is trusted): one ``run`` request, then replies to
  the worker's reference calls;
* worker -> grader: JSON with tagged values (never pickle: the grader must not execute anything
  the student controls): ``hello``, one ``result`` per call, ``reference`` calls, ``done``.

A reference call is how an exercise is graded with the reference versions of the other exercises
it uses: those functions are replaced by stand-ins that ask the grader to run the reference. The
grader serves only the stand-ins its request named.

A *probe* is how what is not data (a class, a model, a training step) is graded: a call may name
a function of :mod:`autograder.probes` (sent as source text with the request), which runs here
with the student's object and reduces its behaviour to data (shapes, counts, outputs, gradients).

Before any student code runs, :func:`guard` installs an audit hook (it cannot be removed from
Python) that lets this process read only the student's package, its own private folder and the
Python installation, write only its private folder, and refuses subprocesses, network, ctypes and
signals to other processes. That is the portable layer of isolation; an OS sandbox, where the
platform has one, is the stronger one.
"""

import base64
import builtins
import copy
import importlib
import json
import os
import pickle
import struct
import sys
import time
import traceback

MAX_FRAME = 256 * 2**20


# --- framing -------------------------------------------------------------------------------------

def read_frame(fd):
    header = _read_exactly(fd, 4)
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is over the limit")
    return _read_exactly(fd, size)


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_frame(fd, payload):
    data = struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --- encoding of values, worker -> grader ---------------------------------------------------------

SAFE_KINDS = "biufcUS"   # numpy dtype kinds that carry no Python objects


def encode(value, depth=0):
    """A JSON-able, tagged form of ``value``; objects that are not data become their repr."""
    if depth > 20:
        return {"__opaque__": type(value).__name__, "repr": "(nested too deep)"}
    module = type(value).__module__ or ""
    # numpy scalars first: np.float64 is also a Python float, np.str_ a str.
    if module == "numpy" and hasattr(value, "dtype") and getattr(value, "ndim", None) == 0 \
            and type(value).__name__ != "ndarray":
        if value.dtype.kind not in SAFE_KINDS:
            return {"__opaque__": type(value).__name__, "repr": _short_repr(value)}
        return {"__npscalar__": value.dtype.str, "v": encode(value.item(), depth + 1)}
    if value is None or type(value) in (bool, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        value = int(value)
        return value if abs(value) < 2**63 else {"__bigint__": str(value)}
    if isinstance(value, float):
        return {"__float__": repr(float(value))}
    if module == "numpy" and type(value).__name__ == "ndarray":
        if value.dtype.kind not in SAFE_KINDS:
            return {"__opaque__": f"ndarray[{value.dtype}]", "repr": repr(value)[:300]}
        data = value.tobytes(order="C")
        return {"__nd__": [value.dtype.str, list(value.shape), base64.b64encode(data).decode()]}
    if module.startswith("torch") and type(value).__name__ in ("Tensor", "Parameter"):
        array = value.detach().cpu().numpy()
        return {"__tensor__": str(value.dtype), "device": str(value.device),
                "nd": encode(array, depth + 1)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return {"__opaque__": type(value).__name__, "repr": _short_repr(value)}


def _short_repr(value):
    try:
        return repr(value)[:300]
    except Exception:
        return f"<{type(value).__name__} object>"


def decode(text):
    """The inverse of :func:`encode` (numpy and torch are imported only when needed)."""
    return json.loads(text, object_hook=_decode_tag)


def _decode_tag(obj):
    if "__nd__" in obj:
        import numpy as np
        dtype, shape, data = obj["__nd__"]
        dtype = np.dtype(dtype)
        if dtype.kind not in SAFE_KINDS:
            raise ValueError(f"refused dtype {dtype}")
        return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy()
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__bigint__" in obj:
        return int(obj["__bigint__"])
    if "__npscalar__" in obj:
        import numpy as np
        dtype = np.dtype(obj["__npscalar__"])
        if dtype.kind not in SAFE_KINDS:
            raise ValueError(f"refused dtype {dtype}")
        return dtype.type(obj["v"])
    if "__tensor__" in obj:
        return Tensorlike(obj["__tensor__"], obj["nd"], str(obj.get("device", "cpu"))[:40])
    if "__tuple__" in obj:
        return tuple(obj["__tuple__"])
    if "__dict__" in obj:
        return {_hashable(k): v for k, v in obj["__dict__"]}
    if "__opaque__" in obj:
        return Opaque(obj["__opaque__"], obj.get("repr", ""))
    return obj


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


class Opaque:
    """A value of the student's that is not plain data: only its type name and repr came back."""

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return self.text or f"<{self.type_name}>"


class Tensorlike:
    """A torch tensor that came back from the worker, as its dtype name and a numpy array."""

    def __init__(self, dtype, array, device="cpu"):
        self.dtype, self.array, self.device = str(dtype)[:40], array, device

    def __repr__(self):
        return f"tensor({self.array!r}, dtype={self.dtype}, device={self.device!r})"


# --- the worker ----------------------------------------------------------------------------------

class Channel:
    def __init__(self, fd_in, fd_out):
        self.fd_in, self.fd_out = fd_in, fd_out

    def send(self, message):
        write_frame(self.fd_out, json.dumps(encode(message), allow_nan=True).encode())

    def receive(self):
        return pickle.loads(read_frame(self.fd_in))


def error_info(exc):
    """Type, message and the last lines of the traceback that are in student code."""
    frames = traceback.extract_tb(exc.__traceback__)
    student = [f for f in frames if "ecglab" in f.filename.replace("\\", "/")]
    where = student[-1] if student else (frames[-1] if frames else None)
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:500],
        "where": f"{os.path.basename(where.filename)}, line {where.lineno}" if where else "",
        "line": (where.line or "") if where else "",
        "traceback": "".join(traceback.format_exception_only(type(exc), exc))[-800:],
    }


def make_stand_in(channel, target, real):
    """A function that runs the reference ``target`` in the grader instead of the student's."""

    def stand_in(*args, **kwargs):
        channel.send({"op": "reference", "target": target, "args": list(args), "kwargs": kwargs})
        reply = channel.receive()
        if "error" in reply:
            exc_type = getattr(builtins, reply["error"]["type"], RuntimeError)
            if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
                exc_type = RuntimeError
            raise exc_type(reply["error"]["message"])
        return reply["value"]

    stand_in.__name__ = getattr(real, "__name__", target.rsplit(".", 1)[-1])
    stand_in.__doc__ = f"Reference version of {target} (the grader's stand-in)."
    return stand_in


def snapshot(value, depth=0):
    """A comparable copy of ``value``'s contents: arrays and tensors by their bytes, modules by
    their state_dict, ``training`` flags and ``requires_grad``; None where it cannot tell."""
    module = type(value).__module__ or ""
    if depth > 8:
        return None
    if module == "numpy" and type(value).__name__ == "ndarray":
        if value.dtype.kind not in SAFE_KINDS:
            return ("nd-object", value.dtype.str, value.shape, copy.deepcopy(value))
        return ("nd", value.dtype.str, value.shape, value.tobytes())
    torch = sys.modules.get("torch")   # only where the lesson loaded it: never import it here
    if torch is not None and module.startswith("torch"):
        if isinstance(value, torch.Tensor):
            data = value.detach().cpu().contiguous()
            return ("tensor", str(value.dtype), tuple(value.shape), value.requires_grad,
                    data.numpy().tobytes() if data.dtype != torch.bfloat16 else data.float().numpy().tobytes())
    if torch is not None and isinstance(value, torch.nn.Module):
        return ("module", [(k, snapshot(t, depth + 1)) for k, t in value.state_dict().items()],
                [m.training for m in value.modules()],
                [p.requires_grad for p in value.parameters()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [snapshot(v, depth + 1) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, snapshot(v, depth + 1)) for k, v in value.items()])
    try:
        return ("copy", copy.deepcopy(value))
    except Exception:
        return None


def unchanged(before, after):
    """Whether ``after`` still holds what ``snapshot`` took as ``before``."""
    if before is None:
        return True
    now = snapshot(after)
    if before[0] == "copy":
        try:
            return bool(now[1] == before[1])
        except Exception:
            return True
    if before[0] == "nd-object":
        try:
            import numpy as np
            return bool(np.array_equal(before[3], after))
        except Exception:
            return True
    return now == before


def load_probes(source):
    """The probe functions (trusted code from the grader) as a module of their own."""
    import types
    probes = types.ModuleType("_grader_probes")
    exec(compile(source, "<autograder probes>", "exec"), probes.__dict__)
    return probes


def run(channel, request):
    module = importlib.import_module("ecglab." + request["module"])
    probes = load_probes(request["probes"]) if request.get("probes") else None
    for target in request["stand_ins"]:
        mod_name, name = target.rsplit(".", 1)
        helper_module = importlib.import_module("ecglab." + mod_name)
        setattr(helper_module, name, make_stand_in(channel, target, getattr(helper_module, name, None)))
    for call in request["calls"]:
        reply = {"op": "result", "id": call["id"]}
        args, kwargs = call["args"], call["kwargs"]
        originals = snapshot((args, kwargs))
        started = time.perf_counter()
        try:
            # a call may name another function of the module (the grader's check of the helpers)
            function = getattr(module, call.get("function") or request["function"])
            if call.get("probe"):
                reply["value"] = getattr(probes, call["probe"])(function, *args, **kwargs)
            else:
                reply["value"] = function(*args, **kwargs)
        except MemoryError:
            raise
        except Exception as exc:
            reply["error"] = error_info(exc)
        reply["seconds"] = time.perf_counter() - started
        try:
            changed = snapshot((args, kwargs)) != originals
        except Exception:
            changed = False
        if changed:
            reply["modified"] = [
                i for i, (a, b) in enumerate(zip(originals[1][0][1], args)) if not unchanged(a, b)
            ] + [k for (k, b) in originals[1][1][1] if not unchanged(b, kwargs.get(k))]
        else:
            reply["modified"] = []
        channel.send(reply)


# --- the guard -----------------------------------------------------------------------------------

REFUSED_EVENTS = (
    ("subprocess.Popen", "start a program"), ("os.system", "start a program"),
    ("os.exec", "start a program"), ("os.posix_spawn", "start a program"),
    ("os.spawn", "start a program"), ("os.fork", "fork"), ("os.forkpty", "fork"),
    ("pty.spawn", "start a program"),
    ("socket.connect", "use the network"), ("socket.bind", "use the network"),
    ("socket.sendto", "use the network"), ("socket.sendmsg", "use the network"),
    ("socket.getaddrinfo", "use the network"), ("urllib.Request", "use the network"),
    ("ctypes.dlopen", "use ctypes"), ("ctypes.dlsym", "use ctypes"), ("ctypes.dlsym/handle", "use ctypes"),
    ("ctypes.cdata", "use ctypes"), ("ctypes.cdata/buffer", "use ctypes"),
    ("ctypes.string_at", "use ctypes"), ("ctypes.wstring_at", "use ctypes"),
    ("ctypes.call_function", "use ctypes"), ("ctypes.PyObj_FromPtr", "use ctypes"),
    ("ctypes.addressof", "use ctypes"), ("ctypes.get_errno", "use ctypes"),
    ("ctypes.set_errno", "use ctypes"),
    ("os.kill", "signal a process"), ("os.killpg", "signal a process"),
    ("signal.pthread_kill", "signal a process"),
    ("gc.get_objects", "list the interpreter's objects"),
    ("gc.get_referrers", "list the interpreter's objects"),
    ("gc.get_referents", "list the interpreter's objects"),
    ("sys._current_frames", "look into other threads"),
    ("sys.setprofile", "trace the interpreter"), ("sys.settrace", "trace the interpreter"),
    ("os.fwalk", "walk folders by descriptor"),
    ("sqlite3.connect", "open a database"), ("sqlite3.connect/handle", "open a database"),
    ("sqlite3.enable_load_extension", "open a database"),
    ("resource.setrlimit", "change its limits"), ("resource.prlimit", "change its limits"),
    ("os.setuid", "change its user"), ("os.setgid", "change its user"),
    ("mmap.__new__", "map memory to files"),
)
#: event -> which arguments are paths it writes
WRITE_EVENTS = (
    ("os.remove", (0,)), ("os.rmdir", (0,)), ("os.mkdir", (0,)), ("os.rename", (0, 1)),
    ("os.link", (0, 1)), ("os.symlink", (1,)), ("os.truncate", (0,)), ("os.chmod", (0,)),
    ("os.chown", (0,)), ("os.utime", (0,)), ("os.chflags", (0,)), ("os.lchmod", (0,)),
    ("shutil.rmtree", (0,)), ("shutil.move", (0, 1)), ("shutil.copyfile", (1,)),
    ("shutil.copytree", (1,)), ("shutil.copymode", (1,)), ("shutil.copystat", (1,)),
    ("shutil.chown", (0,)), ("os.mkfifo", (0,)), ("os.mknod", (0,)),
)
READ_EVENTS = ("os.listdir", "os.scandir", "os.chdir")
#: modules that reach files or memory without an audit event of their own
REFUSED_IMPORTS = ("_posixsubprocess", "_ctypes", "readline", "_sqlite3", "_dbm", "_gdbm",
                   "_posixshmem", "_tkinter", "_multiprocessing")


def guard(read, write, deny, fd_out):
    """Install the audit hook: read only under ``read``, write only under ``write``, never
    under ``deny``; refuse programs, the network, ctypes, signals to other processes, the garbage
    collector's object lists, tracing, and modules that reach files without an audit event.

    A refusal is final: the hook sends the grader a ``fatal`` message of kind ``refused`` and ends
    the process at once. The hook never runs student code (it only looks at exact ``str``,
    ``bytes`` and ``int`` values; any other object given as a path is refused), and it keeps
    everything it uses in *default arguments* bound now, before any student code runs: built-in
    functions, immutable tuples and frozensets, and helper functions whose code and defaults
    cannot be replaced (setting ``__code__``/``__defaults__`` is refused). So student code that
    reaches the hook's frame (a signal handler, a ``RecursionError``'s traceback) can read it but
    cannot change what the hook decides. (This is Python's audit-hook layer: it stops what Python
    code can do, not code that corrupts the interpreter's memory — an OS sandbox does that.)
    """
    from json.encoder import encode_basestring_ascii as quote

    own = str(os.getpid())

    def refuse(what, write_fd=os.write, exit_now=os._exit, fd=fd_out, quote=quote):
        message = "the grader does not let graded code " + what
        payload = ('{"op": "fatal", "kind": "refused", "error": {"type": "PermissionError", '
                   '"message": ' + quote(message) + ', "where": "", "line": "", "traceback": ""}}')
        data = payload.encode()
        try:
            write_fd(fd, len(data).to_bytes(4, "big") + data)
        finally:
            exit_now(4)

    def realpath(path, lstat=os.lstat, readlink=os.readlink, getcwd=os.getcwd, tget=tuple.__getitem__,
                 startswith=str.startswith, split=str.split, join=str.join, len=len):
        """``path`` (an exact str) absolute, without ``.``, ``..`` or symbolic links."""
        if not startswith(path, "/"):
            path = getcwd() + "/" + path
        parts = []
        for p in split(path, "/"):
            if p and p != ".":
                parts.append(p)
        done, hops = [], 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/" + join("/", done + [part])
            try:
                is_link = (tget(lstat(candidate), 0) & 0o170000) == 0o120000
            except OSError:
                is_link = False
            if is_link and hops < 40:
                hops += 1
                target = readlink(candidate)
                if startswith(target, "/"):
                    done = []
                rest = []
                for p in split(target, "/"):
                    if p and p != ".":
                        rest.append(p)
                parts = rest + parts
            else:
                done.append(part)
        return "/" + join("/", done)

    def text_of(path, refuse=refuse, type=type, decode=bytes.decode):
        kind = type(path)
        if kind is str:
            return path
        if kind is bytes:
            return decode(path, "utf-8", "surrogateescape")
        refuse("pass an object other than str or bytes as a path")   # never look into it

    def allowed(path, roots, deny, own=own, startswith=str.startswith, split=str.split):
        for r in deny:
            if path == r or startswith(path, r + "/"):
                return False
        if startswith(path, "/proc/"):
            first = split(path, "/")[2]
            if first.isdigit() and first != own:
                return False
        for r in roots:
            if path == r or startswith(path, r + "/"):
                return True
        return False

    def is_directory(path, stat=os.stat, tget=tuple.__getitem__):
        try:
            return (tget(stat(path), 0) & 0o170000) == 0o040000
        except OSError:
            return False

    read = tuple(realpath(str(p)) for p in read)
    write = tuple(realpath(str(p)) for p in write)
    deny = tuple(realpath(str(p)) for p in deny)

    def hook(event, args, type=type, len=len, refuse=refuse, realpath=realpath, text_of=text_of,
             allowed=allowed, is_directory=is_directory, read=read, write=write, deny=deny,
             both=read + write, refused=REFUSED_EVENTS, writes=WRITE_EVENTS, reads=READ_EVENTS,
             imports=REFUSED_IMPORTS, getpid=os.getpid,
             writing_flags=os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND,
             directory_flags=os.O_DIRECTORY | getattr(os, "O_PATH", 0),
             guarded=frozenset(("__code__", "__defaults__", "__kwdefaults__")),
             watched=frozenset(["open", "import", "object.__setattr__", *READ_EVENTS,
                                *(name for name, _ in WRITE_EVENTS),
                                *(name for name, _ in REFUSED_EVENTS)])):
        if event not in watched:     # most events (compile, exec, pickle...): one set lookup
            return
        try:
            if event == "open":
                target = args[0]
                if target is None or type(target) is int:
                    return                      # a descriptor this process already holds
                path = realpath(text_of(target))
                mode, flags = args[1], args[2] if len(args) > 2 else 0
                if type(flags) is not int:
                    flags = 0
                writing = bool(flags & writing_flags)
                if type(mode) is str:
                    for c in "wax+":
                        if c in mode:
                            writing = True
                if flags & directory_flags or is_directory(path):
                    refuse("open the folder " + path)
                if not allowed(path, write if writing else both, deny):
                    refuse(("write " if writing else "read ") + path)
                return
            if event in reads:
                target = args[0] if args else "."
                if type(target) is int:
                    refuse("use a folder by descriptor (" + event + ")")
                path = realpath(text_of(target))
                if not allowed(path, both, deny):
                    refuse("look into " + path)
                return
            for name, positions in writes:
                if event == name:
                    for i in positions:
                        if i < len(args) and args[i] is not None:
                            if type(args[i]) is int:
                                refuse("change a file by descriptor (" + event + ")")
                            path = realpath(text_of(args[i]))
                            if not allowed(path, write, deny):
                                refuse("change " + path)
                    return
            for name, what in refused:
                if event == name:
                    if name in ("os.kill", "os.killpg") and len(args) and type(args[0]) is int \
                            and args[0] in (0, getpid()):
                        return                  # its own process (group) is fine
                    refuse(what)
            if event == "object.__setattr__" and len(args) > 1 and type(args[1]) is str \
                    and args[1] in guarded:
                refuse("replace a function's code or defaults")
            if event == "import" and len(args) and type(args[0]) is str and args[0] in imports:
                refuse("import " + args[0])
        except BaseException:   # whatever went wrong in here (a RecursionError...): refused
            refuse("go on after its guard failed")

    # Starting a program goes through _posixsubprocess.fork_exec, which raises no audit event of
    # its own: load it now and take the function away (a fresh import of it is refused above).
    import subprocess  # noqa: F401  (loads _posixsubprocess)
    posixsubprocess = sys.modules.get("_posixsubprocess")
    if posixsubprocess is not None:
        def fork_exec(*args, refuse=refuse, **kwargs):
            refuse("start a program")
        posixsubprocess.fork_exec = fork_exec
    sys.addaudithook(hook)


def main():
    settings = json.loads(sys.argv[1])
    # Started with -I -S, sys.path holds just the standard library: add the student's package
    # in front and the site-packages folders (numpy, torch...) behind.
    sys.path[:] = [settings["path_first"]] + sys.path + settings["site"]
    sys.setrecursionlimit(5000)
    channel = Channel(settings["fd_in"], settings["fd_out"])
    try:
        # the libraries the lesson needs, loaded before the guard (they use ctypes to load)
        for name in settings.get("preload", []):
            importlib.import_module(name)
        if settings.get("guard"):
            guard(**settings["guard"], fd_out=settings["fd_out"])
        import ecglab
        channel.send({"op": "hello", "file": os.path.realpath(ecglab.__file__),
                      "python": sys.version.split()[0]})
        request = channel.receive()
        run(channel, request)
    except MemoryError:
        channel.send({"op": "fatal", "kind": "memory", "error": {"type": "MemoryError",
                      "message": "out of memory", "where": "", "line": "", "traceback": ""}})
        os._exit(3)
    except Exception as exc:
        channel.send({"op": "fatal", "kind": "import", "error": error_info(exc)})
        return
    channel.send({"op": "done"})


if __name__ == "__main__":
    main()
