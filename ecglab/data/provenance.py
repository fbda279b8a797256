"""Where a Kaggle row comes from: the MIT-BIH record (patient) and R peak of every beat of a CSV.

The builder reproduces the rows of the Kaggle MIT-BIH CSVs bit for bit (see
:mod:`ecglab.data.beats`), so a row of ``mitbih_train.csv`` can be looked up among the beats the
Kaggle recipe cuts from the 48 records. This module builds that look-up and uses it:

1. :func:`beat_index` cuts every beat of the records in the data directory, once (a few seconds),
   and keys each beat by the exact bytes of its 187 float32 values;
2. :func:`place_rows` finds each row of a CSV in the index. A row is *placed* only when its values
   match exactly one beat and its label is that beat's AAMI class. It is never a guess: a row
   whose values are off by one ulp, whose label differs, or whose values several beats share is
   left unplaced, and the reason says which;
3. :func:`provenance` does both for a list of CSV files and returns the JSON of
   ``python -m ecglab data provenance FILE... --json`` (:func:`explain` puts a row of it in words);
4. :func:`shared_patients` compares the placements of a train file and a test file: how many
   records (patients) give beats to both sides. Lesson 3 uses it to show why a beat split of the
   Kaggle kind scores too well.

>>> from ecglab import data
>>> index = data.beat_index()                              # needs the records (mitdb/)
>>> X, y = data.read_csv("mitbih_train.csv")
>>> places = data.place_rows(X, y, index)
>>> places.record[:3], places.sample[:3]                   # "" and -1 where a row is not placed
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..config import data_dir as resolve_data_dir
from ..errors import DataError
from .aami import CLASSES, symbols_to_classes
from .beats import kaggle_beats
from .datasets import _progress, mitbih_record_names, read_mitbih_record
from .kaggle import read_csv
from .records import Record

#: The MIT-BIH Arrhythmia Database has 48 records.
MITBIH_RECORDS = 48
#: Records 201 and 202 are two recordings of one man (MIT-BIH Arrhythmia Database Directory), so
#: the 48 records come from 47 patients.
SAME_PATIENT = {"202": "201"}

#: Why a row is not placed (the ``reason`` of an unplaced row; ``""`` for a placed one).
NOT_FOUND = "not found"
LABEL_DIFFERS = "label differs"
AMBIGUOUS = "ambiguous"
REASONS = (NOT_FOUND, LABEL_DIFFERS, AMBIGUOUS)

#: Bytes of a row's key (a BLAKE2b digest): 2**128 keys, so two different rows never share one
#: in practice; the matches are compared value for value anyway.
KEY_BYTES = 16
#: Candidates kept per unplaced row, to say which beats it matched.
MAX_CANDIDATES = 5


# --- keys ---------------------------------------------------------------------------------------

def row_keys(X: np.ndarray) -> list[bytes]:
    """One key per row: a digest of the exact bytes of its float32 values.

    Parameters
    ----------
    X : ndarray, shape (n, 187)
        Beats; converted to float32 (the values of a Kaggle row are float32 numbers).

    Returns
    -------
    list of bytes, length n, each ``KEY_BYTES`` long. Equal rows get equal keys; a row that
    differs in one bit of one value gets another key.
    """
    # Adding +0.0 turns -0.0 into +0.0: the two are equal values with different bytes.
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float32) + np.float32(0.0))
    return [hashlib.blake2b(row.tobytes(), digest_size=KEY_BYTES).digest() for row in X]


def patient_of(record: str) -> str:
    """The patient of a MIT-BIH record: the record's name, but ``"201"`` for record 202."""
    return SAME_PATIENT.get(record, record)


def count_patients(records: Iterable[str]) -> int:
    """Number of distinct patients among record names (``""`` and None are skipped)."""
    return len({patient_of(r) for r in records if r})


