"""Tests of the data layer, ecglab.data: Kaggle CSVs, WFDB records, beats, datasets, splits.

Everything but the last section runs on fabricated inputs (small WFDB records written with wfdb
into tmp folders, hand-made arrays, the synthetic generator). The last section needs the real
records (fixture ``real_data``: set ``ECGLAB_DATA`` to a data directory with ``mitdb/``) and checks
the numbers the course states: 109,446 MIT-BIH beats, the Kaggle rows reproduced bit for bit.

    .venv/bin/python -m pytest tests/test_data.py -q
    ECGLAB_DATA=/path/to/data .venv/bin/python -m pytest tests/test_data.py -q
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from ecglab import data
from ecglab.config import BEAT_LENGTH, ENV_DATA, data_dir as resolve_data_dir
from ecglab.data import beats as beats_mod
from ecglab.data.datasets import BeatDataset, beats_of_annotated, ptb_label
from ecglab.data.records import Record
from ecglab.data.synthetic import synthetic_mitbih_records, synthetic_ptb_records
from ecglab.errors import DataError

from .conftest import REPO

#: The Kaggle MIT-BIH CSV (train + test), per class N, S, V, F, Q.
KAGGLE_PER_CLASS = [90_589, 2_779, 7_236, 803, 8_039]
KAGGLE_TOTAL = 109_446
#: Beat annotations in the 48 records (one more per record than Kaggle: the last beat is dropped).
ANNOTATED_BEATS = 109_494


# --- helpers ------------------------------------------------------------------------------------

def write_record(folder: Path, name: str, signals: np.ndarray, fs: float, sig_names,
                 ann: tuple | None = None, fmt: str = "212", comments=()) -> Path:
    """Write a WFDB record (and an ``atr`` annotation file when ``ann`` is given); its stem."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    signals = np.asarray(signals, dtype=np.float64)
    if signals.ndim == 1:
        signals = signals[:, None]
    n = signals.shape[1]
    wfdb.wrsamp(name, fs=fs, units=["mV"] * n, sig_name=list(sig_names), p_signal=signals,
                fmt=[fmt] * n, comments=list(comments), write_dir=str(folder))
    if ann is not None:
        samples, symbols = ann
        wfdb.wrann(name, "atr", np.asarray(samples, dtype=np.int64), symbol=list(symbols),
                   write_dir=str(folder))
    return folder / name


