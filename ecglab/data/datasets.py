"""Beat datasets: where they come from (real records, Kaggle CSVs, or the synthetic generator) and
how they are built.

Two tasks, as in Kachuee et al. 2018:

* ``mitbih``: 5-class arrhythmia (AAMI N, S, V, F, Q) from the MIT-BIH Arrhythmia Database;
* ``ptb``: myocardial infarction (0 healthy control, 1 MI) from the PTB Diagnostic ECG Database.

Where the data comes from is decided by what the data directory holds, in this order:

1. the raw PhysioNet records (``mitdb/``, ``ptbdb/``), read with wfdb and cut into beats here;
2. the Kaggle CSVs (``mitbih_train.csv`` ... in the data directory or its ``kaggle/`` folder);
3. the synthetic generator, when nothing real is found. Its datasets say ``source="synthetic"``,
   and :func:`describe` prints that loudly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import FS, data_dir as resolve_data_dir
from . import kaggle
from .aami import CLASSES, PTB_CLASSES, symbols_to_classes
from .beats import KAGGLE_STRIDE, cut_beats, detect_and_cut, kaggle_beats
from .records import Record, read_wfdb, resample

MITBIH_LEADS = ("MLII",)
PTB_LEADS = ("ii",)
#: How MIT-BIH beats are cut: "kaggle" (the recipe of the Kaggle CSV, beats at 120 Hz) or
#: "paper" (the scheme the paper describes, beats at 125 Hz); see ecglab.data.beats.
SCHEMES = ("kaggle", "paper")


@dataclass
class BeatDataset:
    """Beats with labels, and the record each beat came from.

    Attributes
    ----------
    X : ndarray, shape (n, 187), float32
        Beats, each min-max normalised to [0, 1] and zero-padded, at ``fs`` Hz.
    y : ndarray, shape (n,), int64
        Class index into ``classes``.
    record : ndarray, shape (n,), str
        Record id per beat (``""`` where unknown, as in the Kaggle CSVs).
    classes : tuple of str
    name : str
        ``"mitbih"`` or ``"ptb"``.
    source : str
        ``"real"`` or ``"synthetic"``.
    origin : str
        ``"wfdb"`` (cut from records here), ``"kaggle"`` (read from the CSVs) or ``"generator"``.
    test_mask : ndarray of bool, shape (n,), or None
        The predefined test side (the Kaggle ``*_test.csv`` rows); None when the dataset has none.
    fs : float
        Sampling rate of the beats in Hz: 120 for MIT-BIH beats cut as the Kaggle CSV was (and
        read from it), 125 for the paper's scheme and for PTB.
    """

    X: np.ndarray
    y: np.ndarray
    record: np.ndarray
    classes: tuple
    name: str
    source: str
    origin: str
    test_mask: np.ndarray | None = None
    n_records: int = 0
    fs: float = float(FS)
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def per_class(self, index: np.ndarray | None = None) -> list[int]:
        """Number of beats per class (of all beats, or of ``index``)."""
        y = self.y if index is None else self.y[index]
        return np.bincount(y, minlength=len(self.classes)).astype(int).tolist()

    def subset(self, index: np.ndarray) -> "BeatDataset":
        """The beats at ``index`` (an int array or a boolean mask)."""
        return BeatDataset(self.X[index], self.y[index], self.record[index], self.classes,
                           self.name, self.source, self.origin,
                           None if self.test_mask is None else self.test_mask[index],
                           len(set(self.record[index].tolist()) - {""}), self.fs, dict(self.meta))


# --- finding the records ------------------------------------------------------------------------

def _listed_records(folder: Path, pattern: str) -> list[str]:
    """Record names from a PhysioNet-style RECORDS file, else from the headers present."""
    listing = folder / "RECORDS"
    if listing.is_file():
        return [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    return sorted(str(p.relative_to(folder).with_suffix("")) for p in folder.glob(pattern))


def mitbih_record_names(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of the MIT-BIH records in ``<data_dir>/mitdb`` (empty when there are none)."""
    folder = resolve_data_dir(data_dir) / "mitdb"
    return _listed_records(folder, "*.hea") if folder.is_dir() else []