# --- the index ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BeatIndex:
    """Every beat the Kaggle recipe cuts from a set of MIT-BIH records, keyed by its values.

    Attributes
    ----------
    X : ndarray, shape (n, 187), float32
        The beats, as the Kaggle CSV holds them.
    record : ndarray, shape (n,), str
        The record each beat comes from.
    sample : ndarray, shape (n,), int64
        The beat's annotation (R peak) position in its 360-Hz record, in samples; the beat starts
        there.
    label : ndarray, shape (n,), int64
        AAMI class (0..4 = N, S, V, F, Q) of the annotation.
    data_dir : str
        Where the records were read ("" for records given in memory).
    lookup : dict of bytes to ndarray of int64
        Key (:func:`row_keys`) -> positions of the beats with that key.
    """

    X: np.ndarray
    record: np.ndarray
    sample: np.ndarray
    label: np.ndarray
    data_dir: str = ""
    lookup: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.label)

    @property
    def records(self) -> list[str]:
        """Names of the indexed records, in the order they were read."""
        return list(dict.fromkeys(self.record.tolist()))

    def matches(self, row: np.ndarray, key: bytes | None = None) -> np.ndarray:
        """Positions of the beats whose 187 values equal ``row`` exactly.

        Parameters
        ----------
        row : ndarray, shape (187,)
        key : bytes, optional
            ``row_keys([row])[0]``, when it is known already.

        Returns
        -------
        ndarray, shape (k,), int64; empty when no beat has these values.
        """
        row = np.asarray(row, dtype=np.float32)
        found = self.lookup.get(row_keys(row[None, :])[0] if key is None else key, _NOTHING)
        # The key only narrows the search: the values decide.
        return found[(self.X[found] == row).all(axis=1)]


_NOTHING = np.zeros(0, dtype=np.int64)


