"""Tests of the SYNTHETIC ECG generator, ecglab.data.synthetic (no real data needed).

Run with the reference package on the path::

    PYTHONPATH=solutions .venv/bin/python -m pytest tests/test_synthetic.py -q
"""

from __future__ import annotations

import numpy as np
import pytest

from ecglab import data, preprocess
from ecglab.data import synthetic
from ecglab.data.aami import CLASSES, symbols_to_classes
from ecglab.data.datasets import ptb_label
from ecglab.data.synthetic import MITBIH_NAMES, synthetic_mitbih_records, synthetic_ptb_records
from ecglab.data.splits import DS1, DS2, PACED

SHORT = ("100", "106", "109", "118", "208", "217", "232")  # a mix of rhythms, for quick tests


@pytest.fixture(scope="module")
def mitbih():
    """The default SYNTHETIC MIT-BIH set: 48 records of 120 s."""
    return synthetic_mitbih_records()


@pytest.fixture(scope="module")
def mitbih_beats(mitbih):
    return data.mitbih_from_records(mitbih)


@pytest.fixture(scope="module")
def ptb():
    return synthetic_ptb_records()


def assert_same(a, b):
    assert a.name == b.name
    np.testing.assert_array_equal(a.signal, b.signal)
    np.testing.assert_array_equal(a.r_peaks, b.r_peaks)
    np.testing.assert_array_equal(a.symbols, b.symbols)


# --- MIT-BIH-like records -----------------------------------------------------------------------

def test_names_are_the_48_mitbih_records(mitbih):
    assert len(MITBIH_NAMES) == 48 == len(set(MITBIH_NAMES))
    assert [r.name for r in mitbih] == list(MITBIH_NAMES)
    assert set(DS1) | set(DS2) | set(PACED) <= set(MITBIH_NAMES)
    assert set(synthetic.MITBIH_PROFILES) == set(MITBIH_NAMES)


def test_same_seed_same_records():
    for a, b in zip(synthetic_mitbih_records(seed=3, seconds=20, names=SHORT),
                    synthetic_mitbih_records(seed=3, seconds=20, names=SHORT)):
        assert_same(a, b)


def test_other_seed_other_records():
    a = synthetic_mitbih_records(seed=0, seconds=20, names=("100",))[0]
    b = synthetic_mitbih_records(seed=1, seconds=20, names=("100",))[0]
    assert not np.array_equal(a.signal, b.signal)


def test_a_record_does_not_depend_on_the_others():
    alone = synthetic_mitbih_records(seed=5, seconds=20, names=("208",))[0]
    among = synthetic_mitbih_records(seed=5, seconds=20, names=("100", "208", "217"))[1]
    assert_same(alone, among)


def test_records_differ(mitbih):
    # Every record is its own synthetic patient: no two share a signal or a heart rate.
    rates = [r.meta["heart_rate_bpm"] for r in mitbih]
    assert len(set(rates)) > 40
    first = np.stack([r.signal[:3600] for r in mitbih])
    assert len(np.unique(first.round(6), axis=0)) == len(mitbih)


def test_record_fields(mitbih):
    for r in mitbih:
        assert r.fs == 360.0 and r.lead == "MLII"
        assert r.source == "synthetic" and r.patient == r.name
        assert r.meta["synthetic"] is True
        assert any("SYNTHETIC" in line for line in r.meta["comments"])
        assert r.signal.dtype == np.float64 and r.signal.shape == (120 * 360,)
        assert np.isfinite(r.signal).all()
        assert r.label is None


def test_r_peaks_sorted_inside_and_annotated(mitbih):
    for r in mitbih:
        assert r.r_peaks.dtype == np.int64
        assert r.r_peaks.shape == r.symbols.shape
        assert (np.diff(r.r_peaks) > 0).all()
        assert r.r_peaks[0] >= 0 and r.r_peaks[-1] < len(r.signal)
        assert (symbols_to_classes(r.symbols) >= 0).all(), "every annotation is a beat"


def test_seconds_sets_the_length():
    r = synthetic_mitbih_records(seconds=15.5, names=("100",))[0]
    assert len(r.signal) == round(15.5 * 360)
    assert r.r_peaks[-1] < len(r.signal)


def test_heart_rate_is_plausible(mitbih):
    for r in mitbih:
        rr = np.diff(r.r_peaks) / r.fs
        assert 40 <= 60 / np.median(rr) <= 150, r.name
        assert rr.min() > 0.25, r.name  # nothing faster than 240 bpm
        assert 50 <= r.meta["heart_rate_bpm"] <= 110, r.name
        assert 80 <= len(r.r_peaks) <= 300, r.name  # 120 s


