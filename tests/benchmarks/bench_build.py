"""Benchmark: build the 48 MIT-BIH records into beats, and see how close the beats are to Kaggle's.

Prints, for the two ways of cutting beats (``scheme="kaggle"``, the recipe that made the Kaggle
CSV, and ``scheme="paper"``, the scheme the paper describes):

* the time to read the 48 records and to cut them into beats (best of N runs, separately),
* the beats per class against the totals of the Kaggle MIT-BIH CSV (train + test),
* faithfulness against the real Kaggle rows in ``<data-dir>/kaggle_sample/``: per class, how many
  rows one of our beats reproduces exactly (bit for bit), the largest absolute difference to the
  nearest beat, whether the nearest beat has the row's label, and the median L2 distance to it,
* the PTB beats: time, and how many rows of ``ptbdb_abnormal_sample.csv`` they reproduce.

Not a test: it prints figures. Needs the real records::

    ECGLAB_DATA=/path/to/data .venv/bin/python tests/benchmarks/bench_build.py
    .venv/bin/python tests/benchmarks/bench_build.py --data-dir /path/to/data --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "solutions"))  # the reference package, not the student copy

from ecglab import data  # noqa: E402
from ecglab.config import data_dir as resolve_data_dir  # noqa: E402
from ecglab.data.datasets import MITBIH_LEADS  # noqa: E402

#: The Kaggle MIT-BIH CSV, train + test, per class N, S, V, F, Q.
KAGGLE_PER_CLASS = (90_589, 2_779, 7_236, 803, 8_039)
SCHEMES = {"kaggle": (), "paper": MITBIH_LEADS}  # scheme -> leads read (kaggle: the first signal)


def best_of(repeat: int, run):
    """(best seconds, result of the last run)."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def nearest(rows: np.ndarray, beats: np.ndarray, chunk: int = 16_384) -> np.ndarray:
    """Index of the nearest beat (L2) to each row."""
    rows = rows.astype(np.float64)
    rows_sq = (rows ** 2).sum(axis=1)
    best = np.full(len(rows), np.inf)
    index = np.zeros(len(rows), np.int64)
    for start in range(0, len(beats), chunk):
        part = beats[start:start + chunk].astype(np.float64)
        d2 = rows_sq[:, None] + (part ** 2).sum(axis=1)[None, :] - 2 * rows @ part.T
        j = d2.argmin(axis=1)
        better = d2[np.arange(len(rows)), j] < best
        best[better] = d2[np.arange(len(rows)), j][better]
        index[better] = start + j[better]
    return index


def faithfulness(rows: np.ndarray, labels: np.ndarray, ds) -> list[dict]:
    """Per class of the rows, and overall: exact reproductions and nearest-beat statistics."""
    exact = {}
    for i, beat in enumerate(ds.X):
        exact.setdefault(beat.tobytes(), set()).add(int(ds.y[i]))
    nn = nearest(rows, ds.X)
    diff = np.abs(rows.astype(np.float64) - ds.X[nn].astype(np.float64))
    dist = np.sqrt((diff ** 2).sum(axis=1))
    is_exact = np.array([r.tobytes() in exact for r in rows])
    exact_label = np.array([int(labels[i]) in exact.get(r.tobytes(), ()) for i, r in enumerate(rows)])
    same_label = ds.y[nn] == labels
    out = []
    for cls in [*range(len(ds.classes)), None]:
        sel = np.ones(len(rows), bool) if cls is None else labels == cls
        if not sel.any():
            continue
        out.append({"class": "all" if cls is None else ds.classes[cls], "rows": int(sel.sum()),
                    "exact": int(is_exact[sel].sum()), "exact_label": int(exact_label[sel].sum()),
                    "max_abs": float(diff[sel].max()), "nn_label": float(same_label[sel].mean()),
                    "median_l2": float(np.median(dist[sel]))})
    return out


