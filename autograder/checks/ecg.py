"""ECG inputs for the checks: synthetic windows always, real MIT-BIH windows where the data is.

The synthetic ones make every check run offline and the same everywhere; the real ones (records
chosen for their rhythms) are added when the data directory holds the MIT-BIH records.
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
    synthetic = reference_module("data.synthetic")
    resample = reference_module("data.records").resample
    records = synthetic.synthetic_mitbih_records(seed=7, seconds=seconds, names=SYNTHETIC_RECORDS)
    return tuple((f"synthetic ECG '{r.name}'", resample(r, FS)) for r in records)


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
        out.append((f"MIT-BIH record {name}", record.replace(
            signal=record.signal[start:stop].copy(), r_peaks=record.r_peaks[keep] - start,
            symbols=record.symbols[keep])))
    return tuple(out)


def signals(data_dir: str | os.PathLike | None, seconds: float = 60.0) -> list[tuple[str, object]]:
    """``[(label, Record at 125 Hz)]``: synthetic records, then real ones when present."""
    key = None if data_dir is None else str(data_dir)
    return list(_synthetic_signals(seconds)) + list(_real_signals(key, seconds))


def windows(data_dir: str | os.PathLike | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(label, window (1250,) float64, annotated R peaks in it)]``: one 10-s window per signal."""
    out = []
    for label, record in signals(data_dir, seconds=20.0):
        w = record.signal[WINDOW: 2 * WINDOW].copy()
        peaks = record.r_peaks[(record.r_peaks >= WINDOW) & (record.r_peaks < 2 * WINDOW)] - WINDOW
        out.append((label, w, peaks.astype(np.int64)))
    return out
