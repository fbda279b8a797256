"""The grader against a hostile student: blank stubs plus a few lines that try to get the points
without writing the exercise, or to break the grading of others.

Every attack must cost the attacker's own exercise (0 points, a message that says why) and
nothing else: the report comes out whole, and a reference submission graded right after it gets
full marks.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from autograder.course import load_course
from autograder.grader import grade, grade_exercise
from autograder.sandbox import ReferenceServer

from .conftest import SOLUTIONS
from .test_grader import make_impl

COURSE = load_course()

#: finds the worker's channel to the grader, as an attacker would (it is in the same process)
CHANNEL = '''
def _channel():
    try:
        raise RuntimeError("a frame to start from")
    except RuntimeError as exc:
        frame = exc.__traceback__.tb_frame
    while "channel" not in frame.f_locals:
        frame = frame.f_back
    return frame.f_locals["channel"]
'''


def blank_plus(tmp_path: Path, code: str) -> Path:
    """Blank lesson-1 stubs with ``code`` appended to preprocess.py."""
    return make_impl(tmp_path, CHANNEL + code, solved=())


def attacked(tmp_path: Path, exercise_id: str, code: str, **course_changes):
    course = replace(COURSE, **course_changes) if course_changes else COURSE
    return grade_exercise(COURSE.exercise(exercise_id), blank_plus(tmp_path, code), course)


# --- (a) asking the grader for the reference of the exercise under test ------------------------------

@pytest.mark.parametrize("target", ["preprocess.normalize", "preprocess.__setattr__",
                                    "preprocess.np.save", "data.fetch.fetch_url"])
def test_the_grader_runs_only_the_stand_ins_the_request_named(tmp_path, target):
    result = attacked(tmp_path, "1.2", f'''
def normalize(x):
    c = _channel()
    c.send({{"op": "reference", "target": {target!r}, "args": [x], "kwargs": {{}}}})
    return c.receive()["value"]
''')
    assert result.points == 0 and result.status == "refused", result.message
    assert target in result.message


def test_a_stand_in_of_another_exercise_is_served(tmp_path):
    # 1.4 may use the reference normalize and local_maxima, as its request names them: the
    # attacker gets their values but still has to write find_r_peaks itself
    result = attacked(tmp_path, "1.4", '''
def find_r_peaks(window, threshold=0.9):
    return local_maxima(normalize(window))
''')
    assert result.status in ("partial", "failed") and result.points < result.max


# --- (b) and (d): reading the reference from disk and running it -----------------------------------

@pytest.mark.parametrize("where", [
    "os.path.join(os.readlink(f'/proc/{os.getppid()}/cwd'), 'solutions')",
    "os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(sys.executable))), 'solutions')",
    repr(str(SOLUTIONS)),
])
def test_reading_and_running_the_reference_from_disk_is_refused(tmp_path, where):
    result = attacked(tmp_path, "1.2", f'''
import os, sys
def normalize(x):
    path = os.path.join({where}, "ecglab", "preprocess.py")
    namespace = {{}}
    exec(open(path).read(), namespace)
    return namespace["normalize"](x)
''')
    assert result.points == 0 and result.status == "refused", result.message
    assert "does not let graded code read" in result.message


def test_the_grader_s_environment_and_memory_are_out_of_reach(tmp_path):
    result = attacked(tmp_path, "1.2", '''
import os
def normalize(x):
    for name in ("environ", "mem", "cmdline"):
        try:
            open(f"/proc/{os.getppid()}/{name}", "rb").read(10)
            return x      # reading it is what must not work
        except PermissionError:
            pass          # never reached: a refusal ends the worker
''')
    assert result.points == 0 and result.status == "refused" and "/proc/" in result.message


def test_starting_programs_and_ctypes_are_refused(tmp_path):
    result = attacked(tmp_path, "1.2", '''
def normalize(x):
    import subprocess
    subprocess.run(["cat", "/etc/hostname"])
''')
    assert result.points == 0 and "start a program" in result.message
    result = attacked(tmp_path / "c", "1.2", '''
def normalize(x):
    import ctypes
    ctypes.CDLL(None)
''')
    assert result.points == 0 and ("use ctypes" in result.message or "import _ctypes" in result.message)


ATTACKS_ON_THE_GUARD = {
    # the refusal's exception would carry the hook's frame, and with it its settings
    "traceback": """
    try:
        open("/etc/../" + SOLUTION)
    except PermissionError as exc:
        tb = exc.__traceback__
        while tb.tb_next:
            tb = tb.tb_next
        tb.tb_frame.f_locals["deny"] = ()
    return _from_disk(x)""",
    # the hook itself, through the garbage collector's list of objects
    "gc": """
    import gc
    hooks = [o for o in gc.get_objects() if getattr(o, "__name__", "") == "hook"]
    return _from_disk(x)""",
    # tables of the worker module the hook might read
    "globals": """
    import sys
    for name in ("REFUSED_EVENTS", "READ_EVENTS", "WRITE_EVENTS", "REFUSED_IMPORTS"):
        try:
            getattr(sys.modules["__main__"], name).clear()
        except AttributeError:      # tuples: nothing to clear
            setattr(sys.modules["__main__"], name, ())
    return _from_disk(x)""",
}


#: what every attack on the guard is after: the reference normalize, read from disk and run
FROM_DISK = f"""
SOLUTION = {str(SOLUTIONS / "ecglab" / "preprocess.py")!r}
def _from_disk(x):
    namespace = {{}}
    exec(open(SOLUTION).read(), namespace)
    return namespace["normalize"](x)