def print_faithfulness(title: str, stats: list[dict]) -> None:
    print(f"  {title}")
    print(f"    {'class':>5} {'rows':>5} {'exact':>6} {'+label':>7} {'max|diff|':>10} "
          f"{'NN label':>9} {'median L2':>10}")
    for s in stats:
        print(f"    {s['class']:>5} {s['rows']:>5} {s['exact']:>6} {s['exact_label']:>7} "
              f"{s['max_abs']:>10.3g} {s['nn_label']:>9.1%} {s['median_l2']:>10.3g}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data directory (default: $ECGLAB_DATA, else data/ of the repository)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best counts")
    args = parser.parse_args(argv)

    folder = resolve_data_dir(args.data_dir)
    names = data.mitbih_record_names(folder)
    if not names:
        print(f"bench_build: no MIT-BIH records in {folder / 'mitdb'}; set ECGLAB_DATA or pass "
              f"--data-dir (get them with `python -m ecglab data fetch mitbih`)", file=sys.stderr)
        return 2
    sample_dir = folder / "kaggle_sample"
    print(f"data directory: {folder} ({len(names)} MIT-BIH records); best of {args.repeat} runs\n")

    datasets = {}
    print("1. time to build the MIT-BIH beats")
    print(f"   {'scheme':<8} {'read':>8} {'cut':>8} {'total':>8} {'beats':>9} {'beats/s':>10}")
    for scheme, leads in SCHEMES.items():
        t_read, records = best_of(args.repeat, lambda: [data.read_mitbih_record(n, folder, leads)
                                                        for n in names])
        t_cut, ds = best_of(args.repeat, lambda: data.mitbih_from_records(records, scheme=scheme))
        datasets[scheme] = ds
        total = t_read + t_cut
        print(f"   {scheme:<8} {t_read:>7.2f}s {t_cut:>7.2f}s {total:>7.2f}s {len(ds):>9,} "
              f"{len(ds) / total:>10,.0f}")
    print()

    print("2. beats per class vs the Kaggle MIT-BIH CSV (train + test)")
    classes = datasets["kaggle"].classes
    print(f"   {'':<8}" + "".join(f"{c:>9}" for c in classes) + f"{'total':>10}")
    print(f"   {'Kaggle':<8}" + "".join(f"{n:>9,}" for n in KAGGLE_PER_CLASS)
          + f"{sum(KAGGLE_PER_CLASS):>10,}")
    for scheme, ds in datasets.items():
        counts = ds.per_class()
        print(f"   {scheme:<8}" + "".join(f"{n:>9,}" for n in counts) + f"{len(ds):>10,}")
        print(f"   {'  diff':<8}" + "".join(f"{n - k:>+9,}" for n, k in zip(counts, KAGGLE_PER_CLASS))
              + f"{len(ds) - sum(KAGGLE_PER_CLASS):>+10,}")
    print()

    sample = sample_dir / "mitbih_train_sample.csv"
    print(f"3. faithfulness vs the Kaggle rows in {sample}")
    if sample.is_file():
        rows, labels = data.read_csv(sample)
        print(f"   {len(rows)} rows; exact: equal bit for bit to one of our beats (+label: with the "
              f"same label); max|diff|, NN label, median L2: against the nearest of our beats")
        for scheme, ds in datasets.items():
            started = time.perf_counter()
            stats = faithfulness(rows, labels, ds)
            print_faithfulness(f"scheme {scheme} ({ds.fs:g} Hz beats; "
                               f"{time.perf_counter() - started:.1f}s to compare)", stats)
    else:
        print("   (no sample file: skipped)")
    print()

    print("4. PTB")
    ptb_names = data.ptb_record_names(folder)
    if not ptb_names:
        print(f"   no PTB records in {folder / 'ptbdb'}")
        return 0
    t_read, recs = best_of(args.repeat, lambda: [data.read_ptb_record(n, folder) for n in ptb_names])
    t_cut, ptb = best_of(args.repeat, lambda: data.ptb_from_records(recs))
    print(f"   {len(ptb_names)} records ({ptb.n_records} labelled): read {t_read:.3f}s, cut "
          f"{t_cut:.3f}s; {len(ptb):,} beats, normal/MI = {ptb.per_class()}")
    for name, label in (("ptbdb_abnormal_sample.csv", 1), ("ptbdb_normal_sample.csv", 0)):
        path = sample_dir / name
        if not path.is_file():
            continue
        rows, labels = data.read_csv(path, n_classes=2)
        ours = ptb.subset(ptb.y == label)
        if not len(ours):
            print(f"   {name}: {len(rows)} rows; no label-{label} records here to match them against")
            continue
        index = {beat.tobytes() for beat in ours.X}
        matched = [i for i, r in enumerate(rows) if r.tobytes() in index]
        nn = nearest(rows, ours.X)
        dist = np.sqrt(((rows.astype(np.float64) - ours.X[nn]) ** 2).sum(axis=1))
        print(f"   {name}: {len(matched)} of {len(rows)} rows reproduced exactly (rows {matched}); "
              f"median L2 to the nearest beat {np.median(dist):.3g} (the sample's rows come from "
              f"all PTB MI records, {ptb.n_records} are here)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