def ptb_record_names(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Names (``patientNNN/sNNNNxxx``) of the PTB records in ``<data_dir>/ptbdb``."""
    folder = resolve_data_dir(data_dir) / "ptbdb"
    return _listed_records(folder, "patient*/*.hea") if folder.is_dir() else []


def read_mitbih_record(name: str, data_dir: str | os.PathLike | None = None,
                       leads: tuple[str, ...] = MITBIH_LEADS) -> Record:
    """One MIT-BIH record at 360 Hz with its annotations.

    ``leads``: lead MLII by default (the first signal where there is none: records 102 and 104);
    ``()`` reads the first signal of every record, as the Kaggle CSV did (V5 for record 114).
    """
    stem = resolve_data_dir(data_dir) / "mitdb" / name
    return read_wfdb(stem, leads, annotator="atr", name=name)


def ptb_label(comments: list[str]) -> int | None:
    """0 for a healthy control, 1 for myocardial infarction, None for any other diagnosis.

    Parameters
    ----------
    comments : list of str
        The ``#`` lines of a PTB header, one of them ``Reason for admission: ...``.
    """
    for line in comments:
        key, _, value = line.partition(":")
        if key.strip().lower() == "reason for admission":
            value = value.strip().lower()
            return {"healthy control": 0, "myocardial infarction": 1}.get(value)
    return None


def read_ptb_record(name: str, data_dir: str | os.PathLike | None = None) -> Record:
    """One PTB record at 1000 Hz (lead ii), labelled from its header's diagnosis."""
    stem = resolve_data_dir(data_dir) / "ptbdb" / name
    record = read_wfdb(stem, PTB_LEADS, name=name, patient=name.split("/")[0])
    return record.replace(label=ptb_label(record.meta["comments"]))


def load_record(name: str = "100", data_dir: str | os.PathLike | None = None, fs: float = FS) -> Record:
    """One MIT-BIH record for the lessons, resampled to ``fs`` Hz.

    The real record where the data directory holds the MIT-BIH records; otherwise the synthetic
    record of the same name (``record.source == "synthetic"`` says so).
    """
    if mitbih_record_names(data_dir):
        record = read_mitbih_record(name, data_dir)
    else:
        from .synthetic import synthetic_mitbih_records
        record = synthetic_mitbih_records(names=(name,))[0]
    return resample(record, fs)


# --- building datasets from records -------------------------------------------------------------

def _progress(items, desc: str, show: bool):
    if not show:
        return items
    from tqdm.auto import tqdm
    return tqdm(items, desc=desc, unit="record", leave=False)


def beats_of_annotated(record: Record, scheme: str = "kaggle") -> tuple[np.ndarray, np.ndarray]:
    """Beats and AAMI labels of one annotated record, cut at its annotated R peaks.

    ``scheme="kaggle"``: the Kaggle CSV recipe on the record as it is (360 Hz -> beats at 120 Hz);
    ``scheme="paper"``: the paper's windows at 125 Hz. See :mod:`ecglab.data.beats`.

    Returns
    -------
    X : ndarray, shape (n, 187), float32
    y : ndarray, shape (n,), int64
    """
    if scheme == "kaggle":
        classes = symbols_to_classes(record.ann_symbols)
        beats, kept = kaggle_beats(record.signal, record.ann_samples, np.flatnonzero(classes >= 0))
        return beats, classes[kept]
    if scheme != "paper":
        raise ValueError(f"scheme: {scheme!r}, expected one of {SCHEMES}")
    rec = resample(record, FS)
    beats, kept = cut_beats(rec.signal, rec.r_peaks)
    return beats, rec.beat_classes[kept]


def _stack(parts: list[tuple[np.ndarray, np.ndarray, str]], records: list[Record],
           **fields) -> BeatDataset:
    """One dataset from per-record ``(beats, labels, record id)`` parts; real or synthetic as the
    records are."""
    synthetic = any(r.source == "synthetic" for r in records)
    return BeatDataset(
        X=np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 187), np.float32),
        y=np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64),
        record=np.concatenate([np.full(len(p[1]), p[2]) for p in parts]) if parts else np.zeros(0, str),
        source="synthetic" if synthetic else "real",
        origin="generator" if synthetic else "wfdb",
        **fields,
    )


def mitbih_from_records(records: list[Record], progress: bool = False,
                        scheme: str = "kaggle") -> BeatDataset:
    """The 5-class beat dataset of annotated records (see :func:`beats_of_annotated`)."""
    parts = [(*beats_of_annotated(record, scheme), record.name)
             for record in _progress(records, "cutting beats", progress)]
    fs = (records[0].fs / KAGGLE_STRIDE if records else 120.0) if scheme == "kaggle" else float(FS)
    return _stack(parts, records, classes=CLASSES, name="mitbih", n_records=len(records), fs=fs,
                  meta={"scheme": scheme})


def ptb_from_records(records: list[Record], progress: bool = False) -> BeatDataset:
    """The MI beat dataset: every beat the threshold detector finds, labelled by its record."""
    labelled = [r for r in records if r.label is not None]
    parts = []
    for record in _progress(labelled, "cutting beats", progress):
        beats = detect_and_cut(resample(record, FS).signal)
        parts.append((beats, np.full(len(beats), record.label, dtype=np.int64),
                      record.patient or record.name))
    return _stack(parts, records, classes=PTB_CLASSES, name="ptb", n_records=len(labelled),
                  meta={"excluded_records": [r.name for r in records if r.label is None]})


