"""The MI task of lesson 4 (``ecglab.data.mi``): which data it takes, what it says, how it splits.

The machinery tests build data folders in tmp dirs (Kaggle-format CSVs, small WFDB records made
from the synthetic generator); one test reads the real data and skips, saying why, without it.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecglab import data
from ecglab.data.kaggle import PTB_FILES, find_csvs
from ecglab.data.mi import BY_BEAT, BY_PATIENT, load_mi_task, mi_split
from ecglab.errors import DataError


def _beats(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 187)).astype(np.float32)


def _write_pair(folder, normal: int, abnormal: int, names=("ptbdb_normal.csv", "ptbdb_abnormal.csv")):
    data.write_csv(folder / names[0], _beats(normal, 0), np.zeros(normal, int))
    data.write_csv(folder / names[1], _beats(abnormal, 1), np.ones(abnormal, int))


def _write_sample(folder, normal: int = 10, abnormal: int = 12):
    _write_pair(folder / "kaggle_sample", normal, abnormal,
                ("ptbdb_normal_sample.csv", "ptbdb_abnormal_sample.csv"))


def _write_ptb_records(folder, labels: list[int], seconds: float = 12.0):
    """PhysioNet-style PTB records (``ptbdb/patientNNN/sNNNN_syn``), one lead ii, made from the
    synthetic generator's signals and labelled in their header comments."""
    import wfdb

    from ecglab.data.synthetic import synthetic_ptb_records

    pool = synthetic_ptb_records(seed=3, n_healthy=len(labels), n_mi=len(labels), seconds=seconds)
    names = []
    for i, label in enumerate(labels, start=1):
        record = next(r for r in pool if r.label == label and r.name not in {n for n, _ in names})
        names.append((record.name, record))
        patient = f"patient{i:03d}"
        out = folder / "ptbdb" / patient
        out.mkdir(parents=True, exist_ok=True)
        reason = "Myocardial infarction" if label else "Healthy control"
        wfdb.wrsamp(f"s{i:04d}_syn", fs=1000, units=["mV"], sig_name=["ii"],
                    p_signal=record.signal[:, None], fmt=["16"], write_dir=str(out),
                    comments=[f"Reason for admission: {reason}"])
    (folder / "ptbdb" / "RECORDS").write_text(
        "".join(f"patient{i:03d}/s{i:04d}_syn\n" for i in range(1, len(labels) + 1)))


# --- which data ---------------------------------------------------------------------------------

def test_nothing_real_gives_loud_synthetic_data(empty_data_dir):
    ds, text = load_mi_task()
    assert ds.source == "synthetic" and ds.meta["mi_source"] == "synthetic"
    assert ds.classes == ("normal", "MI") and min(ds.per_class()) > 100
    assert text.startswith("*** SYNTHETIC DATA ***") and "by patient" in text
    assert "python -m ecglab data fetch kaggle" in text
    assert (ds.record != "").all()


def test_sample_rows_are_the_honest_low_data_task(tmp_path):
    _write_sample(tmp_path, 10, 12)
    ds, text = load_mi_task(tmp_path)
    assert (ds.source, ds.origin, ds.meta["mi_source"]) == ("real", "kaggle", "kaggle_sample")
    assert ds.per_class() == [10, 12] and ds.X.shape == (22, 187) and ds.X.dtype == np.float32
    assert (ds.record == "").all()
    assert "22 real beats (normal 10, MI 12)" in text
    assert "no patient id" in text and "python -m ecglab data fetch kaggle" in text
    assert "SYNTHETIC" not in text


def test_full_csvs_win_over_the_sample(tmp_path):
    _write_sample(tmp_path)
    (tmp_path / "kaggle").mkdir()
    _write_pair(tmp_path / "kaggle", 30, 50)
    ds, text = load_mi_task(tmp_path)
    assert ds.meta["mi_source"] == "kaggle" and ds.per_class() == [30, 50]
    assert "full Kaggle PTB CSVs" in text and "80 beats (normal 30, MI 50)" in text
    assert ds.meta["files"][0].endswith("ptbdb_normal.csv")


