"""ECG inputs for the checks: synthetic windows always, real MIT-BIH windows where the data is.

The synthetic ones make every check run offline and the same everywhere; the real ones (records
chosen for their rhythms) are added when the data directory holds the MIT-BIH records.

Every input comes with a label that says where it is from, synthetic or real, which record and
which stretch of it ("synthetic ECG '100', window 1 (10-20 s)", "real MIT-BIH record 208, window
91 (910-920 s)"): the checks pass it to ``call(...).on(label)``, and a failure names it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..course import REPO
from ..reference import reference_module

READY_MADE = REPO / "ecglab"

FS = 125
WINDOW = 1250
#: Real records and why: 100 normal rhythm, 119 ventricular bigeminy, 208 fusion and PVCs,
#: 232 supraventricular beats and long pauses, 107 paced.
REAL_RECORDS = ("100", "119", "208", "232", "107")
SYNTHETIC_RECORDS = ("100", "119", "208", "232", "107", "201")


@lru_cache(maxsize=None)
def _synthetic_signals(seconds: float) -> tuple:
    """``((source, Record at 125 Hz, first sample within the whole record), ...)``."""
    records = _cached_synthetic(seconds)
    return tuple((f"synthetic ECG '{r.name}'", r, 0) for r in records)


def _cache_file(seconds: float) -> Path:
    """Where the 125-Hz synthetic records of the checks are kept between grader runs: a file
    named by a hash of the code that makes them and its settings, so a change makes a new one."""
    code = b"".join((READY_MADE / "data" / name).read_bytes() for name in ("synthetic.py", "records.py"))
    key = hashlib.sha256(code + repr((seconds, SYNTHETIC_RECORDS, FS, 7)).encode()).hexdigest()[:20]
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "ecg-course" / f"check-signals-{key}.npz"


def _cached_synthetic(seconds: float) -> list:
    """The synthetic records at 125 Hz: made once (resampling needs scipy.signal, whose import
    takes about a second), then read from the cache file."""
    record_type = reference_module("data.records").Record
    names = [f.name for f in dataclasses.fields(record_type)]
    try:
        path = _cache_file(seconds)
        with np.load(path, allow_pickle=False) as stored:
            count = int(stored["count"])
            return [record_type(**{n: _unstore(stored, f"{i}:{n}") for n in names})
                    for i in range(count)]
    except (OSError, KeyError, ValueError):
        pass
    synthetic = reference_module("data.synthetic")
    resample = reference_module("data.records").resample
    records = [resample(r, FS) for r in
               synthetic.synthetic_mitbih_records(seed=7, seconds=seconds, names=SYNTHETIC_RECORDS)]
    try:
        arrays = {"count": np.array(len(records))}
        for i, r in enumerate(records):
            for n in names:
                value = getattr(r, n)
                if isinstance(value, dict):       # e.g. meta: kept as JSON text
                    arrays[f"{i}:{n}:json"] = np.asarray(json.dumps(value))
                elif value is not None:
                    arrays[f"{i}:{n}"] = np.asarray(value)
                    if arrays[f"{i}:{n}"].dtype == object:
                        raise TypeError(f"{n} cannot be stored without pickle")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part.npz")
        np.savez(part, **arrays)
        os.replace(part, path)
    except (OSError, TypeError):   # no cache (a read-only home folder): made again next time
        pass
    return records


def _unstore(stored, key: str):
    if key + ":json" in stored.files:
        return json.loads(str(stored[key + ":json"]))
    if key not in stored.files:
        return None
    value = stored[key]
    if value.ndim == 0:
        return value.item()
    return value


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