def _from_csvs(paths: list[Path], name: str, classes: tuple, test_file: int | None) -> BeatDataset:
    parts = [kaggle.read_csv(p, n_classes=len(classes)) for p in paths]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    test_mask = None
    if test_file is not None:
        test_mask = np.concatenate([np.full(len(p[1]), i == test_file) for i, p in enumerate(parts)])
    return BeatDataset(X, y, np.full(len(y), ""), classes, name, "real", "kaggle", test_mask,
                       0, 120.0 if name == "mitbih" else float(FS), {"files": [str(p) for p in paths]})


# --- the entry points ---------------------------------------------------------------------------

def mitbih_source(data_dir: str | os.PathLike | None = None) -> str:
    """Where :func:`load_mitbih` would take the data from: ``"wfdb"``, ``"kaggle"`` or ``"generator"``."""
    if mitbih_record_names(data_dir):
        return "wfdb"
    if kaggle.find_csvs(resolve_data_dir(data_dir), kaggle.MITBIH_FILES):
        return "kaggle"
    return "generator"


def ptb_source(data_dir: str | os.PathLike | None = None) -> str | None:
    """Where :func:`load_ptb` would take the data from; None when only MIT-BIH data is real."""
    if ptb_record_names(data_dir):
        return "wfdb"
    if kaggle.find_csvs(resolve_data_dir(data_dir), kaggle.PTB_FILES):
        return "kaggle"
    return "generator" if mitbih_source(data_dir) == "generator" else None


def load_mitbih(data_dir: str | os.PathLike | None = None, progress: bool = False,
                records: list[str] | None = None, scheme: str = "kaggle") -> BeatDataset:
    """The MIT-BIH 5-class beat dataset from the best source in ``data_dir`` (see module docstring).

    Parameters
    ----------
    data_dir : path, optional
        The data directory (default: ``ECGLAB_DATA``, else ``data/`` of the repository).
    progress : bool
        Show a progress bar while records are read and cut.
    records : list of str, optional
        Only these records (WFDB and synthetic sources).
    scheme : {"kaggle", "paper"}
        How beats are cut from records (see :mod:`ecglab.data.beats`); the Kaggle recipe by
        default, so that beats built here are the beats of the Kaggle CSV.
    """
    origin = mitbih_source(data_dir)
    if origin == "kaggle":
        paths = kaggle.find_csvs(resolve_data_dir(data_dir), kaggle.MITBIH_FILES)
        return _from_csvs(paths, "mitbih", CLASSES, test_file=1)
    if origin == "wfdb":
        names = records or mitbih_record_names(data_dir)
        leads = () if scheme == "kaggle" else MITBIH_LEADS
        recs = [read_mitbih_record(n, data_dir, leads) for n in _progress(names, "reading MIT-BIH", progress)]
    else:
        from .synthetic import MITBIH_NAMES, synthetic_mitbih_records
        recs = synthetic_mitbih_records(names=tuple(records or MITBIH_NAMES))
    return mitbih_from_records(recs, progress=progress, scheme=scheme)


def load_ptb(data_dir: str | os.PathLike | None = None, progress: bool = False) -> BeatDataset | None:
    """The PTB myocardial-infarction beat dataset from the best source, or None (see :func:`ptb_source`)."""
    origin = ptb_source(data_dir)
    if origin is None:
        return None
    if origin == "kaggle":
        paths = kaggle.find_csvs(resolve_data_dir(data_dir), kaggle.PTB_FILES)
        return _from_csvs(paths, "ptb", PTB_CLASSES, test_file=None)
    if origin == "wfdb":
        names = ptb_record_names(data_dir)
        recs = [read_ptb_record(n, data_dir) for n in _progress(names, "reading PTB", progress)]
    else:
        from .synthetic import synthetic_ptb_records
        recs = synthetic_ptb_records()
    return ptb_from_records(recs, progress=progress)


def describe(dataset: BeatDataset | None, data_dir: str | os.PathLike | None = None) -> str:
    """One paragraph on a dataset: where it came from and its class counts; loud when synthetic."""
    if dataset is None:
        return "no PTB data found (run `python -m ecglab data fetch ptb`)"
    counts = ", ".join(f"{c} {n:,}" for c, n in zip(dataset.classes, dataset.per_class()))
    where = {"wfdb": f"{dataset.n_records} PhysioNet records", "kaggle": "the Kaggle CSVs",
             "generator": f"{dataset.n_records} SYNTHETIC records"}[dataset.origin]
    text = f"{dataset.name}: {len(dataset):,} beats from {where} ({counts})"
    if dataset.source == "synthetic":
        folder = resolve_data_dir(data_dir)
        text = ("*** SYNTHETIC DATA *** no real records were found in "
                f"{folder}; these beats come from ecglab's generator, not from patients.\n"
                "    Get the real data with `python -m ecglab data fetch` or set ECGLAB_DATA.\n    " + text)
    return text