def test_amplitude_is_plausible(mitbih):
    for r in mitbih:
        qrs = np.abs(r.signal[r.r_peaks] - np.median(r.signal))
        assert 0.3 <= np.median(qrs) <= 4.0, r.name  # mV
        assert np.ptp(r.signal) < 10.0, r.name


def _around(signal, peaks, half):
    """Samples ``peaks[i] - half .. peaks[i] + half`` of ``signal``: shape (n_peaks, 2 * half + 1)."""
    return signal[np.clip(peaks[:, None] + np.arange(-half, half + 1), 0, len(signal) - 1)]


def test_r_peak_sits_on_the_qrs_peak(mitbih):
    # Normal beats: the annotation is the highest sample within +-60 ms (give or take 8 ms).
    # V beats (either polarity): it is the largest deviation from the local baseline (+-14 ms).
    # Paced records are left out: there the pacing spike is larger than the QRS.
    v_hits = []
    for r in mitbih:
        if r.name in PACED:
            continue
        near, wide = int(0.06 * r.fs), int(0.3 * r.fs)
        normal = r.r_peaks[r.symbols == "N"]
        if len(normal):
            offset = _around(r.signal, normal, near).argmax(axis=1) - near
            assert np.mean(np.abs(offset) <= 3) >= 0.95, r.name
        ventricular = r.r_peaks[r.symbols == "V"]
        if len(ventricular):
            baseline = np.median(_around(r.signal, ventricular, wide), axis=1, keepdims=True)
            deviation = np.abs(_around(r.signal, ventricular, near) - baseline)
            v_hits.append(np.abs(deviation.argmax(axis=1) - near) <= 5)
    assert np.mean(np.concatenate(v_hits)) >= 0.95


#: The normal-rhythm records: sinus rhythm at the usual noise level, at least 85 % ``N`` beats and
#: otherwise only ``A`` beats (premature, but conducted normally: the same narrow QRS).
NORMAL_RHYTHM = tuple(name for name, p in synthetic.MITBIH_PROFILES.items()
                      if p.rhythm == "sinus" and p.noise == 1.0 and set(p.mix) <= {"N", "A"}
                      and p.mix["N"] >= 85)


def _found_by_lesson_1(record, tolerance=0.05):
    """Share of the annotated beats that lesson 1's detector finds: 10-s windows at 125 Hz, each
    min-max normalised, local maxima >= 0.9. A beat counts as found when a detected peak lies
    within ``tolerance`` s of its annotation."""
    rec = data.resample(record, 125)
    n = 10 * 125
    found = total = 0
    for w, window in enumerate(preprocess.to_windows(rec.signal, 125)):
        peaks = preprocess.find_r_peaks(window)
        annotated = rec.r_peaks[(rec.r_peaks >= w * n) & (rec.r_peaks < (w + 1) * n)] - w * n
        if len(peaks) and len(annotated):
            found += int((np.abs(annotated[:, None] - peaks).min(axis=1) <= tolerance * 125).sum())
        total += len(annotated)
    return found / total


def test_lesson_1_detector_finds_the_beats_of_normal_records(mitbih):
    """Lesson 1's 0.9 threshold detector finds >= 90 % of the annotated beats of the normal-rhythm
    records, and the median R-R interval of record 100's first window is a sinus heart rate.

    The records (:data:`NORMAL_RHYTHM`: 100 101 103 112 115 117 121 122 230) are those that are
    mostly class N, as on real MIT-BIH, the rest atrial premature beats with the same narrow QRS:
    their R wave is the tallest wave of every beat, so only baseline wander, breathing and
    beat-to-beat variation can push a beat below 90 % of a window's range. (Records with tall V or fusion beats, bundle-branch block, atrial
    fibrillation, pacing or extra noise may score lower, as real records do.) Record 100 window 0
    is the one lesson 1 shows; it must not teach a period of 38 bpm.
    """
    assert set(NORMAL_RHYTHM) == {"100", "101", "103", "112", "115", "117", "121", "122", "230"}
    by_name = {r.name: r for r in mitbih}
    shares = {name: _found_by_lesson_1(by_name[name]) for name in NORMAL_RHYTHM}
    assert min(shares.values()) >= 0.9, {k: round(v, 2) for k, v in shares.items()}

    window = preprocess.to_windows(data.resample(by_name["100"], 125).signal, 125)[0]
    bpm = 60 * 125 / preprocess.nominal_period(preprocess.find_r_peaks(window))
    assert 50 <= bpm <= 110, bpm


