"""Benchmark: how fast the lesson-5 activation explorer answers a control change.

Builds ``activation_explorer`` on the reference KachueeNet (untrained: the time does not depend on
the weights) and 200 beats of the SYNTHETIC ECG generator, then changes each control ``--repeat``
times and prints, per kind of change, the median and the largest response time in ms. A response
is everything the explorer does for one change in a kernel: moving dependent controls, capturing
the beat's activations (when the beat changed and is not cached), building the figure, drawing
it to PNG as the inline backend would, and putting it into the ``Output``. (Outside a kernel the
Output's display goes to stdout, which is thrown away here.) The second table splits a redraw
into building the figure and drawing the PNG.

Not a test: it prints figures. On the course's reference machine (2 cores)::

    .venv/bin/python tests/benchmarks/bench_explorers.py
    .venv/bin/python tests/benchmarks/bench_explorers.py --beats 200 --repeat 20
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "solutions"), str(REPO)]  # the reference package, as the tests use it

import torch  # noqa: E402

from autograder.reference import reference_module  # noqa: E402
from ecglab import data, explorers  # noqa: E402
from ecglab.data.synthetic import synthetic_mitbih_records  # noqa: E402

RECORDS = ("208", "217", "232", "109", "207", "119", "102")   # every class, F included


def synthetic_beats(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` SYNTHETIC beats, as even over the five classes as the records allow."""
    ds = data.mitbih_from_records(synthetic_mitbih_records(seconds=120, names=RECORDS, seed=seed))
    rng = np.random.default_rng(seed)
    members = [rng.permutation(np.flatnonzero(ds.y == k)) for k in range(5)]
    pick, k = [], 0
    while len(pick) < min(n, len(ds.y)):
        taken = sum(1 for p in pick if ds.y[p] == k)
        if taken < len(members[k]):
            pick.append(members[k][taken])
        k = (k + 1) % 5
    pick = np.sort(np.array(pick))
    return ds.X[pick], ds.y[pick]


def timed(run) -> float:
    """Milliseconds of ``run()``, its display output thrown away."""
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        run()
        return 1000 * (time.perf_counter() - started)


def changes(ex, kind: str, repeat: int) -> list[float]:
    controls = ex.controls
    times = []

    def set_to(name, value):
        return lambda: setattr(controls[name], "value", value)

    for i in range(repeat):
        if kind == "channel":
            value = (controls["channel"].value + 1 + i % 7) % (controls["channel"].max + 1)
            times.append(timed(set_to("channel", value)))
        elif kind == "layer":
            options = list(controls["layer"].options)
            value = options[(options.index(controls["layer"].value) + 1) % len(options)]
            times.append(timed(set_to("layer", value)))
        elif kind == "beat (new)":
            value = (controls["beat"].value + 1) % (controls["beat"].max + 1)
            times.append(timed(set_to("beat", value)))
        elif kind == "class":
            options = [v for _, v in controls["class"].options]
            value = options[(options.index(controls["class"].value) + 1) % len(options)]
            times.append(timed(set_to("class", value)))
        elif kind == "random beat":
            times.append(timed(controls["random"].click))
        if ex.error:
            raise SystemExit(f"the explorer failed: {ex.error}")
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    interpret = reference_module("interpret")
    torch.manual_seed(0)
    net = reference_module("models").KachueeNet().eval()
    X, y = synthetic_beats(args.beats)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        ex = explorers.activation_explorer(net, X, y, capture=interpret.capture_activations,
                                           receptive_fields=interpret.receptive_fields,
                                           source="synthetic ECG")
    first = 1000 * (time.perf_counter() - started)
    print(f"activation explorer: reference KachueeNet, {len(X)} SYNTHETIC beats "
          f"(per class {np.bincount(y, minlength=5).tolist()}), {os.cpu_count()} cores, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads; the explorer uses 1), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"built and first figure drawn in {first:.0f} ms (fonts and torch warm up once)\n")

    print(f"{'change':<14}{'n':>4}{'median ms':>11}{'max ms':>9}")
    for kind in ("channel", "layer", "beat (new)", "class", "random beat"):
        times = changes(ex, kind, args.repeat)
        print(f"{kind:<14}{len(times):>4}{np.median(times):>11.0f}{max(times):>9.0f}")

    print(f"\none redraw, split (median of {args.repeat}, ms)")
    print(f"{'layer':<14}{'figure':>8}{'PNG':>7}{'PNG kB':>8}")
    for layer in ("features.0", "features.3", "classifier.0"):
        build, png, size = [], [], 0
        for i in range(args.repeat):
            t0 = time.perf_counter()
            fig = ex.render(layer=layer, channel=i % 32)
            t1 = time.perf_counter()
            size = len(explorers.figure_png(fig))
            t2 = time.perf_counter()
            build.append(1000 * (t1 - t0))
            png.append(1000 * (t2 - t1))
        print(f"{layer:<14}{np.median(build):>8.0f}{np.median(png):>7.0f}{size / 1000:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
