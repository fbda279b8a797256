"""Benchmark of grading: how long `autograder check` takes per lesson, how much of it is starting
workers (the worker imports numpy, and torch for lessons 2-5), and how long a large result takes
to come back. Prints figures; not a test.

    python tests/benchmarks/bench_grading.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from autograder.course import SOLUTIONS, load_course  # noqa: E402
from autograder.generate import render_package, write_tree  # noqa: E402
from autograder.sandbox import run_exercise  # noqa: E402


def check_seconds(lesson: int, repeat: int) -> tuple[float, dict]:
    """Median wall time of ``python -m autograder check --impl solutions --lesson N``, and the
    JSON report of the last run."""
    times, report = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "autograder", "check", "--impl", str(SOLUTIONS),
                               "--lesson", str(lesson), "--json"], cwd=REPO, capture_output=True,
                              text=True, check=True)
        times.append(time.perf_counter() - started)
        report = json.loads(proc.stdout)
    return statistics.median(times), report


def worker_start_seconds(module: str, preload: tuple, repeat: int) -> float:
    """Median seconds for a worker to start, import the package and finish an empty request."""
    times = []
    for _ in range(repeat):
        outcome = run_exercise(SOLUTIONS, {"module": module, "function": "", "stand_ins": [],
                                           "calls": []}, None, 60, 3072, preload)
        assert outcome.status == "ok", outcome
        times.append(outcome.seconds)
    return statistics.median(times)


def large_result_seconds() -> float:
    """Seconds to grade one exercise whose result is 48 MB of float64 (64 MB of JSON)."""
    from autograder.grader import grade_exercise
    course = load_course()
    with tempfile.TemporaryDirectory() as tmp:
        files = render_package(solved_exercises=frozenset())
        files["preprocess.py"] += "\ndef normalize(x):\n    return np.zeros(6_000_000)\n"
        write_tree(files, Path(tmp) / "ecglab")
        started = time.perf_counter()
        result = grade_exercise(course.exercise("1.2"), tmp, course)
        assert result.status == "failed"
        return time.perf_counter() - started


def receive_seconds(megabytes: int) -> float:
    """Seconds for the grader to receive and decode one result frame of a float64 array of
    ``megabytes`` MB, written into a pipe by another thread (as a worker would)."""
    import os
    import threading

    import numpy as np

    from autograder import worker as wire
    from autograder.sandbox import _receive
    value = {"op": "result", "id": 0, "value": np.zeros(megabytes * 2**20 // 8)}
    payload = json.dumps(wire.encode(value)).encode()
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (wire.write_frame(w, payload), os.close(w)))
    started = time.perf_counter()
    writer.start()
    message = _receive(r, None, time.monotonic() + 120)
    seconds = time.perf_counter() - started
    writer.join()
    os.close(r)
    assert message["value"].nbytes == megabytes * 2**20
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    course = load_course()
    starts = {"numpy": worker_start_seconds("preprocess", ("numpy",), args.repeat),
              "numpy + torch": worker_start_seconds("models", ("numpy", "torch"), args.repeat)}
    print("worker start (empty request), median of", args.repeat)
    for what, seconds in starts.items():
        print(f"  {what:<14} {seconds:6.2f} s")
    print("autograder check --impl solutions, median wall time")
    for lesson in course.lessons:
        wall, report = check_seconds(lesson.number, args.repeat)
        workers = len(report["exercises"])
        # each exercise is one worker; those whose code called reference helpers start a second,
        # ungraded one for the note about the student's own helpers
        with_note = sum(1 for e in report["exercises"] if e["note"])
        start = starts["numpy + torch" if lesson.number >= 2 else "numpy"]
        share = (workers + with_note) * start / wall
        print(f"  lesson {lesson.number}: {wall:6.2f} s for {workers} exercises "
              f"({report['total']:g}/{report['max']:g} points); starting "
              f"{workers + with_note} workers ≈ {share:.0%} of it")
    print("one result frame received and decoded (linear in its size):")
    for megabytes in (12, 24, 48):
        print(f"  {megabytes:>3} MB of float64: {receive_seconds(megabytes):.2f} s")
    print(f"normalize returning 48 MB for each of its calls, graded: {large_result_seconds():.2f} s")


if __name__ == "__main__":
    main()
