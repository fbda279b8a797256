"""ECG inputs for the checks: synthetic windows always, real MIT-BIH windows where the data is.

The synthetic ones make every check run offline and the same everywhere; the real ones (records
chosen for their rhythms) are added when the data directory holds the MIT-BIH records.

Every input comes with a label that says where it is from, synthetic or real, which record and
which stretch of it ("synthetic ECG '100', window 1 (10-20 s)", "real MIT-BIH record 208, window
91 (910-920 s)"): the checks pass it to ``call(...).on(label)``, and a failure names it.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from ..reference import reference_module

FS = 125
WINDOW = 1250
#: Real records and why: 100 normal rhythm, 119 ventricular bigeminy, 208 fusion and PVCs,
#: 232 supraventricular beats and long pauses, 107 paced.
REAL_RECORDS = ("100", "119", "208", "232", "107")
SYNTHETIC_RECORDS = ("100", "119", "208", "232", "107", "201")


@lru_cache(maxsize=None)
def _synthetic_signals(seconds: float) -> tuple:
    """``((source, Record at 125 Hz, first sample within the whole record), ...)``."""
    synthetic = reference_module("data.synthetic")
    resample = reference_module("data.records").resample
    records = synthetic.synthetic_mitbih_records(seed=7, seconds=seconds, names=SYNTHETIC_RECORDS)
    return tuple((f"synthetic ECG '{r.name}'", resample(r, FS), 0) for r in records)


@lru_cache(maxsize=None)
def _real_signals(data_dir: str | None, seconds: float) -> tuple:
    data = reference_module("data")
    data_error = reference_module("errors").DataError
    if not data.mitbih_record_names(data_dir):
        return ()
    out = []
    for name in REAL_RECORDS:
        try:
            record = data.resample(data.read_mitbih_record(name, data_dir), FS)
        except (data_error, OSError):  # a record missing or broken: check with the others
            continue
        # A stretch from the middle of the record, where its characteristic rhythm is.
        start = (len(record.signal) // 2) // WINDOW * WINDOW
        stop = start + int(seconds * FS)
        keep = (record.r_peaks >= start) & (record.r_peaks < stop)
        out.append((f"real MIT-BIH record {name}", record.replace(
            signal=record.signal[start:stop].copy(), r_peaks=record.r_peaks[keep] - start,
            symbols=record.symbols[keep]), start))
    return tuple(out)


def _seconds(start: int, n: int) -> str:
    return f"{start / FS:g}-{(start + n) / FS:g} s"


def _all(data_dir, seconds: float) -> list[tuple[str, object, int]]:
    key = None if data_dir is None else str(data_dir)
    return list(_synthetic_signals(seconds)) + list(_real_signals(key, seconds))


def signals(data_dir: str | os.PathLike | None, seconds: float = 60.0) -> list[tuple[str, object]]:
    """``[(label, Record at 125 Hz)]``: synthetic records, then real ones when present.

    The label says which record and which stretch of it: "synthetic ECG '100', 0-60 s",
    "real MIT-BIH record 100, 900-960 s" (seconds from the start of the record).
    """
    return [(f"{source}, {_seconds(start, len(record.signal))}", record)
            for source, record, start in _all(data_dir, seconds)]


def windows(data_dir: str | os.PathLike | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(label, window (1250,) float64, annotated R peaks in it)]``: one 10-s window per signal.

    The label names the record and the window's index among the record's 10-s windows (at 125 Hz,
    as ``to_windows`` numbers them): "synthetic ECG '100', window 1 (10-20 s)".
    """
    out = []
    for source, record, start in _all(data_dir, 20.0):
        w = record.signal[WINDOW: 2 * WINDOW].copy()
        peaks = record.r_peaks[(record.r_peaks >= WINDOW) & (record.r_peaks < 2 * WINDOW)] - WINDOW
        first = start + WINDOW
        label = f"{source}, window {first // WINDOW} ({_seconds(first, WINDOW)})"
        out.append((label, w, peaks.astype(np.int64)))
    return out


def beats(data_dir: str | os.PathLike | None, per_record: int = 3) -> tuple[str, np.ndarray]:
    """``(label, beats (n, 187) float32)``: the first beats of each signal, cut by the reference
    scheme of lesson 1 (synthetic, plus real MIT-BIH records where present)."""
    cut = reference_module("preprocess").beats_from_signal
    found, names = [], []
    for source, record, _ in _all(data_dir, 30.0):
        b = cut(record.signal, fs=FS)[:per_record]
        if len(b):
            found.append(b)
            names.append(source)
    real = any(n.startswith("real") for n in names)
    label = (f"{sum(len(b) for b in found)} beats of " + ("synthetic and real MIT-BIH records"
                                                          if real else "synthetic ECG records"))
    return label, np.concatenate(found).astype(np.float32)