"""


@pytest.mark.parametrize("how", list(ATTACKS_ON_THE_GUARD))
def test_the_guard_cannot_be_taken_apart_from_inside(tmp_path, how):
    """A refusal ends the worker (no exception, and no frame of the hook, reaches student code);
    the hook keeps its settings in default arguments and refuses the object lists of gc."""
    result = attacked(tmp_path, "1.2", FROM_DISK + f"""
def normalize(x):{ATTACKS_ON_THE_GUARD[how]}
""")
    assert result.points == 0 and result.status == "refused", result.message


def test_a_folder_descriptor_cannot_route_around_the_paths(tmp_path):
    relative = ".." + str(SOLUTIONS / "ecglab" / "preprocess.py")
    result = attacked(tmp_path, "1.2", f"""
import os
def normalize(x):
    usr = os.open("/usr", os.O_RDONLY)          # a folder: refused before it can be a dir_fd
    fd = os.open({relative!r}, os.O_RDONLY, dir_fd=usr)
    namespace = {{}}
    exec(os.read(fd, 1 << 20).decode(), namespace)
    return namespace["normalize"](x)
""")
    assert result.points == 0 and result.status == "refused" and "folder" in result.message


def test_a_stand_in_never_calls_the_exercise_under_test(tmp_path):
    # the reference extract_beats normalises: offered to 1.2, it would compute normalize
    result = attacked(tmp_path, "1.2", """
def normalize(x):
    x = np.asarray(x)
    if x.ndim == 1:
        return extract_beats(x, np.array([0]), period=len(x), length=len(x), factor=1.0)[0]
    return np.stack([normalize(r) for r in x])
""")
    assert result.points == 0, result.message


def test_forged_probe_results_do_not_pass_value_cases(tmp_path):
    impl = make_impl(tmp_path, """
import sys as _sys
_main = _sys.modules["__main__"]
_load = getattr(_main, "load_probes", None)
if _load is not None:
    def _forged(source):
        probes = _load(source)
        probes.gradients = lambda *a, **k: {"problem": None, "without_gradient": [],
                                            "input_gradient": None}
        probes.forward_with = lambda *a, **k: {"problem": None, "output": None,
                                               "forced_inputs": [], "input_changed": False}
        return probes
    _main.load_probes = _forged
""", solved=(), module="models")
    result = grade_exercise(COURSE.exercise("2.2"), impl)
    passed = {c.name for c in result.cases if c.passed}
    assert not any(word in name for name in passed for word in ("values", "gradients", "negative"))


MORE_ATTACKS = {
    # a path object whose __class__ runs code inside the hook (isinstance would look it up)
    "code inside the hook": """
import shutil
class _Path:
    def __fspath__(self):
        return "nothing-here"
    @property
    def __class__(self):
        raise SystemExit("ran inside the hook")
def normalize(x):
    try:
        shutil.rmtree(_Path())
    except BaseException:
        pass
    return _from_disk(x)
