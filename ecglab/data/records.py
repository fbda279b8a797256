"""ECG records: one lead of one recording, with its beat annotations, read from WFDB files.

A :class:`Record` is what every dataset of the course is built from, whether it comes from
PhysioNet (MIT-BIH at 360 Hz, PTB at 1000 Hz) or from the synthetic generator.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .aami import symbols_to_classes


@dataclass(frozen=True)
class Record:
    """One lead of one ECG recording.

    Attributes
    ----------
    name : str
        Record id, e.g. ``"100"`` (MIT-BIH) or ``"patient001/s0010_re"`` (PTB).
    signal : ndarray, shape (n_samples,), float64
        The lead, in mV.
    fs : float
        Sampling rate in Hz.
    lead : str
        The lead's name as in the header (``"MLII"``, ``"ii"``, ...).
    r_peaks : ndarray, shape (n_beats,), int64, or None
        Sample indices of the annotated beats (None when the record has no beat annotations).
    symbols : ndarray, shape (n_beats,), str, or None
        The annotation symbol of each beat in ``r_peaks``.
    ann_samples, ann_symbols : ndarray, shape (n_annotations,), or None
        Every annotation, beats and others (rhythm changes ``+``, noise ``~`` ...), in order. The
        Kaggle recipe (:func:`ecglab.data.beats.kaggle_beats`) ends a beat at the next annotation
        of any kind.
    label : int or None
        A label for the whole record (PTB: 0 healthy control, 1 myocardial infarction).
    source : str
        ``"real"`` (read from files) or ``"synthetic"`` (made by :mod:`ecglab.data.synthetic`).
    patient : str
        Who was recorded; beats of one patient must stay on one side of a patient split.
    """

    name: str
    signal: np.ndarray
    fs: float
    lead: str
    r_peaks: np.ndarray | None = None
    symbols: np.ndarray | None = None
    ann_samples: np.ndarray | None = None
    ann_symbols: np.ndarray | None = None
    label: int | None = None
    source: str = "real"
    patient: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.signal) / self.fs

    @property
    def beat_classes(self) -> np.ndarray:
        """AAMI class (0..4) of each annotated beat, -1 for annotations that are not beats."""
        if self.symbols is None:
            raise DataError(f"record {self.name}: has no beat annotations")
        return symbols_to_classes(self.symbols)

    def replace(self, **changes) -> "Record":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _check_files(stem: Path, suffixes: tuple[str, ...]) -> None:
    for suffix in suffixes:
        path = stem.with_name(stem.name + suffix)
        if not path.is_file():
            raise DataError(f"{path}: file not found")


#: Bits per sample of the WFDB signal formats whose size follows from the header (not FLAC).
_FORMAT_BITS = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16, "212": 12,
                "310": 32 / 3, "311": 32 / 3}


def _check_size(stem: Path, header, channel: int) -> None:
    """Refuse a signal file shorter than its header says (a cut-off download, a full disk)."""
    file_name = header.file_name[channel]
    same_file = [i for i, f in enumerate(header.file_name) if f == file_name]
    if any(str(header.fmt[i]) not in _FORMAT_BITS for i in same_file):
        return
    bits_per_frame = sum(_FORMAT_BITS[str(header.fmt[i])] * (header.samps_per_frame[i] or 1)
                         for i in same_file)
    offset = (header.byte_offset or [None])[channel] or 0
    expected = offset + int(header.sig_len * bits_per_frame // 8)
    path = stem.with_name(file_name)
    size = path.stat().st_size if path.is_file() else 0
    if size < expected:
        raise DataError(f"{path}: truncated, {size:,} of {expected:,} bytes "
                        f"({header.sig_len:,} samples per signal in the header)")


def read_wfdb(stem: str | Path, leads: tuple[str, ...] = (), annotator: str | None = None,
              source: str = "real", patient: str = "", name: str | None = None) -> Record:
    """Read one lead of a WFDB record (and its beat annotations) into a :class:`Record`.

    Parameters
    ----------
    stem : path
        The record's path without extension, e.g. ``data/mitdb/100``.
    leads : tuple of str
        Lead names in order of preference (case-insensitive); the first one present is read.
        When none is present, the record's first signal is read and ``meta["lead_fallback"]``
        says so. Empty: the first signal.
    annotator : str, optional
        Annotation file extension (``"atr"`` for MIT-BIH). Only beat annotations are kept.

    Raises
    ------
    DataError
        A missing, truncated or unreadable file, named in the message.
    """
    import wfdb

    stem = Path(stem)
    _check_files(stem, (".hea", ".dat") + ((f".{annotator}",) if annotator else ()))
    try:
        header = wfdb.rdheader(str(stem))
    except Exception as exc:  # wfdb raises many types for a broken header
        raise DataError(f"{stem}.hea: cannot read the header ({exc})") from None
    names = [str(n).lower() for n in header.sig_name]
    wanted = [lead.lower() for lead in leads]
    channel = next((names.index(w) for w in wanted if w in names), 0)
    meta = {"comments": list(header.comments or [])}
    if wanted and names[channel] not in wanted:
        meta["lead_fallback"] = f"none of {list(leads)} in {header.sig_name}; read {header.sig_name[channel]}"

    dat = stem.with_name(stem.name + ".dat")
    if header.sig_len:
        _check_size(stem, header, channel)
    try:
        rec = wfdb.rdrecord(str(stem), channels=[channel], physical=True)
    except Exception as exc:
        raise DataError(f"{dat}: cannot read the signal ({type(exc).__name__}: {exc})") from None
    signal = np.asarray(rec.p_signal[:, 0], dtype=np.float64)
    if len(signal) != header.sig_len:
        raise DataError(f"{dat}: truncated, {len(signal)} of {header.sig_len} samples")
    if np.isnan(signal).any():
        # wfdb marks missing samples as NaN; a short .dat also ends up here.
        raise DataError(f"{dat}: truncated or corrupt, {int(np.isnan(signal).sum())} samples are missing")

    r_peaks = symbols = ann_samples = ann_symbols = None
    if annotator:
        try:
            ann = wfdb.rdann(str(stem), annotator)
        except Exception as exc:
            raise DataError(f"{stem}.{annotator}: cannot read the annotations ({exc})") from None
        sample = np.asarray(ann.sample, dtype=np.int64)
        symbol = np.asarray(ann.symbol, dtype=str)
        inside = (sample >= 0) & (sample < len(signal))
        ann_samples, ann_symbols = sample[inside], symbol[inside]
        is_beat = symbols_to_classes(ann_symbols) >= 0
        r_peaks, symbols = ann_samples[is_beat], ann_symbols[is_beat]

    return Record(
        name=name or stem.name,
        signal=signal,
        fs=float(header.fs),
        lead=str(header.sig_name[channel]),
        r_peaks=r_peaks,
        symbols=symbols,
        ann_samples=ann_samples,
        ann_symbols=ann_symbols,
        source=source,
        patient=patient or (name or stem.name),
        meta=meta,
    )


def resample(record: Record, fs: float) -> Record:
    """The record at ``fs`` Hz, annotations moved to the nearest new sample.

    When ``fs`` divides the record's rate (PTB: 1000 -> 125 Hz), every k-th sample is kept, as the
    Kaggle PTB CSVs were made (an anti-aliasing filter would change the beats). Otherwise
    (MIT-BIH: 360 -> 125 Hz) a polyphase anti-aliasing filter resamples the signal
    (``scipy.signal.resample_poly``, up 25, down 72). Annotation positions become
    ``round(sample * fs / record.fs)``.
    """
    from fractions import Fraction

    from scipy.signal import resample_poly

    if fs == record.fs:
        return record
    step = record.fs / fs
    if step == int(step):
        signal = record.signal[:: int(step)].copy()
    else:
        ratio = Fraction(fs / record.fs).limit_denominator(1000)
        signal = resample_poly(record.signal, ratio.numerator, ratio.denominator)

    def move(samples, symbols):
        if samples is None:
            return None, None
        moved = np.rint(samples * (fs / record.fs)).astype(np.int64)
        keep = moved < len(signal)
        return moved[keep], symbols[keep]

    r_peaks, symbols = move(record.r_peaks, record.symbols)
    ann_samples, ann_symbols = move(record.ann_samples, record.ann_symbols)
    return record.replace(signal=signal, fs=float(fs), r_peaks=r_peaks, symbols=symbols,
                          ann_samples=ann_samples, ann_symbols=ann_symbols)
