"""The myocardial-infarction (MI) task of lesson 4: what data it runs on, and how it is split.

The MI task is binary: 0 a beat of a healthy control, 1 a beat of a patient with a myocardial
infarction (the PTB Diagnostic ECG Database, as in Kachuee et al. 2018). :func:`load_mi_task`
takes the best data the data directory holds, in this order, and says which:

1. **real, complete**: PhysioNet PTB records in ``ptbdb/`` with both healthy controls and MI
   patients (each beat knows its patient), else the full Kaggle CSVs ``ptbdb_normal.csv`` and
   ``ptbdb_abnormal.csv`` (in the data directory or its ``kaggle/`` folder; no patient ids);
2. **real, a sample**: the 100 + 100 real Kaggle rows in ``kaggle_sample/ptbdb_normal_sample.csv``
   and ``kaggle_sample/ptbdb_abnormal_sample.csv``: an honest low-data experiment, far too few
   beats for the full one;
3. **synthetic**: the PTB-like records of ecglab's generator (``source == "synthetic"``).

:func:`mi_split` splits by patient where the patients are known, by beat where they are not.

>>> from ecglab.data.mi import load_mi_task, mi_split
>>> ds, text = load_mi_task()
>>> print(text)                                   # source, beats per class, how it can be split
>>> train, test, how = mi_split(ds)               # how: "by patient" or "by beat: ..."
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..config import FS, data_dir as resolve_data_dir
from ..errors import DataError
from . import kaggle
from .aami import PTB_CLASSES
from .datasets import BeatDataset, load_ptb, ptb_from_records, ptb_label, ptb_record_names
from .splits import stratified_split

#: The real sample rows: ``<data_dir>/kaggle_sample/<file>``.
SAMPLE_FOLDER = "kaggle_sample"
SAMPLE_FILES = ("ptbdb_normal_sample.csv", "ptbdb_abnormal_sample.csv")
#: The file ``python -m ecglab data build`` leaves beside CSVs it made from synthetic records.
SYNTHETIC_MARKER = "SYNTHETIC_DATA.txt"

#: What :func:`load_mi_task` puts in ``meta["mi_source"]``.
SOURCES = ("physionet", "kaggle", "kaggle_sample", "synthetic")
BY_PATIENT = "by patient"
BY_BEAT = "by beat: the Kaggle rows carry no patient id"
FETCH_HINT = "`python -m ecglab data fetch kaggle` (the full Kaggle PTB CSVs, 14,552 beats)"


def _record_labels(data_dir) -> dict[str, int | None]:
    """``{record name: 0, 1 or None}`` of the PTB records in ``ptbdb/``, from their headers only."""
    import wfdb

    folder = resolve_data_dir(data_dir) / "ptbdb"
    labels = {}
    for name in ptb_record_names(data_dir):
        try:
            comments = wfdb.rdheader(str(folder / name)).comments
        except (OSError, ValueError):
            raise DataError(f"{folder / name}.hea: not a readable WFDB header") from None
        labels[name] = ptb_label(comments)
    return labels


def _read_labelled(path: Path, label: int) -> tuple[np.ndarray, np.ndarray]:
    """One Kaggle PTB CSV whose rows must all carry ``label`` (0 normal, 1 MI)."""
    X, y = kaggle.read_csv(path, n_classes=len(PTB_CLASSES))
    wrong = np.flatnonzero(y != label)
    if wrong.size:
        row = int(wrong[0])
        raise DataError(f"{path}: row {row + 1} has label {y[row]}, expected {label} "
                        f"({PTB_CLASSES[label]}) in every row of this file")
    return X, y


def _from_csv_pair(paths: list[Path], origin: str) -> BeatDataset:
    """The MI dataset of a (normal, abnormal) pair of Kaggle-format files."""
    parts = [_read_labelled(path, label) for label, path in enumerate(paths)]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    synthetic = (paths[0].parent / SYNTHETIC_MARKER).is_file()
    return BeatDataset(X, y, np.full(len(y), ""), PTB_CLASSES, "ptb",
                       "synthetic" if synthetic else "real", "kaggle", None, 0, float(FS),
                       {"files": [str(p) for p in paths], "mi_source": origin})


def _counts(ds: BeatDataset) -> str:
    return ", ".join(f"{c} {n:,}" for c, n in zip(ds.classes, ds.per_class()))


def _patients_per_class(ds: BeatDataset) -> list[int]:
    """Distinct patients of each class (0 where the patients are unknown)."""
    if len(ds) == 0 or np.any(ds.record == ""):
        return [0] * len(ds.classes)
    return [len(set(ds.record[ds.y == k].tolist())) for k in range(len(ds.classes))]


def load_mi_task(data_dir: str | os.PathLike | None = None) -> tuple[BeatDataset, str]:
    """The beats of the MI task from the best source in ``data_dir``, and what they are.

    Parameters
    ----------
    data_dir : path, optional
        The data directory (default: ``ECGLAB_DATA``, else ``data/`` of the repository).

    Returns
    -------
    dataset : BeatDataset
        ``classes == ("normal", "MI")``; ``record`` holds the patient of each beat where it is
        known (PhysioNet records, synthetic records), ``""`` for Kaggle rows; ``source`` is
        ``"real"`` or ``"synthetic"``; ``meta["mi_source"]`` one of :data:`SOURCES`.
    description : str
        One paragraph: the source, the beats per class, whether a patient split is possible;
        it starts with ``*** SYNTHETIC DATA ***`` when the beats are not from patients.

    Raises
    ------
    DataError
        A CSV that is there but not in the Kaggle format (the message names the file), a row of
        ``*_normal*`` labelled MI or of ``*_abnormal*`` labelled normal, an unreadable header.
    """
    folder = resolve_data_dir(data_dir)
    notes = []

    labels = _record_labels(data_dir)
    if labels:
        found = {label for label in labels.values() if label is not None}
        if found == {0, 1}:
            ds = load_ptb(data_dir)
            ds.meta["mi_source"] = "physionet"
            patients = _patients_per_class(ds)
            text = (f"MI task: real PTB beats, cut here from {ds.n_records} PhysioNet records in "
                    f"{folder / 'ptbdb'}: {len(ds):,} beats ({_counts(ds)}) of "
                    f"{patients[0]} healthy-control and {patients[1]} MI patients.")
            others = len(ds.meta.get("excluded_records") or [])
            if others:
                text += f" ({others} records of other diagnoses are left out.)"
            if min(patients) >= 2:
                text += (" Every beat knows its patient, so the test set can be made of patients "
                         "the network never saw (a split by patient).")
            else:
                text += (" A class with a single patient cannot be on both sides of a split by "
                         "patient: the split is by beat, and flatters the test scores.")
            return ds, text
        have = ("MI records only, no healthy control" if found == {1} else
                "healthy controls only, no MI record" if found == {0} else
                "neither healthy controls nor MI records")
        notes.append(f"(The {len(labels)} PTB records in {folder / 'ptbdb'} are {have}: the "
                     f"two-class task cannot be made of them.)")

    full = kaggle.find_csvs(folder, kaggle.PTB_FILES)
    if full is not None:
        ds = _from_csv_pair(full, "kaggle")
        where = full[0].parent
        if ds.source == "synthetic":
            text = (f"*** SYNTHETIC DATA *** {where} holds {SYNTHETIC_MARKER}: these Kaggle-format "
                    f"CSVs were built from ecglab's generator, not from patients. MI task: "
                    f"{len(ds):,} beats ({_counts(ds)}); no patient ids, so the split is by beat.")
        else:
            text = (f"MI task: real beats of the full Kaggle PTB CSVs in {where} "
                    f"({', '.join(p.name for p in full)}): {len(ds):,} beats ({_counts(ds)}). The "
                    f"Kaggle rows carry no patient id, so the split is by beat: beats of one "
                    f"patient can be on both sides of it, which flatters the test scores.")
        return ds, " ".join([text] + notes)

    sample = [folder / SAMPLE_FOLDER / name for name in SAMPLE_FILES]
    if all(p.is_file() for p in sample):
        ds = _from_csv_pair(sample, "kaggle_sample")
        text = (f"MI task: the real sample rows of the Kaggle PTB CSVs in {folder / SAMPLE_FOLDER} "
                f"({', '.join(SAMPLE_FILES)}): {len(ds):,} real beats ({_counts(ds)}). An honest "
                f"low-data experiment, far too few beats for the real one. The rows carry no "
                f"patient id, so the split is by beat: beats of one patient can be on both sides "
                f"of it, which flatters the test scores. For the full experiment: {FETCH_HINT}.")
        return ds, " ".join([text] + notes)
    if any(p.is_file() for p in sample):
        notes.append(f"Of the sample rows in {folder / SAMPLE_FOLDER} only "
                     f"{', '.join(p.name for p in sample if p.is_file())} is there; both files are "
                     f"needed.")

    from .synthetic import synthetic_ptb_records
    ds = ptb_from_records(synthetic_ptb_records())
    ds.meta["mi_source"] = "synthetic"
    patients = _patients_per_class(ds)
    text = (f"*** SYNTHETIC DATA *** no real MI data (PTB records of both classes, the Kaggle PTB "
            f"CSVs or their sample rows) was found in {folder}: these beats come from ecglab's "
            f"generator, not from patients, and every score on them describes the generator. "
            f"MI task: {len(ds):,} beats from {ds.n_records} SYNTHETIC records ({_counts(ds)}) of "
            f"{patients[0]} + {patients[1]} synthetic patients; the split is by patient. For real "
            f"data: {FETCH_HINT}.")
    return ds, " ".join([text] + notes)


def mi_split(ds: BeatDataset, test_fraction: float = 0.3,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """Train and test indices of the MI task: by patient where the patients are known.

    By patient: the patients of each class are shuffled (seeded) and about ``test_fraction``
    of them, at least one and never all, go to the test side with every beat they have; no
    patient is on both sides, and both classes are. That needs every class to have two patients
    or more; otherwise, and where the patients are unknown (the Kaggle rows), the split is by
    beat (:func:`ecglab.data.stratified_split`) and ``how`` says why.

    Parameters
    ----------
    ds : BeatDataset
        ``ds.record`` holds the patient of each beat, ``""`` where unknown.
    test_fraction : float
        Share of the patients (by patient) or of the beats of each class (by beat) to test on.
    seed : int

    Returns
    -------
    train, test : ndarray of int64
        Sorted indices into ``ds``; disjoint, together all of it.
    how : str
        ``"by patient"``, or ``"by beat: <why>"`` (:data:`BY_BEAT` for rows without patient ids).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction: must be between 0 and 1, got {test_fraction}")
    if len(ds) == 0 or np.any(ds.record == ""):
        train, test = stratified_split(ds.y, test_fraction, seed)
        return train, test, BY_BEAT
    # A patient's class is the class of most of their beats (in PTB, one diagnosis per patient).
    names, inverse = np.unique(ds.record, return_inverse=True)
    votes = np.zeros((len(names), len(ds.classes)), np.int64)
    np.add.at(votes, (inverse, ds.y), 1)
    label = votes.argmax(axis=1)
    patients = np.bincount(label, minlength=len(ds.classes))
    present = [k for k in range(len(ds.classes)) if patients[k] > 0]
    few = [k for k in present if patients[k] < 2]
    if few or len(present) < 2:
        train, test = stratified_split(ds.y, test_fraction, seed)
        why = (f"class {ds.classes[few[0]]} has a single patient, who cannot be on both sides"
               if few else "the beats are of one class only")
        return train, test, f"by beat: {why} (a patient's beats may be on both sides)"
    rng = np.random.default_rng(seed)
    test_patients = []
    for k in present:
        members = rng.permutation(np.flatnonzero(label == k))
        n_test = min(max(int(round(test_fraction * len(members))), 1), len(members) - 1)
        test_patients.append(members[:n_test])
    is_test = np.isin(inverse, np.concatenate(test_patients))
    return (np.flatnonzero(~is_test).astype(np.int64), np.flatnonzero(is_test).astype(np.int64),
            BY_PATIENT)


__all__ = ["BY_BEAT", "BY_PATIENT", "SOURCES", "load_mi_task", "mi_split"]