""",
    # a signal handler that catches the hook's frame and rewrites its settings
    "signal handler": """
import signal
_seen = []
def _handler(signum, frame):
    while frame is not None:
        if frame.f_code.co_name == "hook":
            frame.f_locals["deny"] = ()
            _seen.append(frame)
        frame = frame.f_back
def normalize(x):
    signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, 1e-4, 1e-4)
    for _ in range(20000):
        try:
            open(__file__).close()
        except OSError:
            pass
    signal.setitimer(signal.ITIMER_REAL, 0)
    return _from_disk(x)
""",
    # a RecursionError raised inside the hook, whose traceback holds the hook's frame
    "recursion": """
def _deep(n):
    try:
        return _deep(n + 1)
    except RecursionError:
        try:
            open(__file__).close()
        except RecursionError as exc:
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_name == "hook":
                    tb.tb_frame.f_locals["deny"] = ()
                tb = tb.tb_next
        return n
def normalize(x):
    _deep(0)
    return _from_disk(x)
""",
    "readline": """
def normalize(x):
    import readline
    readline.read_history_file(SOLUTION)
""",
    "sqlite3": """
def normalize(x):
    import sqlite3
    sqlite3.connect("/tmp/written-by-a-student.sqlite")
""",
}


@pytest.mark.parametrize("how", list(MORE_ATTACKS))
def test_the_hook_runs_no_student_code_and_keeps_its_settings(tmp_path, how):
    result = attacked(tmp_path, "1.2", FROM_DISK + MORE_ATTACKS[how])
    assert result.points == 0 and result.status == "refused", result.message


def test_a_compiled_module_in_the_package_is_refused(tmp_path):
    impl = blank_plus(tmp_path, "")
    (impl / "ecglab" / "_native.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    result = grade_exercise(COURSE.exercise("1.2"), impl)
    assert result.status == "refused" and "compiled module" in result.message


def test_a_worker_that_stops_reading_cannot_block_the_grader(tmp_path):
    # a reference call with 16 MB of input, then the worker sleeps: the reply fills the pipe
    started = time.monotonic()
    result = attacked(tmp_path, "1.4", '''
import time as _time
def find_r_peaks(window, threshold=0.9):
    c = _channel()
    c.send({"op": "reference", "target": "preprocess.normalize",
            "args": [np.zeros(2_000_000)], "kwargs": {}})
    _time.sleep(1000)
''', timeout_seconds=4)
    assert result.status == "timeout", result.message
    assert time.monotonic() - started < 20


# --- (c) a module that is a link to the reference -------------------------------------------------------

def test_a_link_out_of_the_package_is_refused(tmp_path):
    impl = blank_plus(tmp_path, "")
    module = impl / "ecglab" / "preprocess.py"
    module.unlink()
    module.symlink_to(SOLUTIONS / "ecglab" / "preprocess.py")
    report = grade(impl, lesson=1)
    assert report.total == 0
    assert all(e.status == "refused" and "link" in e.message for e in report.exercises)


def test_a_hard_link_to_the_reference_is_refused(tmp_path):
    impl = blank_plus(tmp_path, "")
    module = impl / "ecglab" / "preprocess.py"
    module.unlink()
    try:
        os.link(SOLUTIONS / "ecglab" / "preprocess.py", module)
    except OSError as exc:  # another file system
        pytest.skip(f"cannot hard-link here: {exc}")
    result = grade_exercise(COURSE.exercise("1.2"), impl)
    assert result.status == "refused" and "hard link" in result.message


# --- frames the grader does not accept -------------------------------------------------------------

BAD_FRAMES = {
    "unknown id": '{"op": "result", "id": 999, "value": 1}',
    "error without fields": '{"op": "result", "id": 0, "error": {"message": "no type"}}',
    "unknown kind": '{"op": "teleport"}',
    "not a message": '[1, 2, 3]',
    "not JSON": 'this is not json',
    "a bad array": '{"op": "result", "id": 0, "value": {"__nd__": ["<f8", [3], "!!"]}}',
}


@pytest.mark.parametrize("what", list(BAD_FRAMES))
def test_bad_frames_cost_only_their_exercise(tmp_path, what):
    frame = BAD_FRAMES[what]
    result = attacked(tmp_path, "1.2", f'''
import os as _os
def normalize(x):
    c = _channel()
    payload = {frame!r}.encode()
    _os.write(c.fd_out, len(payload).to_bytes(4, "big") + payload)
    return x
''')
    assert result.points == 0 and result.status == "protocol", result.message


def test_an_oversized_frame_is_refused_unread(tmp_path):
    result = attacked(tmp_path, "1.2", '''
import os as _os
def normalize(x):
    _os.write(_channel().fd_out, (2**31).to_bytes(4, "big"))
    return x
''')
    assert result.status == "protocol" and "larger than" in result.message


def test_a_number_no_comparison_can_hold(tmp_path):
    result = attacked(tmp_path, "1.5", '''
def nominal_period(r_peaks):
    if len(r_peaks) < 2:
        raise ValueError("too few")
    return 10**400
''')
    # the one case where the function must raise passes; every case with a value fails
    assert result.points < 0.5 and result.status == "partial", result.message
    assert "cannot compare" in result.message


def test_a_large_result_comes_back_whole(tmp_path):
    # 48 MB of float64 (64 MB of JSON): received, decoded and compared like any other
    result = attacked(tmp_path, "1.2", '''
def normalize(x):
    import numpy as np
    return np.zeros(6_000_000)
''')
    assert result.status == "failed" and "shape (6000000,)" in result.message


def test_a_deeply_nested_result_leaves_the_report_whole(tmp_path):
    impl = blank_plus(tmp_path, """