def test_csvs_built_from_synthetic_records_say_so(tmp_path):
    _write_pair(tmp_path, 5, 5)
    (tmp_path / "SYNTHETIC_DATA.txt").write_text("synthetic\n")
    ds, text = load_mi_task(tmp_path)
    assert ds.source == "synthetic" and text.startswith("*** SYNTHETIC DATA ***")


def test_one_sample_file_alone_is_not_enough(tmp_path):
    (tmp_path / "kaggle_sample").mkdir()
    data.write_csv(tmp_path / "kaggle_sample" / "ptbdb_normal_sample.csv", _beats(4, 0),
                   np.zeros(4, int))
    ds, text = load_mi_task(tmp_path)
    assert ds.source == "synthetic"
    assert "only ptbdb_normal_sample.csv is there" in text


def test_records_of_one_class_are_skipped_and_named(tmp_path):
    _write_ptb_records(tmp_path, [1, 1])
    _write_sample(tmp_path)
    ds, text = load_mi_task(tmp_path)
    assert ds.meta["mi_source"] == "kaggle_sample"
    assert "2 PTB records" in text and "MI records only, no healthy control" in text


def test_records_of_both_classes_give_a_patient_split(tmp_path):
    _write_ptb_records(tmp_path, [0, 1, 0, 1, 0, 1])
    _write_sample(tmp_path)                        # records with both classes come first
    ds, text = load_mi_task(tmp_path)
    assert (ds.source, ds.origin, ds.meta["mi_source"]) == ("real", "wfdb", "physionet")
    assert ds.n_records == 6 and set(ds.record.tolist()) == {f"patient{i:03d}" for i in range(1, 7)}
    assert "3 healthy-control and 3 MI patients" in text and "split by patient" in text
    train, test, how = mi_split(ds, test_fraction=0.34, seed=1)
    assert how == BY_PATIENT
    assert not set(ds.record[train].tolist()) & set(ds.record[test].tolist())
    assert all(n > 0 for n in ds.per_class(train) + ds.per_class(test))


def test_records_with_one_healthy_patient_are_split_by_beat_and_say_so(tmp_path):
    _write_ptb_records(tmp_path, [0, 1, 1])
    ds, text = load_mi_task(tmp_path)
    assert ds.meta["mi_source"] == "physionet"
    assert "1 healthy-control and 2 MI patients" in text and "the split is by beat" in text
    train, test, how = mi_split(ds)
    assert how.startswith("by beat: class normal has a single patient")
    assert all(n > 0 for n in ds.per_class(train) + ds.per_class(test))


# --- bad files ----------------------------------------------------------------------------------

def test_a_bad_sample_csv_is_one_line_naming_the_file(tmp_path):
    _write_sample(tmp_path)
    bad = tmp_path / "kaggle_sample" / "ptbdb_abnormal_sample.csv"
    lines = bad.read_text().splitlines()
    lines[3] = ",".join(lines[3].split(",")[:50])
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_mi_task(tmp_path)
    message = str(info.value)
    assert "ptbdb_abnormal_sample.csv" in message and "row 4" in message and "\n" not in message


def test_a_normal_file_with_mi_rows_is_refused(tmp_path):
    data.write_csv(tmp_path / "ptbdb_normal.csv", _beats(6, 0), np.array([0, 0, 0, 1, 0, 0]))
    data.write_csv(tmp_path / "ptbdb_abnormal.csv", _beats(6, 1), np.ones(6, int))
    with pytest.raises(DataError, match=r"ptbdb_normal\.csv: row 4 has label 1, expected 0"):
        load_mi_task(tmp_path)


def test_a_label_out_of_range_is_refused(tmp_path):
    _write_sample(tmp_path)
    data.write_csv(tmp_path / "kaggle_sample" / "ptbdb_normal_sample.csv", _beats(3, 0),
                   np.array([0, 2, 0]))
    with pytest.raises(DataError, match="ptbdb_normal_sample.csv: row 2 has label 2"):
        load_mi_task(tmp_path)


# --- splits -------------------------------------------------------------------------------------

def _dataset(y, record) -> data.BeatDataset:
    y = np.asarray(y, dtype=np.int64)
    return data.BeatDataset(_beats(len(y), 5), y, np.asarray(record), ("normal", "MI"), "ptb",
                            "real", "wfdb")