def test_paced_records_are_mostly_class_q(mitbih):
    for r in mitbih:
        share_q = np.mean(r.beat_classes == CLASSES.index("Q"))
        if r.name in PACED:
            assert share_q >= 0.5, r.name
            symbols, counts = np.unique(r.symbols, return_counts=True)
            assert symbols[counts.argmax()] == "/", r.name
        else:
            assert share_q <= 0.2, r.name  # a few beats lost in artefact ("Q")
            assert "/" not in set(r.symbols), r.name


def test_class_mix_varies_by_record(mitbih):
    v = CLASSES.index("V")
    only_normal = [r.name for r in mitbih if (r.beat_classes == 0).all()]
    many_v = [r.name for r in mitbih if np.mean(r.beat_classes == v) > 0.2]
    assert only_normal and many_v
    assert {"L", "R"} <= set(np.concatenate([r.symbols for r in mitbih]).tolist())


def test_every_class_in_the_beat_dataset(mitbih_beats):
    ds = mitbih_beats
    assert ds.source == "synthetic" and ds.origin == "generator" and ds.n_records == 48
    assert ds.X.shape == (len(ds), 187) and ds.X.dtype == np.float32
    counts = np.array(ds.per_class())
    share = counts / counts.sum()
    assert 5000 <= counts.sum() <= 10000
    assert share.argmax() == CLASSES.index("N") and 0.6 <= share[0] <= 0.8
    assert (share[1:] >= 0.02).all(), dict(zip(CLASSES, counts))
    assert "SYNTHETIC" in data.describe(ds)


def test_class_means_differ(mitbih_beats):
    ds = mitbih_beats
    means = np.stack([ds.X[ds.y == k].mean(axis=0) for k in range(len(CLASSES))])
    rms = np.sqrt(((means[:, None] - means[None]) ** 2).mean(axis=2))
    off_diagonal = rms[~np.eye(len(CLASSES), dtype=bool)]
    assert off_diagonal.min() > 0.02


def test_interpatient_split_works(mitbih_beats):
    train, test = data.interpatient_split(mitbih_beats.record)
    assert len(train) > 1000 and len(test) > 1000
    for side in (train, test):
        present = set(np.unique(mitbih_beats.y[side]).tolist())
        assert {0, 1, 2, 3} <= present


# --- PTB-like records ---------------------------------------------------------------------------

def test_ptb_fields_and_labels(ptb):
    assert len(ptb) == 40
    labels = np.array([r.label for r in ptb])
    assert labels.sum() == 20 and set(labels.tolist()) == {0, 1}
    for r in ptb:
        assert r.fs == 1000.0 and r.lead == "ii"
        assert r.source == "synthetic" and r.meta["synthetic"] is True
        assert r.r_peaks is None and r.symbols is None
        assert r.signal.dtype == np.float64 and r.signal.shape == (30_000,)
        assert ptb_label(r.meta["comments"]) == r.label
        assert r.patient == r.name.split("/")[0] and r.name.endswith("_syn")
        assert (r.label == 1) == bool(r.meta["mi_signs"])
    assert len({r.patient for r in ptb}) == len(ptb)


def test_ptb_sizes_and_determinism():
    a = synthetic_ptb_records(seed=2, n_healthy=3, n_mi=5, seconds=10)
    b = synthetic_ptb_records(seed=2, n_healthy=3, n_mi=5, seconds=10)
    assert [r.label for r in a].count(1) == 5 and len(a) == 8
    for x, y in zip(a, b):
        assert x.name == y.name and x.label == y.label
        np.testing.assert_array_equal(x.signal, y.signal)
    c = synthetic_ptb_records(seed=3, n_healthy=3, n_mi=5, seconds=10)
    assert not np.array_equal(a[0].signal, c[0].signal)


def test_ptb_detector_finds_beats_of_both_labels(ptb):
    ds = data.ptb_from_records(ptb)
    assert ds.source == "synthetic" and ds.meta["excluded_records"] == []
    counts = ds.per_class()
    assert min(counts) >= 400, counts
    per_record = np.unique(ds.record, return_counts=True)[1]
    assert len(per_record) == len(ptb) and per_record.min() >= 10


# --- it says it is synthetic --------------------------------------------------------------------

@pytest.mark.parametrize("thing", [synthetic, synthetic_mitbih_records, synthetic_ptb_records])
def test_docstrings_say_synthetic(thing):
    assert "SYNTHETIC" in thing.__doc__