import sys as _sys
_main = _sys.modules["__main__"]
_main.encode = lambda value, depth=0: [_main.encode(v) for v in value] if isinstance(value, list) else value
def find_r_peaks(window, threshold=0.9):
    deep = []
    for _ in range(600):
        deep = [deep]
    return deep
""")
    report = grade(impl, lesson=1)
    by_id = {e.id: e for e in report.exercises}
    assert by_id["1.4"].points == 0 and by_id["1.4"].status == "protocol", by_id["1.4"].message
    assert len(report.to_json()["exercises"]) == len(report.exercises)


def test_the_reference_server_has_a_memory_limit():
    def serve(target, args, kwargs):
        return bytearray(64 * 2**30)          # 64 GB

    server = ReferenceServer(serve, memory_mb=512)
    try:
        got = server.value("x", [], {}, time.monotonic() + 30)
    finally:
        server.close()
    assert got.type == "MemoryError"


# --- a stall in a reference helper ------------------------------------------------------------------

def test_a_reference_call_is_bounded_by_the_exercise_s_time(tmp_path):
    # extract_beats is a stand-in that 1.7 may use: fed ten million peaks, the reference loops
    # for minutes; the exercise times out on time, and the grader goes on
    started = time.monotonic()
    result = attacked(tmp_path, "1.7", '''
def beats_from_signal(signal, fs=125, threshold=0.9):
    import numpy as np
    return extract_beats(np.zeros(1250), np.zeros(10_000_000, dtype=np.int64), 100.0, length=1)
''', timeout_seconds=4)
    assert result.status == "timeout", result.message
    assert time.monotonic() - started < 20


def test_a_reference_call_cannot_change_what_later_calls_get():
    state = []

    def serve(target, args, kwargs):
        state.append(target)          # a side effect in the reference
        return len(state)

    server = ReferenceServer(serve)
    try:
        first = server.value("x", [], {}, time.monotonic() + 10)
        second = server.value("x", [], {}, time.monotonic() + 10)
    finally:
        server.close()
    assert (first, second) == (1, 2)      # within one exercise, one server
    assert state == []                    # nothing of it reached the grader
    server = ReferenceServer(serve)
    try:
        assert server.value("x", [], {}, time.monotonic() + 10) == 1   # the next exercise: fresh
    finally:
        server.close()


# --- and after all that ---------------------------------------------------------------------------------

def test_the_reference_graded_after_the_attacks_gets_full_marks(tmp_path):
    attacked(tmp_path / "a", "1.2", '''
import sys
def normalize(x):
    for name, module in list(sys.modules.items()):
        if name.startswith("ecglab"):
            module.__dict__.clear()
    raise RuntimeError("spoiled what I could")
''')
    report = grade(SOLUTIONS, lesson=1)
    assert report.total == report.max == COURSE.lesson(1).points
    assert np.isclose(report.total, 14)