def record_beats(record: Record) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The beats of one record cut as the Kaggle MIT-BIH CSV was, and where each one starts.

    The same beats as ``beats_of_annotated(record, "kaggle")``, with their positions.

    Parameters
    ----------
    record : Record
        An annotated record at its own rate (360 Hz for MIT-BIH), read with ``leads=()``: the
        Kaggle CSV used the first signal of every record.

    Returns
    -------
    X : ndarray, shape (n, 187), float32
    label : ndarray, shape (n,), int64
        AAMI class of each beat.
    sample : ndarray, shape (n,), int64
        Annotation position of each beat in the record, in samples.
    """
    classes = symbols_to_classes(record.ann_symbols)
    beats, kept = kaggle_beats(record.signal, record.ann_samples, np.flatnonzero(classes >= 0))
    return beats, classes[kept], np.asarray(record.ann_samples, dtype=np.int64)[kept]


def index_records(records: Sequence[Record], data_dir: str = "", progress: bool = False) -> BeatIndex:
    """A :class:`BeatIndex` of records already read (real ones, or synthetic ones for tests).

    Parameters
    ----------
    records : sequence of Record
        Annotated records at their own rate.
    data_dir : str
        Where they come from, for messages.
    progress : bool
        Show a progress bar.
    """
    parts = [(record.name, *record_beats(record))
             for record in _progress(records, "indexing beats", progress)]
    X = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, 187), np.float32)
    names = np.concatenate([np.full(len(p[2]), p[0]) for p in parts]) if parts else np.zeros(0, str)
    label = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
    sample = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, np.int64)

    # Beats with equal values share a key: keep all their positions, to see the ambiguity.
    positions: dict[bytes, list[int]] = {}
    for i, key in enumerate(row_keys(X)):
        positions.setdefault(key, []).append(i)
    lookup = {key: np.array(found, dtype=np.int64) for key, found in positions.items()}
    return BeatIndex(X, names, sample, label, str(data_dir), lookup)


def beat_index(data_dir: str | os.PathLike | None = None, progress: bool = False) -> BeatIndex:
    """Index every beat the Kaggle recipe cuts from the MIT-BIH records of the data directory.

    All 48 records give 109,446 beats; reading and cutting them takes a few seconds.

    Parameters
    ----------
    data_dir : path, optional
        The data directory (default: ``ECGLAB_DATA``, else ``data/`` of the repository); the
        records are in its ``mitdb/``.
    progress : bool
        Show a progress bar.

    Raises
    ------
    DataError
        No MIT-BIH records in the data directory, or a record that cannot be read.
    """
    folder = resolve_data_dir(data_dir)
    names = mitbih_record_names(folder)
    if not names:
        raise DataError(f"{folder}: no MIT-BIH records in this data directory (mitdb/); "
                        "`python -m ecglab data fetch mitbih` gets them")
    # leads=(): the first signal of every record, as the Kaggle CSV (V5 for record 114).
    records = [read_mitbih_record(name, folder, leads=())
               for name in _progress(names, "reading MIT-BIH", progress)]
    return index_records(records, str(folder), progress=progress)


# --- placing rows -------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Placements:
    """Where each row of a beat file comes from (see :func:`place_rows`).

    Attributes
    ----------
    record : ndarray, shape (n,), str
        Record of each row; ``""`` where the row is not placed.
    sample : ndarray, shape (n,), int64
        Annotation position in the 360-Hz record, in samples; -1 where the row is not placed.
    label : ndarray, shape (n,), int64
        The row's own label (from the file).
    reason : ndarray, shape (n,), str
        ``""`` for a placed row, else one of :data:`REASONS`.
    matches : ndarray, shape (n,), int64
        How many beats of the index have the row's 187 values (1 for a placed row).
    candidates : tuple of tuples, length n
        For an unplaced row, up to ``MAX_CANDIDATES`` ``(record, sample, label)`` of the beats with
        its values; empty for a placed row and for a row that matches none.
    """

    record: np.ndarray
    sample: np.ndarray
    label: np.ndarray
    reason: np.ndarray
    matches: np.ndarray
    candidates: tuple = ()

    def __len__(self) -> int:
        return len(self.label)

    @property
    def placed(self) -> np.ndarray:
        """Boolean mask, shape (n,): the rows that are placed."""
        return self.reason == ""

    def row(self, i: int) -> dict:
        """Row ``i`` (0-based) as a dict: record and sample (None when not placed), label, reason."""
        placed = self.reason[i] == ""
        return {"record": str(self.record[i]) if placed else None,
                "sample": int(self.sample[i]) if placed else None,
                "label": int(self.label[i]),
                "reason": None if placed else str(self.reason[i]),
                "matches": int(self.matches[i])}

    def per_record(self) -> dict[str, int]:
        """Placed rows per record, by record name."""
        names, counts = np.unique(self.record[self.placed], return_counts=True)
        return {str(n): int(c) for n, c in zip(names, counts)}

    def why(self, i: int) -> str:
        """A sentence on row ``i``: where it comes from, or why it is not placed."""
        return explain(self.row(i) | {"candidates": [
            {"record": r, "sample": s, "label": lab} for r, s, lab in self.candidates[i]]})


def _class_name(label: int) -> str:
    label = int(label)
    return f"{CLASSES[label]} ({label})" if 0 <= label < len(CLASSES) else str(label)


def explain(row: dict) -> str:
    """A sentence on one row of ``provenance()["rows"]``: where it comes from, or why it is not placed.

    Parameters
    ----------
    row : dict
        With ``record``, ``sample``, ``label``, ``reason``, and for an unplaced row ``matches``
        and ``candidates`` (a list of ``{"record", "sample", "label"}``).
    """
    label = _class_name(row["label"])
    found = row.get("candidates") or []
    if row["reason"] is None:
        return f"record {row['record']}, sample {row['sample']} ({label})"
    if row["reason"] == LABEL_DIFFERS:
        beat = found[0]
        return (f"{LABEL_DIFFERS}: the file says {label}, the beat with these values "
                f"(record {beat['record']}, sample {beat['sample']}) is {_class_name(beat['label'])}")
    if row["reason"] == AMBIGUOUS:
        where = ", ".join(f"{c['record']}@{c['sample']}" for c in found)
        more = ", ..." if row["matches"] > len(found) else ""
        return f"{AMBIGUOUS}: {row['matches']} beats have these values ({where}{more})"
    return f"{NOT_FOUND}: no beat of the records has these 187 values"


def place_rows(X: np.ndarray, y: np.ndarray, index: BeatIndex) -> Placements:
    """Find each row among the beats of the index.

    A row is placed when its 187 float32 values equal those of exactly one beat and its label is
    that beat's class. Otherwise it is left unplaced, never guessed: ``"not found"`` (no beat has
    these values, e.g. one value one ulp off, or a record missing from the index),
    ``"label differs"`` (one beat has them, with another class) or ``"ambiguous"`` (several beats
    have them, whatever their labels).

    Parameters
    ----------
    X : ndarray, shape (n, 187)
        Beats, e.g. from :func:`ecglab.data.read_csv`; compared as float32.
    y : ndarray, shape (n,), int
        Their labels (AAMI classes 0..4).
    index : BeatIndex

    Returns
    -------
    Placements
    """
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if X.ndim != 2 or X.shape[1] != index.X.shape[1] or len(X) != len(y):
        raise DataError(f"rows: need X of shape (n, {index.X.shape[1]}) and y of shape (n,), "
                        f"got {X.shape} and {y.shape}")
    n = len(y)
    record = np.full(n, "", dtype=index.record.dtype if len(index) else "U8")
    sample = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, NOT_FOUND, dtype=f"U{max(map(len, REASONS))}")
    matches = np.zeros(n, dtype=np.int64)
    candidates: list[tuple] = [()] * n

    for i, key in enumerate(row_keys(X)):
        found = index.matches(X[i], key)
        matches[i] = len(found)
        if len(found) == 1 and index.label[found[0]] == y[i]:
            record[i], sample[i], reason[i] = index.record[found[0]], index.sample[found[0]], ""
            continue
        if len(found):
            reason[i] = LABEL_DIFFERS if len(found) == 1 else AMBIGUOUS
            candidates[i] = tuple((str(index.record[j]), int(index.sample[j]), int(index.label[j]))
                                  for j in found[:MAX_CANDIDATES])
    return Placements(record, sample, y, reason, matches, tuple(candidates))


# --- files --------------------------------------------------------------------------------------

def line_numbers(path: str | os.PathLike, n_rows: int) -> np.ndarray:
    """1-based line number in the file of each of its ``n_rows`` rows.

    :func:`ecglab.data.read_csv` skips blank lines (as pandas does), so row ``i`` is on line
    ``i + 1`` only in a file without them.

    Returns
    -------
    ndarray, shape (n_rows,), int64
    """
    with open(path, "rb") as file:
        numbers = [number for number, line in enumerate(file, 1) if line.strip()]
    if len(numbers) != n_rows:  # line ends pandas reads otherwise (a lone CR): count rows
        return np.arange(1, n_rows + 1, dtype=np.int64)
    return np.array(numbers, dtype=np.int64)


def provenance(paths: Sequence[str | os.PathLike], data_dir: str | os.PathLike | None = None,
               index: BeatIndex | None = None, progress: bool = False) -> dict:
    """Where every row of some Kaggle-format MIT-BIH CSVs comes from.

    Parameters
    ----------
    paths : sequence of path
        CSV files in the Kaggle format (no header, 187 values and a label 0..4 a row).
    data_dir : path, optional
        The data directory with the records (``mitdb/``); used when ``index`` is not given.
    index : BeatIndex, optional
        An index built already (:func:`beat_index`).
    progress : bool
        Show progress bars while the index is built.

    Returns
    -------
    dict
        The JSON of ``python -m ecglab data provenance --json``. Its contract:
        ``rows`` (one dict per row: ``file`` str, ``row`` 1-based line number, ``record`` str or
        None, ``sample`` int or None, ``label`` int), ``placed`` int and ``total`` int. Beyond the
        contract: per row ``reason`` (None when placed) and ``matches``, plus ``candidates`` for an
        unplaced row that matched beats; ``files`` (per file: placed, total, records, patients,
        per_record, unplaced per reason), ``records``, ``patients``, ``per_record``, ``unplaced``,
        ``in_several_files`` (the records with rows in more than one file, and how many patients
        have rows in more than one file) and ``index`` (data_dir, records, beats).

    Raises
    ------
    DataError
        A missing or malformed file (named in the message), or no records in the data directory.
    """
    # Read every file first: a bad file fails at once, before the index is built.
    tables = [(str(p), *read_csv(p)) for p in paths]
    if index is None:
        index = beat_index(data_dir, progress=progress)

    rows, files = [], []
    per_file: list[Placements] = []
    for name, X, y in tables:
        places = place_rows(X, y, index)
        per_file.append(places)
        for i, line in enumerate(line_numbers(name, len(y))):
            entry = {"file": name, "row": int(line), **places.row(i)}
            if places.candidates[i]:
                entry["candidates"] = [{"record": r, "sample": s, "label": lab}
                                       for r, s, lab in places.candidates[i]]
            rows.append(entry)
        files.append({"file": name, **_summary(places)})

    return {"rows": rows, **_summary(_concat(per_file)), "files": files,
            "in_several_files": _in_several(per_file),
            "index": {"data_dir": index.data_dir, "records": len(index.records), "beats": len(index)}}


def _in_several(per_file: Sequence[Placements]) -> dict:
    """The records, and the number of patients, with placed rows in more than one file."""
    def several(sets: list[set]) -> list[str]:
        return sorted(k for k in set().union(*sets) if sum(k in s for s in sets) > 1)

    records = [set(places.per_record()) for places in per_file]
    patients = [{patient_of(r) for r in names} for names in records]
    return {"records": several(records), "patients": len(several(patients))}


def _summary(places: Placements) -> dict:
    """Counts of a set of placements, as in the JSON of :func:`provenance`."""
    per_record = places.per_record()
    return {"placed": int(places.placed.sum()), "total": len(places),
            "records": len(per_record), "patients": count_patients(per_record),
            "per_record": per_record,
            "unplaced": {r: int((places.reason == r).sum()) for r in REASONS}}


def _concat(parts: Sequence[Placements]) -> Placements:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Placements(np.zeros(0, str), empty, empty, np.zeros(0, str), empty, ())
    return Placements(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("record", "sample", "label", "reason", "matches")),
                      tuple(c for p in parts for c in p.candidates))


# --- lesson 3: patients on both sides -----------------------------------------------------------

def _record_names(side) -> list[str]:
    """Record per placed row, from Placements or from any sequence of names (None, "" skipped)."""
    names = side.record[side.placed].tolist() if isinstance(side, Placements) else list(side)
    return [str(r) for r in names if r]


def shared_patients(train, test) -> dict:
    """Which records (patients) give beats to both a train file and a test file.

    A split by beat, as the Kaggle CSVs are, puts beats of the same patient on both sides: a model
    can then score well by recognising the patient. This counts how much.

    Parameters
    ----------
    train, test : Placements or sequence of str
        The placements of each file (:func:`place_rows`), or the record of each of its rows, e.g.
        ``[r["record"] for r in provenance([path])["rows"]]``; unplaced rows (None, "") are skipped.

    Returns
    -------
    dict
        ``shared`` (sorted names of the records on both sides), ``n_shared``,
        ``n_shared_patients`` (patients on both sides: records 201 and 202 are one patient, see
        :data:`SAME_PATIENT`), ``train_only`` and ``test_only`` (sorted names), ``per_record``
        (name -> ``{"train": n, "test": n}``, every record of either side), and
        ``test_rows_shared``: the share of the placed test rows whose record also gives training
        rows (0..1; 0.0 when there are none).

    Examples
    --------
    >>> out = shared_patients(["100", "100", "101"], ["100", "105", None])
    >>> out["shared"], out["per_record"]["100"], out["test_rows_shared"]
    (['100'], {'train': 2, 'test': 1}, 0.5)
    """
    train_names, test_names = _record_names(train), _record_names(test)
    per_record: dict[str, dict[str, int]] = {}
    for side, names in (("train", train_names), ("test", test_names)):
        for name in names:
            per_record.setdefault(name, {"train": 0, "test": 0})[side] += 1
    per_record = dict(sorted(per_record.items()))
    shared = [r for r, c in per_record.items() if c["train"] and c["test"]]
    in_shared = sum(per_record[r]["test"] for r in shared)
    # By patient, not by record: record 201 on one side and 202 on the other is one patient on both.
    both = {patient_of(r) for r in train_names} & {patient_of(r) for r in test_names}
    return {"shared": shared, "n_shared": len(shared), "n_shared_patients": len(both),
            "train_only": [r for r, c in per_record.items() if not c["test"]],
            "test_only": [r for r, c in per_record.items() if not c["train"]],
            "per_record": per_record,
            "test_rows_shared": in_shared / len(test_names) if test_names else 0.0}