def write_mitdb(data_dir: Path, names=("100", "119", "208"), seconds: float = 20.0,
                first_lead: str = "MLII") -> list[Record]:
    """Fabricate ``data_dir/mitdb``: synthetic records written as MIT-BIH files (2 leads, 360 Hz),
    with non-beat annotations (``+`` at the start, ``~`` in the middle) among the beats."""
    records = synthetic_mitbih_records(seconds=seconds, names=tuple(names))
    for rec in records:
        other = -0.4 * rec.signal + 0.05 * np.sin(np.arange(len(rec.signal)) / 50)
        leads = (rec.signal, other) if first_lead == "MLII" else (other, rec.signal)
        sig_names = ("MLII", "V1") if first_lead == "MLII" else ("V5", "MLII")
        middle = int(rec.r_peaks[len(rec.r_peaks) // 2]) + 20
        samples = np.r_[1, rec.r_peaks, middle]
        symbols = np.r_[["+"], rec.symbols, ["~"]]
        order = np.argsort(samples, kind="stable")
        write_record(data_dir / "mitdb", rec.name, np.stack(leads, axis=1), 360, sig_names,
                     ann=(samples[order], symbols[order]))
    return records


def write_ptbdb(data_dir: Path, seconds: float = 20.0) -> list[Record]:
    """Fabricate ``data_dir/ptbdb``: one MI, one healthy and one other-diagnosis record, leads i, ii."""
    records = synthetic_ptb_records(n_healthy=1, n_mi=1, seconds=seconds)
    other = records[0].replace(name="patient003/s0003_syn", patient="patient003",
                               meta={"comments": ["Reason for admission: Cardiomyopathy"]})
    for rec in [*records, other]:
        patient, stem = rec.name.split("/")
        lead_i = 0.3 * np.cos(np.arange(len(rec.signal)) / 300)  # not lead ii: must not be read
        write_record(data_dir / "ptbdb" / patient, stem, np.stack([lead_i, rec.signal], axis=1),
                     1000, ("i", "ii"), fmt="16", comments=rec.meta["comments"])
    return [*records, other]


def write_kaggle(folder: Path, names=("mitbih_train.csv", "mitbih_test.csv"), n: int = 10,
                 n_classes: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    written = []
    for i, name in enumerate(names):
        X = rng.random((n + i, BEAT_LENGTH)).astype(np.float32)
        y = np.arange(n + i) % n_classes
        data.write_csv(folder / name, X, y)
        written.append((X, y))
    return written


def same_bits(a, b) -> bool:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return a.shape == b.shape and bool((a.view(np.uint32) == b.view(np.uint32)).all())


def kaggle_recipe(signal, s, beat_index, stride=3, extra=0.2, length=BEAT_LENGTH):
    """The Kaggle MIT-BIH recipe written out beat by beat, as the beats module documents it."""
    rows, kept = [], []
    for i in beat_index:
        if i + 1 >= len(s):
            continue  # the record's last annotation has no next one
        end = s[i + 1] + (int(np.floor(extra * (s[i + 2] - s[i + 1]))) if i + 2 < len(s) else 0)
        segment = np.asarray(signal, np.float64)[s[i]:min(end, len(signal)):stride]
        span = segment.max() - segment.min()
        segment = (segment - segment.min()) / span if span > 0 else np.zeros_like(segment)
        row = np.zeros(length)
        row[:min(len(segment), length)] = segment[:length]
        rows.append(row)
        kept.append(i)
    return np.array(rows, np.float32).reshape(-1, length), np.array(kept, np.int64)


@pytest.fixture(scope="module")
def mitdb_dir(tmp_path_factory):
    """A data directory with three fabricated MIT-BIH records (and nothing else)."""
    folder = tmp_path_factory.mktemp("mitdb_data")
    write_mitdb(folder)
    return folder


@pytest.fixture(scope="module")
def ptbdb_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ptbdb_data")
    write_ptbdb(folder)
    return folder


@pytest.fixture(scope="module")
def pp():
    """The reference solutions of lesson 1 (the exercises the students write)."""
    from autograder.reference import reference_module
    return reference_module("preprocess")


# --- Kaggle CSV IO -------------------------------------------------------------------------------

def test_csv_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.random((50, BEAT_LENGTH)).astype(np.float32)
    X[0, :5] = [0.0, 1.0, np.float32(1e-45), np.nextafter(np.float32(1), np.float32(0)), 1 / 3]
    y = rng.integers(0, 5, 50)
    path = data.write_csv(tmp_path / "beats.csv", X, y)
    X2, y2 = data.read_csv(path)
    assert X2.dtype == np.float32 and y2.dtype == np.int64
    assert same_bits(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_csv_has_no_header_and_keeps_the_first_beat(tmp_path):
    import pandas as pd

    X = np.random.default_rng(2).random((4, BEAT_LENGTH)).astype(np.float32)
    y = np.array([3, 0, 1, 2])
    path = data.write_csv(tmp_path / "beats.csv", X, y)
    lines = path.read_text().splitlines()
    assert len(lines) == 4                                  # no header row
    first = [float(v) for v in lines[0].split(",")]
    assert len(first) == BEAT_LENGTH + 1 and first[-1] == 3.0
    assert same_bits(first[:-1], X[0])                      # the first line is the first beat
    assert [line.rsplit(",", 1)[1] for line in lines] == ["3.0", "0.0", "1.0", "2.0"]  # float labels
    X2, y2 = data.read_csv(path)
    assert len(y2) == 4 and same_bits(X2[0], X[0]) and y2[0] == 3
    # The seed project's bug: pandas' default header row swallows the first beat.
    assert len(pd.read_csv(path)) == 3


def test_csv_reads_the_kaggle_number_format(tmp_path):
    # The Kaggle files write floats as Python does ("0.0", 17 digits), labels as "1.0".
    values = [0.0, 1.0, 0.8905472755432129] + [0.1] * (BEAT_LENGTH - 3)
    path = tmp_path / "k.csv"
    path.write_text(",".join(repr(v) for v in values) + ",1.0\n")
    X, y = data.read_csv(path)
    assert same_bits(X[0], np.array(values, np.float64).astype(np.float32)) and y.tolist() == [1]


def _lines(tmp_path, n=5):
    X = np.random.default_rng(3).random((n, BEAT_LENGTH)).astype(np.float32)
    path = data.write_csv(tmp_path / "good.csv", X, np.arange(n) % 5)
    return path.read_text().splitlines()


def _replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


BAD_CSVS = {
    # name: (make the lines from good ones, the row the message must name, a word it must hold)
    "empty file": (lambda ls: [], None, "empty"),
    "text header": (lambda ls: [",".join(f"c{i}" for i in range(BEAT_LENGTH + 1))] + ls, 1, "header"),
    "numbered header": (lambda ls: [",".join(str(i) for i in range(BEAT_LENGTH + 1))] + ls, 1, "header"),
    "too few columns": (lambda ls: ls[:2] + [",".join(ls[2].split(",")[:100])] + ls[3:], 3, "100 columns"),
    "label missing": (lambda ls: ls[:1] + [ls[1].rsplit(",", 1)[0]] + ls[2:], 2, "187 columns"),
    "too many columns": (lambda ls: ls[:3] + [ls[3] + ",0.5"] + ls[4:], 4, "189 columns"),
    "not a number": (lambda ls: ls[:1] + [_replace_field(ls[1], 7, "abc")] + ls[2:], 2, "not a number"),
    "empty value": (lambda ls: ls[:4] + [_replace_field(ls[4], 7, "")] + ls[5:], 5, "not a number"),
    "NaN": (lambda ls: ls[:2] + [_replace_field(ls[2], 9, "nan")] + ls[3:], 3, "NaN"),
    "label out of range": (lambda ls: ls[:1] + [_replace_field(ls[1], -1, "5.0")] + ls[2:], 2, "label 5"),
    "negative label": (lambda ls: ls[:3] + [_replace_field(ls[3], -1, "-1.0")] + ls[4:], 4, "label -1"),
    "label not whole": (lambda ls: ls[:1] + [_replace_field(ls[1], -1, "1.5")] + ls[2:], 2, "label 1.5"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_is_a_data_error_naming_file_and_row(tmp_path, case):
    make, row, word = BAD_CSVS[case]
    path = tmp_path / "bad.csv"
    lines = make(_lines(tmp_path))
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(DataError) as info:
        data.read_csv(path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message and str(path) in message and word in message
    if row is not None:
        assert f"row {row} " in message


def test_missing_and_binary_csv(tmp_path):
    with pytest.raises(DataError, match="nope.csv: file not found"):
        data.read_csv(tmp_path / "nope.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DataError, match="bin.csv"):
        data.read_csv(binary)


def test_csv_label_range_follows_n_classes(tmp_path):
    path = data.write_csv(tmp_path / "ptb.csv", np.zeros((2, BEAT_LENGTH)), np.array([0, 1]))
    assert data.read_csv(path, n_classes=2)[1].tolist() == [0, 1]
    with pytest.raises(DataError, match="row 2 has label 1"):
        data.read_csv(path, n_classes=1)


def test_write_csv_refuses_mismatched_shapes(tmp_path):
    with pytest.raises(DataError, match="x.csv"):
        data.write_csv(tmp_path / "x.csv", np.zeros((3, BEAT_LENGTH)), np.zeros(2))


# --- records --------------------------------------------------------------------------------------

@pytest.fixture
def two_lead_record(tmp_path):
    fs, n = 360, 3600
    t = np.arange(n) / fs
    signals = np.stack([np.sin(2 * np.pi * t), 0.5 * np.cos(2 * np.pi * 3 * t)], axis=1)
    ann = ([5, 400, 500, 800, 1200, n + 50], ["+", "N", "~", "V", "A", "N"])  # the last is outside
    stem = write_record(tmp_path / "rec", "100", signals, fs, ("V5", "MLII"), ann=ann,
                        comments=["69 M 1085 1629 x1", "Aldomet, Inderal"])
    return stem, signals


def test_read_wfdb_reads_signal_and_annotations(two_lead_record):
    stem, signals = two_lead_record
    rec = data.read_wfdb(stem, ("MLII",), annotator="atr")
    assert isinstance(rec, Record)
    assert rec.name == "100" and rec.patient == "100" and rec.source == "real"
    assert rec.fs == 360.0 and rec.lead == "MLII" and rec.seconds == 10.0
    assert rec.signal.dtype == np.float64 and rec.signal.shape == (3600,)
    np.testing.assert_allclose(rec.signal, signals[:, 1], atol=1e-3)  # 12-bit format 212
    # r_peaks/symbols: beats only; ann_samples/ann_symbols: every annotation inside the signal
    assert rec.r_peaks.tolist() == [400, 800, 1200] and rec.symbols.tolist() == ["N", "V", "A"]
    assert rec.ann_samples.tolist() == [5, 400, 500, 800, 1200]
    assert rec.ann_symbols.tolist() == ["+", "N", "~", "V", "A"]
    assert rec.beat_classes.tolist() == [0, 2, 1]
    assert rec.meta["comments"] == ["69 M 1085 1629 x1", "Aldomet, Inderal"]
    assert "lead_fallback" not in rec.meta


def test_read_wfdb_lead_preference_and_fallback(two_lead_record):
    stem, signals = two_lead_record
    assert data.read_wfdb(stem, ("mlii",)).lead == "MLII"                 # case-insensitive
    assert data.read_wfdb(stem, ("V5", "MLII")).lead == "V5"              # order of preference
    assert data.read_wfdb(stem, ("ii", "MLII")).lead == "MLII"            # first one present
    plain = data.read_wfdb(stem)                                         # no preference: first
    assert plain.lead == "V5" and "lead_fallback" not in plain.meta and plain.r_peaks is None
    fallback = data.read_wfdb(stem, ("ii",))
    assert fallback.lead == "V5"
    np.testing.assert_allclose(fallback.signal, signals[:, 0], atol=1e-3)
    assert "ii" in fallback.meta["lead_fallback"] and "V5" in fallback.meta["lead_fallback"]


def test_read_wfdb_options(two_lead_record):
    stem, _ = two_lead_record
    rec = data.read_wfdb(stem, name="mine", patient="p7", source="synthetic")
    assert (rec.name, rec.patient, rec.source) == ("mine", "p7", "synthetic")
    with pytest.raises(DataError, match="no beat annotations"):
        rec.beat_classes


@pytest.mark.parametrize("missing", ["hea", "dat", "atr"])
def test_read_wfdb_missing_file(two_lead_record, missing):
    stem, _ = two_lead_record
    path = stem.with_name(f"100.{missing}")
    path.unlink()
    with pytest.raises(DataError) as info:
        data.read_wfdb(stem, annotator="atr")
    assert str(info.value).startswith(f"{path}: ") and "not found" in str(info.value)


@pytest.mark.parametrize("keep", [0, 0.5, -3])
def test_read_wfdb_truncated_dat(two_lead_record, keep):
    stem, _ = two_lead_record
    dat = stem.with_name("100.dat")
    size = dat.stat().st_size
    with open(dat, "r+b") as f:
        f.truncate(int(size * keep) if keep >= 0 else size + keep)
    with pytest.raises(DataError) as info:
        data.read_wfdb(stem, ("MLII",), annotator="atr")
    message = str(info.value)
    assert message.startswith(f"{dat}: truncated") and "\n" not in message


def test_read_wfdb_truncated_format_16(tmp_path):
    stem = write_record(tmp_path, "s0001", np.sin(np.arange(2000) / 30.0), 1000, ("ii",), fmt="16")
    dat = stem.with_name("s0001.dat")
    with open(dat, "r+b") as f:
        f.truncate(dat.stat().st_size - 100)
    with pytest.raises(DataError, match="s0001.dat: truncated"):
        data.read_wfdb(stem, ("ii",))


def test_read_wfdb_broken_header(two_lead_record):
    stem, _ = two_lead_record
    stem.with_name("100.hea").write_text("this is not a header\n")
    with pytest.raises(DataError, match="100.hea"):
        data.read_wfdb(stem)


def test_resample_1000_to_125_is_decimation():
    signal = np.arange(8000.0)
    rec = Record("r", signal, 1000.0, "ii", r_peaks=np.array([5, 13, 7995, 7999]),
                 symbols=np.array(["N", "V", "N", "N"]), ann_samples=np.array([5, 13, 7995, 7999]),
                 ann_symbols=np.array(["N", "V", "N", "N"]))
    out = data.resample(rec, 125)
    assert out.fs == 125.0
    np.testing.assert_array_equal(out.signal, signal[::8])                # every 8th sample
    assert out.r_peaks.tolist() == [1, 2, 999] and out.symbols.tolist() == ["N", "V", "N"]
    assert out.ann_samples.tolist() == [1, 2, 999]                        # 999.875 -> 1000 is out
    assert rec.signal is signal and len(rec.signal) == 8000               # the input is unchanged


def test_resample_360_to_125_uses_resample_poly():
    t = np.arange(3600) / 360
    signal = np.sin(2 * np.pi * 1.3 * t) + 0.2 * np.sin(2 * np.pi * 17 * t)
    peaks = np.array([0, 359, 1800, 3599])
    rec = Record("r", signal, 360.0, "MLII", r_peaks=peaks, symbols=np.array(list("NNVN")),
                 ann_samples=np.array([0, 359, 1800, 3000, 3599]), ann_symbols=np.array(list("NNV+N")))
    out = data.resample(rec, 125)
    assert out.fs == 125.0 and len(out.signal) == 1250
    np.testing.assert_allclose(out.signal, scipy.signal.resample_poly(signal, 25, 72), atol=1e-12)
    # annotations move to round(sample * 125 / 360); 3599 -> 1250 falls off the end
    assert out.r_peaks.tolist() == [0, 125, 625] and out.symbols.tolist() == ["N", "N", "V"]
    assert out.ann_samples.tolist() == [0, 125, 625, 1042]                # 3000 * 125 / 360 = 1041.7
    assert out.ann_symbols.tolist() == ["N", "N", "V", "+"]


def test_resample_to_the_same_rate_is_the_record():
    rec = Record("r", np.zeros(10), 125.0, "ii")
    assert data.resample(rec, 125) is rec


# --- beats: the paper's scheme -------------------------------------------------------------------

def reference_beats(pp, signal, r_peaks, fs=125):
    """Lesson 1's exercises at annotated peaks: per window normalize, nominal_period, extract_beats."""
    win = int(round(10 * fs))
    rows, kept = [np.zeros((0, BEAT_LENGTH))], [np.zeros(0, np.int64)]
    for w, window in enumerate(pp.to_windows(signal, fs)):
        inside = np.flatnonzero((r_peaks >= w * win) & (r_peaks < (w + 1) * win))
        if len(inside) < 2:
            continue
        peaks = r_peaks[inside] - w * win
        rows.append(pp.extract_beats(pp.normalize(window), peaks, pp.nominal_period(peaks)))
        kept.append(inside)
    return np.concatenate(rows), np.concatenate(kept)


@pytest.mark.parametrize("name", ["100", "119", "203", "208", "217", "232"])
def test_cut_beats_agrees_with_lesson_1_on_synthetic_records(pp, name):
    rec = data.resample(synthetic_mitbih_records(seconds=45, names=(name,))[0], 125)
    beats, kept = data.cut_beats(rec.signal, rec.r_peaks)
    expected, expected_kept = reference_beats(pp, rec.signal, rec.r_peaks)
    assert beats.dtype == np.float32 and beats.shape == (len(kept), BEAT_LENGTH)
    np.testing.assert_array_equal(kept, expected_kept)
    np.testing.assert_allclose(beats, expected, atol=1e-6)
    assert len(kept) > 30 and beats.min() >= 0 and beats.max() <= 1


@pytest.mark.parametrize("seed", range(5))
def test_cut_beats_agrees_with_lesson_1_on_random_peaks(pp, seed):
    # Random signals, 0 to 30 peaks per window: windows without a period, beats clipped at the
    # window's end, periods long enough that beats are cut to 187 samples.
    rng = np.random.default_rng(seed)
    signal = np.cumsum(rng.normal(size=125 * 47))
    peaks = np.unique(rng.choice(len(signal), size=rng.integers(5, 120), replace=False))
    beats, kept = data.cut_beats(signal, peaks)
    expected, expected_kept = reference_beats(pp, signal, peaks)
    np.testing.assert_array_equal(kept, expected_kept)
    np.testing.assert_allclose(beats, expected, atol=1e-6)


def test_cut_beats_small_example():
    signal = np.array([0, 4, 2, 0, 4, 1, 0, 0, 3, 9, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 7, 7, 7, 7, 7.0])
    # fs=1, windows of 10 samples: 2 windows, the last 5 samples dropped
    peaks = np.array([1, 4, 7, 12, 21, 22])
    beats, kept = data.cut_beats(signal, peaks, fs=1, window_seconds=10, length=5)
    # window 0: period median(3, 3) = 3, span round(3.6) = 4; window 1: one peak, no period;
    # peaks 21 and 22 are in the dropped remainder
    assert kept.tolist() == [0, 1, 2]
    np.testing.assert_allclose(beats, [[1, 0.5, 0, 1, 0],        # 4 2 0 4
                                       [1, 0.25, 0, 0, 0],       # 4 1 0 0
                                       [0, 1 / 3, 1, 0, 0]],     # 0 3 9, clipped at the window end
                               atol=1e-7)


def test_cut_beats_no_peaks_and_short_signal():
    beats, kept = data.cut_beats(np.zeros(5000), np.zeros(0, np.int64))
    assert beats.shape == (0, BEAT_LENGTH) and kept.shape == (0,)
    beats, kept = data.cut_beats(np.zeros(100), np.array([10, 50]))  # shorter than one window
    assert beats.shape == (0, BEAT_LENGTH)


def spike_train(n_seconds=30, period=100, fs=125, first=40):
    signal = 0.05 * np.sin(np.arange(n_seconds * fs) / 7.0)
    peaks = np.arange(first, n_seconds * fs, period)
    signal[peaks] += 1.0
    return signal, peaks


def test_detect_and_cut_finds_the_spikes(pp):
    signal, peaks = spike_train()
    np.testing.assert_array_equal(data.detect_r_peaks(signal[:1250]), peaks[peaks < 1250])
    beats = data.detect_and_cut(signal)
    expected, _ = data.cut_beats(signal, peaks)
    assert beats.shape == (len(peaks), BEAT_LENGTH)
    np.testing.assert_array_equal(beats, expected)
    np.testing.assert_allclose(beats, pp.beats_from_signal(signal, 125), atol=1e-6)  # exercise 1.7


def test_detect_and_cut_on_synthetic_ptb(pp):
    rec = data.resample(synthetic_ptb_records(n_healthy=1, n_mi=1, seconds=20)[1], 125)
    beats = data.detect_and_cut(rec.signal)
    assert 10 < len(beats) < 60
    np.testing.assert_allclose(beats, pp.beats_from_signal(rec.signal, 125), atol=1e-6)


def test_detect_r_peaks_threshold():
    x = np.array([0.0, 1.0, 0.0, 0.85, 0.0, 0.95, 0.95, 0.0, 0.3])
    assert data.detect_r_peaks(x).tolist() == [1, 5]          # plateau: its first sample
    assert data.detect_r_peaks(x, threshold=0.8).tolist() == [1, 3, 5]


# --- beats: the Kaggle MIT-BIH recipe ------------------------------------------------------------

def test_kaggle_beats_by_hand():
    signal = np.arange(100.0)
    s = np.array([10, 40, 49, 70, 90])        # annotation 2 is not a beat ("+")
    beats, kept = beats_mod.kaggle_beats(signal, s, np.array([0, 1, 3, 4]))
    assert kept.tolist() == [0, 1, 3]         # 4 is the record's last annotation: dropped
    assert beats.shape == (3, BEAT_LENGTH) and beats.dtype == np.float32
    # beat 0: 10 .. 40 + floor(0.2 * 9) = 41, every 3rd sample: 10, 13, ..., 40 -> 11 samples
    np.testing.assert_allclose(beats[0, :11], np.linspace(0, 1, 11), atol=1e-7)
    # beat 1: 40 .. 49 + floor(0.2 * 21) = 53: 40, 43, 46, 49, 52 -> ceil(13 / 3) = 5 samples
    np.testing.assert_allclose(beats[1, :5], [0, 0.25, 0.5, 0.75, 1], atol=1e-7)
    # beat 3: no annotation after the next one: 70 .. 90, 7 samples
    np.testing.assert_allclose(beats[2, :7], np.linspace(0, 1, 7), atol=1e-7)
    assert not beats[0, 11:].any() and not beats[1, 5:].any() and not beats[2, 7:].any()  # zero padding


def test_kaggle_beats_normalise_before_the_cut():
    # A beat longer than 187 samples after striding: its maximum lies beyond sample 187, so the
    # kept part does not reach 1 (normalised over the whole segment, then cut).
    signal = np.zeros(1000)
    signal[3 * 10] = -1.0      # minimum inside the first 187
    signal[3 * 200] = 2.0      # maximum at strided sample 200
    signal[3 * 50] = 0.5
    s = np.array([0, 620, 700])
    beats, kept = beats_mod.kaggle_beats(signal, s, np.array([0, 1, 2]))
    assert kept.tolist() == [0, 1]
    assert beats[0, 10] == 0 and beats[0, 50] == pytest.approx(0.5, abs=1e-7)
    assert beats[0].max() == pytest.approx(0.5, abs=1e-7)       # 1.0 would be at 200: cut off
    assert beats[0, 0] == pytest.approx(1 / 3, abs=1e-7)


def test_kaggle_beats_constant_and_clipped():
    beats, kept = beats_mod.kaggle_beats(np.ones(50), np.array([0, 30]), np.array([0, 1]))
    assert kept.tolist() == [0] and not beats.any()              # constant segment: zeros
    signal = np.arange(60.0)
    beats, _ = beats_mod.kaggle_beats(signal, np.array([30, 55, 200]), np.array([0, 1]))
    # 30 .. 55 + floor(0.2 * 145) = 84, clipped at 60: 30, 33, ..., 57 -> 10 samples
    np.testing.assert_allclose(beats[0, :10], np.linspace(0, 1, 10), atol=1e-7)
    assert not beats[0, 10:].any()


def test_kaggle_beats_no_beats():
    beats, kept = beats_mod.kaggle_beats(np.zeros(10), np.array([5]), np.array([0]))
    assert beats.shape == (0, BEAT_LENGTH) and kept.shape == (0,)


@pytest.mark.parametrize("seed", range(4))
def test_kaggle_beats_match_the_recipe_written_out(seed):
    rng = np.random.default_rng(seed)
    signal = np.cumsum(rng.normal(size=20_000))
    s = np.sort(rng.choice(np.arange(1, 20_000), size=rng.integers(3, 150), replace=False))
    beat_index = np.sort(rng.choice(len(s), size=max(1, len(s) * 3 // 4), replace=False))
    beats, kept = beats_mod.kaggle_beats(signal, s, beat_index)
    expected, expected_kept = kaggle_recipe(signal, s, beat_index)
    np.testing.assert_array_equal(kept, expected_kept)
    np.testing.assert_allclose(beats, expected, atol=1e-7)


def test_beats_of_annotated_schemes():
    rec = synthetic_mitbih_records(seconds=30, names=("208",))[0]
    X, y = beats_of_annotated(rec, "kaggle")
    expected, kept = kaggle_recipe(rec.signal, rec.ann_samples, np.arange(len(rec.ann_samples)))
    np.testing.assert_allclose(X, expected, atol=1e-7)
    np.testing.assert_array_equal(y, rec.beat_classes[kept])
    Xp, yp = beats_of_annotated(rec, "paper")
    r125 = data.resample(rec, 125)
    expected, kept = data.cut_beats(r125.signal, r125.r_peaks)
    np.testing.assert_array_equal(Xp, expected)
    np.testing.assert_array_equal(yp, r125.beat_classes[kept])
    with pytest.raises(ValueError, match="scheme"):
        beats_of_annotated(rec, "other")


# --- datasets: sources --------------------------------------------------------------------------

def test_empty_folder_gives_synthetic_data(tmp_path):
    assert data.mitbih_source(tmp_path) == "generator"
    assert data.ptb_source(tmp_path) == "generator"
    ds = data.load_mitbih(tmp_path, records=["100", "208"])
    assert ds.source == "synthetic" and ds.origin == "generator" and ds.n_records == 2
    assert sorted(set(ds.record.tolist())) == ["100", "208"]
    assert ds.X.shape == (len(ds.y), BEAT_LENGTH) and ds.X.dtype == np.float32
    text = data.describe(ds, tmp_path)
    assert "SYNTHETIC" in text and str(tmp_path) in text and "not from patients" in text
    assert data.load_record("100", tmp_path).source == "synthetic"


def test_wfdb_records_are_preferred(mitdb_dir, tmp_path):
    shutil.copytree(mitdb_dir / "mitdb", tmp_path / "mitdb")
    write_kaggle(tmp_path)
    write_kaggle(tmp_path / "kaggle")
    assert data.mitbih_source(tmp_path) == "wfdb"
    ds = data.load_mitbih(tmp_path)
    assert ds.source == "real" and ds.origin == "wfdb"
    assert data.describe(ds).startswith("mitbih:") and "SYNTHETIC" not in data.describe(ds)


@pytest.mark.parametrize("where", [".", "kaggle"])
def test_kaggle_csvs_come_next(tmp_path, where):
    (train_X, train_y), (test_X, test_y) = write_kaggle(tmp_path / where)
    assert data.mitbih_source(tmp_path) == "kaggle"
    ds = data.load_mitbih(tmp_path)
    assert (ds.source, ds.origin, ds.fs, ds.n_records) == ("real", "kaggle", 120.0, 0)
    assert same_bits(ds.X, np.concatenate([train_X, test_X]))
    np.testing.assert_array_equal(ds.y, np.r_[train_y, test_y])
    np.testing.assert_array_equal(ds.test_mask, np.r_[np.zeros(len(train_y), bool), np.ones(len(test_y), bool)])
    assert set(ds.record.tolist()) == {""}
    assert "Kaggle CSVs" in data.describe(ds) and "SYNTHETIC" not in data.describe(ds)


def test_incomplete_or_sample_csvs_are_not_a_source(tmp_path):
    write_kaggle(tmp_path, names=("mitbih_train.csv",))                    # test file missing
    write_kaggle(tmp_path / "kaggle_sample", names=("mitbih_train_sample.csv", "mitbih_test_sample.csv"))
    assert data.mitbih_source(tmp_path) == "generator"


def test_mitbih_from_fabricated_records(mitdb_dir):
    assert data.mitbih_record_names(mitdb_dir) == ["100", "119", "208"]   # from the headers present
    ds = data.load_mitbih(mitdb_dir)
    assert (ds.source, ds.origin, ds.n_records, ds.fs) == ("real", "wfdb", 3, 120.0)
    assert ds.meta["scheme"] == "kaggle"
    parts = []
    for name in ("100", "119", "208"):
        rec = data.read_mitbih_record(name, mitdb_dir, leads=())
        classes = data.symbols_to_classes(rec.ann_symbols)
        X, kept = kaggle_recipe(rec.signal, rec.ann_samples, np.flatnonzero(classes >= 0))
        parts.append((X, classes[kept], name))
        assert (ds.record == name).sum() == len(kept) == len(rec.r_peaks) - 1  # last beat dropped
    np.testing.assert_allclose(ds.X, np.concatenate([p[0] for p in parts]), atol=1e-7)
    np.testing.assert_array_equal(ds.y, np.concatenate([p[1] for p in parts]))
    only = data.load_mitbih(mitdb_dir, records=["119"])
    assert only.n_records == 1 and set(only.record.tolist()) == {"119"}
    paper = data.load_mitbih(mitdb_dir, scheme="paper")
    assert paper.fs == 125.0 and paper.meta["scheme"] == "paper" and paper.n_records == 3


def test_records_file_lists_the_records(mitdb_dir, tmp_path):
    shutil.copytree(mitdb_dir / "mitdb", tmp_path / "mitdb")
    (tmp_path / "mitdb" / "RECORDS").write_text("208\n100\n")
    assert data.mitbih_record_names(tmp_path) == ["208", "100"]
    assert data.load_mitbih(tmp_path).n_records == 2


def test_kaggle_scheme_reads_the_first_signal_paper_scheme_mlii(tmp_path):
    # Record 114 has V5 first and MLII second; the Kaggle CSV used the first signal.
    (rec,) = write_mitdb(tmp_path, names=("114",), first_lead="V5")
    kaggle = data.load_mitbih(tmp_path)
    first = data.read_mitbih_record("114", tmp_path, leads=())
    assert first.lead == "V5"
    np.testing.assert_array_equal(kaggle.X, beats_of_annotated(first, "kaggle")[0])
    paper = data.load_mitbih(tmp_path, scheme="paper")
    mlii = data.read_mitbih_record("114", tmp_path)
    assert mlii.lead == "MLII"
    np.testing.assert_array_equal(paper.X, beats_of_annotated(mlii, "paper")[0])
    assert not np.array_equal(beats_of_annotated(first, "paper")[0], paper.X)


def test_load_record_reads_the_real_record(mitdb_dir):
    rec = data.load_record("119", mitdb_dir)
    assert rec.source == "real" and rec.fs == 125.0 and rec.lead == "MLII"
    assert len(rec.signal) == 20 * 125


def test_empty_record_list():
    ds = data.mitbih_from_records([])
    assert ds.X.shape == (0, BEAT_LENGTH) and len(ds) == 0 and ds.per_class() == [0] * 5


# --- datasets: BeatDataset, PTB, the data directory ---------------------------------------------

def make_dataset(n=20):
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(10, int), np.ones(5, int), np.full(5, 4)][:n]
    return BeatDataset(X=rng.random((n, BEAT_LENGTH)).astype(np.float32), y=y,
                       record=np.array(["100"] * 8 + ["101"] * 12), classes=data.CLASSES,
                       name="mitbih", source="real", origin="wfdb",
                       test_mask=np.arange(n) % 4 == 0, n_records=2, fs=120.0, meta={"a": 1})


def test_beat_dataset_per_class_and_subset():
    ds = make_dataset()
    assert len(ds) == 20 and ds.per_class() == [10, 5, 0, 0, 5]
    assert ds.per_class(np.arange(12)) == [10, 2, 0, 0, 0]
    part = ds.subset(np.arange(8, 15))
    assert len(part) == 7 and part.per_class() == [2, 5, 0, 0, 0] and part.n_records == 1
    assert same_bits(part.X, ds.X[8:15]) and part.test_mask.tolist() == (np.arange(8, 15) % 4 == 0).tolist()
    assert (part.name, part.source, part.origin, part.fs, part.meta) == ("mitbih", "real", "wfdb", 120.0, {"a": 1})
    mask = ds.subset(ds.y == 4)
    assert mask.per_class() == [0, 0, 0, 0, 5]
    part.meta["a"] = 2
    assert ds.meta["a"] == 1                                      # the subset's meta is a copy
    kaggle = BeatDataset(ds.X, ds.y, np.full(20, ""), data.CLASSES, "mitbih", "real", "kaggle")
    assert kaggle.subset(np.arange(5)).n_records == 0             # no record ids, no records


@pytest.mark.parametrize("comments, label", [
    (["age: 81", "sex: female", "Reason for admission: Myocardial infarction"], 1),
    (["Reason for admission: Healthy control"], 0),
    (["reason for admission:   healthy control  "], 0),
    (["REASON FOR ADMISSION: MYOCARDIAL INFARCTION"], 1),
    (["Reason for admission: Cardiomyopathy"], None),
    (["Reason for admission: Bundle branch block"], None),
    (["Diagnose: Myocardial infarction"], None),
    ([], None),
])
def test_ptb_label(comments, label):
    assert ptb_label(comments) == label


def test_ptb_from_fabricated_records(ptbdb_dir):
    assert data.ptb_source(ptbdb_dir) == "wfdb"
    assert data.ptb_record_names(ptbdb_dir) == ["patient001/s0001_syn", "patient002/s0002_syn",
                                                "patient003/s0003_syn"]
    ptb = data.load_ptb(ptbdb_dir)
    assert (ptb.name, ptb.source, ptb.origin, ptb.n_records, ptb.classes) == ("ptb", "real", "wfdb", 2, ("normal", "MI"))
    assert ptb.meta["excluded_records"] == ["patient003/s0003_syn"]     # other diagnosis
    assert set(ptb.record.tolist()) == {"patient001", "patient002"}      # patient ids
    for patient in ("patient001", "patient002"):
        stem = next((ptbdb_dir / "ptbdb" / patient).glob("*.hea")).with_suffix("")
        rec = data.read_ptb_record(f"{patient}/{stem.name}", ptbdb_dir)
        assert rec.lead == "ii" and rec.patient == patient and rec.label in (0, 1)
        expected = data.detect_and_cut(data.resample(rec, 125).signal)
        np.testing.assert_array_equal(ptb.X[ptb.record == patient], expected)
        assert set(ptb.y[ptb.record == patient].tolist()) == {rec.label}
    assert ptb.per_class()[0] > 0 and ptb.per_class()[1] > 0


def test_ptb_source_none_when_only_mitbih_is_real(mitdb_dir):
    assert data.mitbih_source(mitdb_dir) == "wfdb"
    assert data.ptb_source(mitdb_dir) is None
    assert data.load_ptb(mitdb_dir) is None
    assert "no PTB data" in data.describe(None)


def test_ptb_kaggle_csvs(mitdb_dir, tmp_path):
    shutil.copytree(mitdb_dir / "mitdb", tmp_path / "mitdb")
    rng = np.random.default_rng(5)
    normal_X, abnormal_X = rng.random((4, BEAT_LENGTH)), rng.random((7, BEAT_LENGTH))
    data.write_csv(tmp_path / "kaggle" / "ptbdb_normal.csv", normal_X, np.zeros(4))
    data.write_csv(tmp_path / "kaggle" / "ptbdb_abnormal.csv", abnormal_X, np.ones(7))
    assert data.ptb_source(tmp_path) == "kaggle"
    ptb = data.load_ptb(tmp_path)
    assert (ptb.origin, ptb.source, ptb.fs, ptb.test_mask) == ("kaggle", "real", 125.0, None)
    assert ptb.per_class() == [len(normal_X), len(abnormal_X)]
    assert same_bits(ptb.X, np.concatenate([normal_X, abnormal_X]))


def test_data_directory_setting(tmp_path, monkeypatch):
    write_kaggle(tmp_path / "env")
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"       # the argument first
    assert resolve_data_dir() == tmp_path / "env"                       # then ECGLAB_DATA
    assert data.mitbih_source() == "kaggle"                             # ... which the loaders use
    assert data.mitbih_source(tmp_path / "arg") == "generator"
    monkeypatch.delenv(ENV_DATA)
    assert resolve_data_dir() == REPO / "data"                          # then the repository's data/
    monkeypatch.setenv(ENV_DATA, "~/somewhere")
    assert resolve_data_dir() == Path.home() / "somewhere"


# --- splits -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.33])
def test_stratified_split(seed, fraction):
    rng = np.random.default_rng(seed)
    y = rng.choice(5, size=rng.integers(50, 400), p=[0.7, 0.1, 0.1, 0.05, 0.05])
    y[:5] = np.arange(5)
    train, test = data.stratified_split(y, test_fraction=fraction, seed=seed)
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert np.intersect1d(train, test).size == 0                         # disjoint
    np.testing.assert_array_equal(np.sort(np.r_[train, test]), np.arange(len(y)))  # complete
    assert (np.diff(train) > 0).all() and (np.diff(test) > 0).all()     # sorted
    for cls in range(5):
        n = (y == cls).sum()
        assert abs((y[test] == cls).sum() - fraction * n) <= 1          # within one beat
    again = data.stratified_split(y, test_fraction=fraction, seed=seed)
    np.testing.assert_array_equal(again[1], test)                        # deterministic per seed
    other = data.stratified_split(y, test_fraction=fraction, seed=seed + 100)
    assert not np.array_equal(other[1], test)


def test_stratified_split_edge_cases():
    train, test = data.stratified_split(np.zeros(0, int))
    assert train.size == 0 and test.size == 0
    train, test = data.stratified_split(np.array([3]))
    assert train.tolist() == [0] and test.tolist() == []
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="test_fraction"):
            data.stratified_split(np.arange(10) % 2, test_fraction=bad)


def test_split_lists():
    assert len(data.DS1) == 22 == len(data.DS2)
    assert not set(data.DS1) & set(data.DS2)
    assert not set(data.PACED) & (set(data.DS1) | set(data.DS2))
    assert set(data.PACED) == {"102", "104", "107", "217"}


def _check_interpatient(records):
    ds1, ds2 = data.interpatient_split(records)
    a, b = set(records[ds1].tolist()), set(records[ds2].tolist())
    assert a <= set(data.DS1) and b <= set(data.DS2) and not a & b
    assert not (a | b) & set(data.PACED)
    assert np.intersect1d(ds1, ds2).size == 0
    left_out = np.setdiff1d(np.arange(len(records)), np.r_[ds1, ds2])
    assert set(records[left_out].tolist()) <= set(data.PACED) | (set(records.tolist()) - set(data.DS1) - set(data.DS2))
    return a, b


def test_interpatient_split_synthetic():
    names = ("100", "101", "102", "106", "107", "118", "217", "232")
    ds = data.mitbih_from_records(synthetic_mitbih_records(seconds=15, names=names))
    a, b = _check_interpatient(ds.record)
    assert a == {"101", "106", "118"} and b == {"100", "232"}
    ds1, ds2 = data.interpatient_split(list(ds.record))                    # a list works too
    assert len(ds1) == sum((ds.record == r).sum() for r in a)


def test_interpatient_split_by_hand():
    records = np.array(["101", "100", "102", "999", "101", "232"])
    ds1, ds2 = data.interpatient_split(records)
    assert ds1.tolist() == [0, 4] and ds2.tolist() == [1, 5]


# --- real data (skipped without it) -------------------------------------------------------------

@pytest.fixture(scope="module")
def real_mitbih(real_data):
    return data.load_mitbih(real_data)


@pytest.fixture(scope="module")
def real_ptb(real_data):
    return data.load_ptb(real_data)


def _index_rows(X: np.ndarray) -> dict:
    index = {}
    for i, row in enumerate(X):
        index.setdefault(row.tobytes(), []).append(i)
    return index


@pytest.mark.realdata
def test_real_mitbih_counts_equal_kaggle(real_mitbih):
    ds = real_mitbih
    assert len(ds) == KAGGLE_TOTAL
    assert ds.per_class() == KAGGLE_PER_CLASS
    assert (ds.source, ds.origin, ds.n_records, ds.fs) == ("real", "wfdb", 48, 120.0)
    assert len(set(ds.record.tolist())) == 48
    assert ds.X.dtype == np.float32 and ds.X.min() >= 0 and ds.X.max() <= 1


@pytest.mark.realdata
def test_real_mitbih_drops_one_beat_per_record(real_data, real_mitbih):
    import wfdb

    total = 0
    for name in data.mitbih_record_names(real_data):
        ann = wfdb.rdann(str(real_data / "mitdb" / name), "atr")
        beats = int((data.symbols_to_classes(ann.symbol) >= 0).sum())
        assert (real_mitbih.record == name).sum() == beats - 1, name
        total += beats
    assert total == ANNOTATED_BEATS == KAGGLE_TOTAL + 48


@pytest.mark.realdata
def test_real_kaggle_sample_rows_are_reproduced_bit_for_bit(real_data, real_mitbih):
    sample = real_data / "kaggle_sample" / "mitbih_train_sample.csv"
    if not sample.is_file():
        pytest.skip(f"{sample} is not there")
    X, y = data.read_csv(sample)
    assert len(y) == 500 and np.bincount(y).tolist() == [100] * 5
    index = _index_rows(real_mitbih.X)
    missing = [i for i, row in enumerate(X) if row.tobytes() not in index]
    assert not missing, f"{len(missing)} of 500 Kaggle rows not reproduced, e.g. row {missing[0]}"
    wrong = [i for i, row in enumerate(X) if y[i] not in set(real_mitbih.y[index[row.tobytes()]])]
    assert not wrong, f"rows with another label: {wrong[:10]}"


@pytest.mark.realdata
def test_real_ptb_row_is_reproduced(real_data, real_ptb):
    ptb = real_ptb
    assert (ptb.source, ptb.origin) == ("real", "wfdb")
    assert 540 <= len(ptb) <= 575                   # 557 beats from the 4 MI records
    assert ptb.per_class() == [0, len(ptb)] and ptb.n_records == 4
    assert set(ptb.record.tolist()) == {"patient001", "patient002", "patient003", "patient012"}
    sample = real_data / "kaggle_sample" / "ptbdb_abnormal_sample.csv"
    if not sample.is_file():
        pytest.skip(f"{sample} is not there")
    X, y = data.read_csv(sample, n_classes=2)
    assert (y == 1).all()
    index = _index_rows(ptb.X)
    assert X[2].tobytes() in index                  # row 2 (0-based) is one of our beats, bit for bit


@pytest.mark.realdata
def test_real_paper_scheme(real_data):
    ds = data.load_mitbih(real_data, scheme="paper")
    assert abs(len(ds) - 109_148) <= 100
    assert ds.fs == 125.0 and len(set(ds.record.tolist())) == 48
    assert all(abs(a - b) <= 0.01 * b + 5 for a, b in zip(ds.per_class(), KAGGLE_PER_CLASS))


@pytest.mark.realdata
def test_real_leads(real_data):
    assert data.read_mitbih_record("100", real_data).lead == "MLII"
    for name in ("102", "104"):                     # no MLII: the first signal, and it says so
        rec = data.read_mitbih_record(name, real_data)
        assert rec.lead != "MLII" and "lead_fallback" in rec.meta
    assert data.read_mitbih_record("114", real_data).lead == "MLII"
    assert data.read_mitbih_record("114", real_data, leads=()).lead == "V5"
    assert data.read_ptb_record("patient001/s0010_re", real_data).lead == "ii"
    assert data.read_ptb_record("patient001/s0010_re", real_data).label == 1


@pytest.mark.realdata
def test_real_interpatient_split(real_mitbih):
    a, b = _check_interpatient(real_mitbih.record)
    assert a == set(data.DS1) and b == set(data.DS2)
    ds1, ds2 = data.interpatient_split(real_mitbih.record)
    paced = np.isin(real_mitbih.record, data.PACED).sum()
    assert len(ds1) + len(ds2) + paced == KAGGLE_TOTAL
    assert len(ds1) > 45_000 and len(ds2) > 45_000


@pytest.mark.realdata
def test_real_stratified_split(real_mitbih):
    train, test = data.stratified_split(real_mitbih.y, seed=0)
    assert len(train) + len(test) == KAGGLE_TOTAL
    for cls, n in enumerate(KAGGLE_PER_CLASS):
        assert abs((real_mitbih.y[test] == cls).sum() - 0.2 * n) <= 1