def test_split_by_beat_without_patient_ids():
    ds = _dataset([0] * 20 + [1] * 30, [""] * 50)
    train, test, how = mi_split(ds, test_fraction=0.3, seed=0)
    assert how == BY_BEAT and how.startswith("by beat")
    assert ds.per_class(test) == [6, 9]
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(50))
    again = mi_split(ds, test_fraction=0.3, seed=0)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(mi_split(ds, test_fraction=0.3, seed=1)[1], test)


def test_split_by_patient_keeps_patients_whole_and_both_classes_on_both_sides():
    patients = [f"p{i}" for i in range(10)]
    record = np.repeat(patients, [3, 5, 2, 8, 4, 6, 1, 7, 3, 5])
    labels = {p: int(i >= 4) for i, p in enumerate(patients)}      # 4 healthy, 6 MI
    ds = _dataset([labels[r] for r in record], record)
    for seed in range(20):
        train, test, how = mi_split(ds, test_fraction=0.3, seed=seed)
        assert how == BY_PATIENT
        assert train.dtype == np.int64 and np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(ds)))
        assert not set(record[train]) & set(record[test])
        assert all(n > 0 for n in ds.per_class(train) + ds.per_class(test))
        test_patients = set(record[test])
        assert sum(labels[p] == 0 for p in test_patients) == 1     # round(0.3 * 4)
        assert sum(labels[p] == 1 for p in test_patients) == 2     # round(0.3 * 6)


def test_split_by_patient_of_two_patients_per_class():
    ds = _dataset([0, 0, 0, 1, 1, 1, 1], ["a", "a", "b", "c", "c", "d", "d"])
    train, test, how = mi_split(ds, test_fraction=0.1, seed=0)     # rounds to 0: still one each
    assert how == BY_PATIENT and ds.per_class(test)[0] > 0 and ds.per_class(test)[1] > 0
    assert ds.per_class(train)[0] > 0 and ds.per_class(train)[1] > 0


def test_a_class_of_one_patient_falls_back_to_a_beat_split_and_says_why():
    ds = _dataset([0] * 6 + [1] * 6, ["a"] * 6 + ["b"] * 3 + ["c"] * 3)
    _, test, how = mi_split(ds, test_fraction=0.5, seed=0)
    assert how.startswith("by beat: class normal has a single patient")
    assert ds.per_class(test) == [3, 3]


def test_split_refuses_a_bad_fraction():
    ds = _dataset([0, 1], ["", ""])
    for fraction in (0.0, 1.0, -0.2):
        with pytest.raises(ValueError, match="test_fraction"):
            mi_split(ds, test_fraction=fraction)


# --- real data (skipped without it) -------------------------------------------------------------

@pytest.mark.realdata
def test_real_mi_task_of_the_sample_rows():
    """The data directory setting with the real sample rows: 100 + 100 real beats, split by beat."""
    from ecglab.config import data_dir

    folder = data_dir()
    sample = [folder / "kaggle_sample" / name
              for name in ("ptbdb_normal_sample.csv", "ptbdb_abnormal_sample.csv")]
    if not all(p.is_file() for p in sample):
        pytest.skip(f"needs the real Kaggle PTB sample rows in {folder / 'kaggle_sample'}: set "
                    f"ECGLAB_DATA to a data directory that has them")
    if find_csvs(folder, PTB_FILES):
        pytest.skip(f"{folder} holds the full Kaggle PTB CSVs, which come before the sample rows")
    ds, text = load_mi_task()
    if ds.meta["mi_source"] == "physionet":
        pytest.skip(f"{folder / 'ptbdb'} holds PTB records of both classes, which come first")
    assert (ds.source, ds.meta["mi_source"]) == ("real", "kaggle_sample")
    assert ds.per_class() == [100, 100] and ds.X.shape == (200, 187)
    assert ds.X.min() >= 0 and ds.X.max() <= 1
    assert "200 real beats (normal 100, MI 100)" in text
    if data.ptb_record_names(folder):      # e.g. a ptbdb/ with a few MI records and no control
        assert "the two-class task cannot be made of them" in text
    train, test, how = mi_split(ds)
    assert how == BY_BEAT and ds.per_class(test) == [30, 30] and ds.per_class(train) == [70, 70]
