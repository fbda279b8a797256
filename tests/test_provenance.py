"""Tests of ecglab.data.provenance and ``python -m ecglab data provenance``: where a Kaggle row
comes from.

All but the last test run on fabricated inputs: synthetic records in memory, or written with wfdb
into a tmp data directory (``tests.test_data.write_mitdb``). The last one needs the real records
(fixture ``real_data``) and the Kaggle sample rows in ``kaggle_sample/``.

    .venv/bin/python -m pytest tests/test_provenance.py -q
    ECGLAB_DATA=/path/to/data .venv/bin/python -m pytest tests/test_provenance.py -q
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ecglab import data
from ecglab.data import provenance as prov
from ecglab.data.datasets import beats_of_annotated
from ecglab.data.records import Record
from ecglab.data.synthetic import synthetic_mitbih_records
from ecglab.errors import DataError

from .conftest import subprocess_env
from .test_data import kaggle_recipe, same_bits, write_mitdb

CONTRACT_ROW_KEYS = {"file", "row", "record", "sample", "label"}


def cli(*args, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecglab", "data", "provenance", *map(str, args)],
                          cwd=cwd, env=subprocess_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return synthetic_mitbih_records(seconds=20, names=("100", "119", "208"))


@pytest.fixture(scope="module")
def index(records) -> prov.BeatIndex:
    return data.index_records(records)


@pytest.fixture(scope="module")
def mitdb_dir(tmp_path_factory) -> Path:
    """A data directory with two fabricated MIT-BIH records written as WFDB files."""
    folder = tmp_path_factory.mktemp("prov_data")
    write_mitdb(folder, names=("100", "119"), seconds=15)
    return folder


@pytest.fixture(scope="module")
def beats_csv(mitdb_dir, tmp_path_factory) -> tuple[Path, data.BeatDataset]:
    """A Kaggle-format CSV of all the beats of ``mitdb_dir``, shuffled, as load_mitbih cuts them."""
    ds = data.load_mitbih(mitdb_dir)
    order = np.random.default_rng(0).permutation(len(ds))
    path = tmp_path_factory.mktemp("csv") / "mine.csv"
    data.write_csv(path, ds.X[order], ds.y[order])
    return path, ds.subset(order)


def one_ulp_up(x: np.float32) -> np.float32:
    return np.nextafter(np.float32(x), np.float32(np.inf))


# --- the index ----------------------------------------------------------------------------------

def test_record_beats_are_the_beats_of_the_dataset(records):
    for rec in records:
        X, y, sample = prov.record_beats(rec)
        X2, y2 = beats_of_annotated(rec, "kaggle")
        assert same_bits(X, X2) and y.tolist() == y2.tolist()
        # Only beats are annotated in a synthetic record: every beat but the last one.
        assert sample.tolist() == rec.r_peaks[:-1].tolist()


def test_index_holds_every_beat_once(records, index):
    assert len(index) == sum(len(rec.r_peaks) - 1 for rec in records)
    assert index.records == ["100", "119", "208"]
    assert index.X.dtype == np.float32 and index.sample.dtype == np.int64
    assert sum(map(len, index.lookup.values())) == len(index)


def test_beat_index_reads_the_data_directory(mitdb_dir):
    index = data.beat_index(mitdb_dir)
    assert index.records == ["100", "119"] and index.data_dir == str(mitdb_dir)
    rec = data.read_mitbih_record("119", mitdb_dir, leads=())
    X, _, sample = prov.record_beats(rec)
    here = index.record == "119"
    assert same_bits(index.X[here], X) and index.sample[here].tolist() == sample.tolist()


def test_no_records_is_a_one_line_data_error(tmp_path):
    with pytest.raises(DataError) as err:
        data.beat_index(tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path) in message and "data fetch mitbih" in message


# --- placing rows -------------------------------------------------------------------------------

def test_rows_are_placed_exactly(records, index):
    ds = data.mitbih_from_records(records)              # cut again, by the dataset path
    order = np.random.default_rng(1).permutation(len(ds))
    places = data.place_rows(ds.X[order], ds.y[order], index)
    assert places.placed.all() and (places.matches == 1).all()
    assert places.record.tolist() == ds.record[order].tolist()
    for rec in records:                                   # each row at its own R peak
        mine = places.record == rec.name
        assert sorted(places.sample[mine].tolist()) == rec.r_peaks[:-1].tolist()
    i = int(np.flatnonzero(places.record == "119")[0])
    assert places.row(i) == {"record": "119", "sample": int(places.sample[i]),
                             "label": int(ds.y[order][i]), "reason": None, "matches": 1}
    assert sum(places.per_record().values()) == len(ds)


def test_one_ulp_off_is_not_placed(index):
    X, y = index.X[:4].copy(), index.label[:4].copy()
    X[1, 40] = one_ulp_up(X[1, 40])
    places = data.place_rows(X, y, index)
    assert places.placed.tolist() == [True, False, True, True]
    assert places.reason[1] == prov.NOT_FOUND and places.matches[1] == 0
    assert places.row(1)["record"] is None and places.row(1)["sample"] is None
    assert places.record[1] == "" and places.sample[1] == -1


def test_minus_zero_is_the_same_value(index):
    X = index.X[:2].copy()
    X[X == 0] = -0.0                                      # another bit pattern, the same values
    assert data.place_rows(X, index.label[:2], index).placed.all()


def test_label_mismatch_is_not_placed(index):
    X, y = index.X[:3], index.label[:3].copy()
    y[2] = (y[2] + 1) % 5
    places = data.place_rows(X, y, index)
    assert places.placed.tolist() == [True, True, False]
    assert places.reason[2] == prov.LABEL_DIFFERS and places.matches[2] == 1
    assert places.record[2] == "" and places.label[2] == y[2]
    assert places.candidates[2] == ((str(index.record[2]), int(index.sample[2]), int(index.label[2])),)
    assert "label differs" in places.why(2) and f"sample {index.sample[2]}" in places.why(2)


def _periodic_record(name: str, symbol: str, n_beats: int = 8) -> Record:
    """A record whose beats are all the same: one beat shape, repeated at a fixed R-R interval."""
    period = 300
    t = np.arange(period)
    beat = np.exp(-0.5 * ((t - 20) / 4.0) ** 2) + 0.2 * np.exp(-0.5 * ((t - 150) / 20.0) ** 2)
    signal = np.tile(beat, n_beats)
    samples = np.arange(n_beats) * period + 20
    symbols = np.full(n_beats, symbol)
    return Record(name, signal, 360.0, "MLII", samples, symbols, samples, symbols)


def test_identical_beats_are_ambiguous():
    # Identical beats in two places of one record, and in two records (with other labels).
    index = data.index_records([_periodic_record("100", "N"), _periodic_record("101", "V")])
    first = index.record == "100"
    places = data.place_rows(index.X[first][:2], index.label[first][:2], index)
    assert not places.placed.any() and set(places.reason) == {prov.AMBIGUOUS}
    # 8 annotations, 7 beats per record; all but the one before the last interval are the same
    assert (places.matches == 12).all()
    assert len(places.candidates[0]) == prov.MAX_CANDIDATES
    assert {r for r, _, _ in places.candidates[0]} <= {"100", "101"}
    assert places.why(0).startswith("ambiguous: 12 beats")
    # The last beat of each record ends at the last annotation: unique within its record, but
    # the two records still share it.
    last = data.place_rows(index.X[first][-1:], index.label[first][-1:], index)
    assert last.reason.tolist() == [prov.AMBIGUOUS] and last.matches.tolist() == [2]


def test_rows_of_the_wrong_shape_are_a_data_error(index):
    with pytest.raises(DataError, match="shape"):
        data.place_rows(np.zeros((2, 180)), [0, 0], index)


# --- files and the JSON contract ----------------------------------------------------------------

def test_provenance_json_contract(beats_csv, mitdb_dir):
    path, ds = beats_csv
    result = prov.provenance([path], data_dir=mitdb_dir)
    assert {"rows", "placed", "total"} <= set(result)
    assert result["placed"] == result["total"] == len(ds) == len(result["rows"])
    json.dumps(result)                                     # JSON as it is
    for i, row in enumerate(result["rows"]):
        assert CONTRACT_ROW_KEYS <= set(row)
        assert row["file"] == str(path) and row["row"] == i + 1
        assert isinstance(row["record"], str) and isinstance(row["sample"], int)
        assert isinstance(row["label"], int) and row["label"] == ds.y[i]
        assert row["record"] == ds.record[i]
    assert result["records"] == 2 and result["patients"] == 2
    assert result["files"][0]["per_record"] == {"100": int((ds.record == "100").sum()),
                                                "119": int((ds.record == "119").sum())}
    assert result["index"] == {"data_dir": str(mitdb_dir), "records": 2, "beats": len(ds)}


def test_row_is_the_line_number_in_the_file(index, tmp_path):
    path = data.write_csv(tmp_path / "gaps.csv", index.X[:3], index.label[:3])
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "", lines[1], "   ", lines[2]]) + "\n")
    result = prov.provenance([path], index=index)
    assert [r["row"] for r in result["rows"]] == [1, 3, 5]
    assert [r["sample"] for r in result["rows"]] == index.sample[:3].tolist()


def test_unplaced_rows_in_the_json(index, tmp_path):
    X, y = index.X[:3].copy(), index.label[:3].copy()
    X[0, 7] = one_ulp_up(X[0, 7])
    y[1] = (y[1] + 1) % 5
    path = data.write_csv(tmp_path / "some.csv", X, y)
    result = prov.provenance([path], index=index)
    assert (result["placed"], result["total"]) == (1, 3)
    first, second, third = result["rows"]
    assert (first["record"], first["sample"], first["reason"]) == (None, None, prov.NOT_FOUND)
    assert (second["record"], second["reason"], second["label"]) == (None, prov.LABEL_DIFFERS, int(y[1]))
    assert second["candidates"][0]["sample"] == int(index.sample[1])
    assert third["reason"] is None and third["record"] == str(index.record[2])
    assert result["unplaced"] == {prov.NOT_FOUND: 1, prov.LABEL_DIFFERS: 1, prov.AMBIGUOUS: 0}


# --- lesson 3: patients on both sides -----------------------------------------------------------

def test_shared_patients(index):
    records = index.record.tolist()
    train = data.place_rows(index.X[::2], index.label[::2], index)
    test = data.place_rows(index.X[1::2], index.label[1::2], index)
    out = data.shared_patients(train, test)
    assert out["shared"] == ["100", "119", "208"] and out["n_shared"] == 3
    assert out["test_rows_shared"] == 1.0 and out["train_only"] == out["test_only"] == []
    assert out["per_record"]["119"] == {"train": records[::2].count("119"),
                                        "test": records[1::2].count("119")}
    # A split by record shares nothing; names work as well as placements; 201 and 202 are one man.
    by_record = data.shared_patients(["100", "201", None], ["119", "202", ""])
    assert by_record["n_shared"] == 0 and by_record["test_rows_shared"] == 0.0
    assert by_record["train_only"] == ["100", "201"] and by_record["n_shared_patients"] == 1
    assert prov.count_patients(["201", "202", "100"]) == 2


# --- the command --------------------------------------------------------------------------------

def test_cli_json(beats_csv, mitdb_dir, tmp_path):
    path, ds = beats_csv
    done = cli(path, "--json", "--data-dir", mitdb_dir, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["placed"] == result["total"] == len(ds)
    assert [r["record"] for r in result["rows"]] == ds.record.tolist()


def test_cli_summary_and_csv(beats_csv, mitdb_dir, tmp_path):
    path, ds = beats_csv
    X, y = data.read_csv(path)
    X[:12, 0] = [one_ulp_up(v) for v in X[:12, 0]]     # 12 rows that are not placed
    mine = data.write_csv(tmp_path / "mine.csv", X, y)
    out = tmp_path / "out" / "places.csv"
    done = cli(mine, path, "--data-dir", mitdb_dir, "--csv", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert f"{mine}: {len(y) - 12:,} of {len(y):,} rows placed, from 2 records (2 patients)" in text
    assert f"{path}: {len(y):,} of {len(y):,} rows placed" in text
    assert "2 records (2 patients) have rows in more than one file" in text
    assert f"{mine} row 1: not found" in text and "  ... 2 more" in text
    assert sum(line.startswith(f"  {mine} row ") for line in text.splitlines()) == 10
    with open(out, newline="") as file:
        table = list(csv.reader(file))
    assert table[0] == ["file", "row", "record", "sample", "label"] and len(table) == 1 + 2 * len(y)
    assert table[1] == [str(mine), "1", "", "", str(y[0])]
    assert table[13][:3] == [str(mine), "13", ds.record[12]] and int(table[13][3]) >= 0


def test_cli_missing_file_is_a_one_line_error(mitdb_dir, tmp_path):
    missing = tmp_path / "nope.csv"
    done = cli(missing, "--data-dir", mitdb_dir, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {missing}: file not found"]


def test_cli_bad_csv_is_a_one_line_error(mitdb_dir, tmp_path):
    bad = data.write_csv(tmp_path / "bad.csv", np.zeros((3, 187)), np.zeros(3))
    lines = bad.read_text().splitlines()
    bad.write_text("\n".join(lines[:1] + [lines[1] + ",0.0"] + lines[2:]) + "\n")
    done = cli(bad, "--json", "--data-dir", mitdb_dir, cwd=tmp_path)
    assert done.returncode == 2 and not done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: row 2") and "Traceback" not in done.stderr


def test_cli_without_records_is_a_one_line_error(beats_csv, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = cli(beats_csv[0], "--data-dir", empty, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(empty) in lines[0] and "data fetch mitbih" in lines[0]


# --- real data (skipped without it) -------------------------------------------------------------

@pytest.mark.realdata
def test_real_kaggle_sample_rows_are_all_placed(real_data, tmp_path):
    import wfdb

    sample = real_data / "kaggle_sample" / "mitbih_train_sample.csv"
    if not sample.is_file():
        pytest.skip(f"{sample} is not there")
    start = time.perf_counter()
    done = cli(sample, "--json", "--data-dir", real_data, cwd=tmp_path)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["placed"] == result["total"] == 500

    X, y = data.read_csv(sample)
    rows = result["rows"]
    names = sorted({r["record"] for r in rows})
    for name in names:
        rec = data.read_mitbih_record(name, real_data, leads=())
        ann = wfdb.rdann(str(real_data / "mitdb" / name), "atr")
        beat_class = {int(at): int(c) for at, c in zip(ann.sample, data.symbols_to_classes(ann.symbol))
                      if c >= 0}
        s = np.asarray(rec.ann_samples)
        for i, row in enumerate(rows):
            if row["record"] != name:
                continue
            # The label is the AAMI class of the beat annotated at that sample ...
            assert row["label"] == beat_class[row["sample"]] == y[i], row
            # ... and the beat cut there (the recipe written out beat by beat) is the row, bit for bit.
            at = [int(np.flatnonzero(s == row["sample"])[0])]
            assert same_bits(kaggle_recipe(rec.signal, s, at)[0][0], X[i]), row
    print(f"\n500 of 500 Kaggle sample rows placed, from {len(names)} records "
          f"({prov.count_patients(names)} patients); the command took {seconds:.1f} s")
    assert len(names) == result["records"] == 48      # measured: every record gives rows
