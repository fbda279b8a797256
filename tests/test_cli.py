"""Tests of the command line, ``python -m ecglab data info|fetch|build`` and ``reproduce``.

Every test runs the command in a subprocess, in a tmp folder, with the reference package first on
``PYTHONPATH`` (``conftest.subprocess_env``). The data directory is always given with
``--data-dir``: an empty folder (synthetic data), a fabricated one, or the real one (fixture
``real_data``, skipped without ``ECGLAB_DATA``).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ecglab import data

from .conftest import SOLUTIONS, subprocess_env
from .test_data import KAGGLE_PER_CLASS, KAGGLE_TOTAL, write_mitdb

SUBCOMMANDS = [[], ["data"], ["data", "info"], ["data", "fetch"], ["data", "build"], ["reproduce"]]
RESULT_KEYS = {"data_source", "mitbih_beat", "mitbih_interpatient", "ptb_beat", "transfer"}


def ecglab(*args, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecglab", *map(str, args)], cwd=cwd,
                          env=subprocess_env(), capture_output=True, text=True, timeout=timeout)


def info_json(data_dir: Path, cwd: Path) -> dict:
    done = ecglab("data", "info", "--json", "--data-dir", data_dir, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check_build(out: Path, info: dict) -> dict:
    """The CSVs of ``data build``: readable, 80/20 per class, together the whole dataset."""
    train_X, train_y = data.read_csv(out / "mitbih_train.csv")
    test_X, test_y = data.read_csv(out / "mitbih_test.csv")
    train, test = np.bincount(train_y, minlength=5), np.bincount(test_y, minlength=5)
    assert (train + test).tolist() == info["mitbih"]["per_class"]
    for n_train, n_test in zip(train, test):
        assert abs(n_test - 0.2 * (n_train + n_test)) <= 1
    assert train.tolist() == info["mitbih"]["splits"]["beat"]["train"]
    assert test.tolist() == info["mitbih"]["splits"]["beat"]["test"]
    assert train_X.shape == (train.sum(), 187) and test_X.shape == (test.sum(), 187)
    return {"train": (train_X, train_y), "test": (test_X, test_y)}


@pytest.fixture
def empty(tmp_path) -> Path:
    folder = tmp_path / "empty_data"
    folder.mkdir()
    return folder


def test_the_subprocess_uses_the_reference_package(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import ecglab; print(ecglab.__file__)"],
                          cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True)
    assert Path(done.stdout.strip()).resolve().is_relative_to(SOLUTIONS)


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: " ".join(w) or "ecglab")
def test_help(tmp_path, words):
    done = ecglab(*words, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m ecglab") and not done.stderr
    if words[-1:] in (["info"], ["build"], ["fetch"], ["reproduce"]):
        assert "--data-dir" in done.stdout
    for option in {"build": ["--format", "--out"], "reproduce": ["--quick", "--out"],
                   "info": ["--json"], "fetch": ["--from", "--records"]}.get((words or [""])[-1], []):
        assert option in done.stdout


def test_no_command_is_a_usage_error(tmp_path):
    done = ecglab(cwd=tmp_path)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_info_json_on_synthetic_data(tmp_path, empty):
    info = info_json(empty, tmp_path)
    assert info["data_dir"] == str(empty)
    mitbih, ptb = info["mitbih"], info["ptb"]
    assert {"source", "records", "n_beats", "per_class"} <= set(mitbih)
    assert mitbih["source"] == "synthetic" and mitbih["origin"] == "generator"
    assert mitbih["records"] == 48 and len(mitbih["per_class"]) == 5
    assert sum(mitbih["per_class"]) == mitbih["n_beats"] > 0 and all(n > 0 for n in mitbih["per_class"])
    beat = mitbih["splits"]["beat"]
    assert [a + b for a, b in zip(beat["train"], beat["test"])] == mitbih["per_class"]
    inter = mitbih["splits"]["interpatient"]
    assert set(inter["excluded_records"]) == {"102", "104", "107", "217"}
    assert ptb is not None and ptb["source"] == "synthetic" and len(ptb["per_class"]) == 2
    assert sum(ptb["per_class"]) == ptb["n_beats"] and min(ptb["per_class"]) > 0


def test_info_text_is_loud_about_synthetic_data(tmp_path, empty):
    done = ecglab("data", "info", "--data-dir", empty, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC" in done.stdout and str(empty) in done.stdout


def test_info_follows_ecglab_data(tmp_path, empty):
    done = subprocess.run([sys.executable, "-m", "ecglab", "data", "info", "--json"], cwd=tmp_path,
                          env=subprocess_env(ECGLAB_DATA=empty), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data_dir"] == str(empty)


def test_info_on_fabricated_records_without_ptb(tmp_path):
    write_mitdb(tmp_path / "fab", names=("100", "232"), seconds=15)
    info = info_json(tmp_path / "fab", tmp_path)
    assert info["mitbih"]["source"] == "real" and info["mitbih"]["origin"] == "wfdb"
    assert info["mitbih"]["records"] == 2
    assert info["ptb"] is None                       # real MIT-BIH, no PTB: no synthetic stand-in
    assert info["mitbih"]["splits"]["interpatient"]["DS2"] == info["mitbih"]["per_class"]


def test_build_on_synthetic_data(tmp_path, empty):
    out = tmp_path / "out"
    done = ecglab("data", "build", "--format", "kaggle", "--out", out, "--data-dir", empty, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC" in done.stdout
    assert "SYNTHETIC" in (out / "SYNTHETIC_DATA.txt").read_text()
    check_build(out, info_json(empty, tmp_path))
    for name in ("ptbdb_normal.csv", "ptbdb_abnormal.csv"):
        X, y = data.read_csv(out / name, n_classes=2)
        assert len(y) > 0 and len(set(y.tolist())) == 1


def test_build_removes_a_stale_synthetic_marker(tmp_path):
    write_mitdb(tmp_path / "fab", names=("119",), seconds=15)
    out = tmp_path / "out"
    out.mkdir()
    (out / "SYNTHETIC_DATA.txt").write_text("old\n")
    done = ecglab("data", "build", "--out", out, "--data-dir", tmp_path / "fab", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (out / "SYNTHETIC_DATA.txt").exists()
    assert not (out / "ptbdb_abnormal.csv").exists()     # no PTB data, no PTB file


def test_reproduce_quick_on_synthetic_data(tmp_path, empty):
    out = tmp_path / "run"
    done = ecglab("reproduce", "--quick", "--out", out, "--data-dir", empty, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert RESULT_KEYS <= set(results)
    assert results["data_source"] == "synthetic"
    for key in ("mitbih_beat", "mitbih_interpatient", "ptb_beat", "transfer"):
        if results[key] is None:
            assert results["not_yet"][key], f"{key} is null and not_yet does not say why"
    assert results["beats"]["mitbih"]["n_beats"] > 0
    report = (out / "report.md").read_text()
    assert "SYNTHETIC" in report
    figures = list((out / "figures").glob("*.png"))
    assert figures and all(f.stat().st_size > 1000 for f in figures)


def test_truncated_record_is_a_one_line_error(tmp_path):
    write_mitdb(tmp_path / "bad", names=("100", "101"), seconds=10)
    dat = tmp_path / "bad" / "mitdb" / "100.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    done = ecglab("data", "info", "--data-dir", tmp_path / "bad", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(dat) in lines[0] and "truncated" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_missing_annotation_file_is_a_one_line_error(tmp_path):
    write_mitdb(tmp_path / "bad", names=("100",), seconds=10)
    atr = tmp_path / "bad" / "mitdb" / "100.atr"
    atr.unlink()
    done = ecglab("data", "build", "--out", tmp_path / "out", "--data-dir", tmp_path / "bad", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == f"error: {atr}: file not found"


def test_bad_kaggle_csv_is_a_one_line_error(tmp_path):
    folder = tmp_path / "k" / "kaggle"
    data.write_csv(folder / "mitbih_train.csv", np.zeros((3, 187)), np.zeros(3))
    data.write_csv(folder / "mitbih_test.csv", np.zeros((3, 187)), np.zeros(3))
    lines = (folder / "mitbih_test.csv").read_text().splitlines()
    (folder / "mitbih_test.csv").write_text("\n".join(lines[:2] + [lines[2] + ",0.0"]) + "\n")
    done = ecglab("data", "info", "--data-dir", tmp_path / "k", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "mitbih_test.csv: row 3" in lines[0]


# --- real data ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_info(real_data, tmp_path_factory):
    return info_json(real_data, tmp_path_factory.mktemp("info"))


@pytest.mark.realdata
def test_info_json_on_real_data(real_info):
    mitbih = real_info["mitbih"]
    assert (mitbih["source"], mitbih["origin"], mitbih["records"]) == ("real", "wfdb", 48)
    assert mitbih["n_beats"] == KAGGLE_TOTAL and mitbih["per_class"] == KAGGLE_PER_CLASS
    inter = mitbih["splits"]["interpatient"]
    assert sum(map(sum, (inter["DS1"], inter["DS2"]))) < KAGGLE_TOTAL   # paced records left out
    ptb = real_info["ptb"]
    assert ptb["source"] == "real" and ptb["records"] == 4
    assert ptb["per_class"] == [0, ptb["n_beats"]] and ptb["n_beats"] > 500


@pytest.mark.realdata
def test_build_on_real_data(real_data, real_info, tmp_path):
    out = tmp_path / "out"
    done = ecglab("data", "build", "--format", "kaggle", "--out", out, "--data-dir", real_data, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (out / "SYNTHETIC_DATA.txt").exists() and "SYNTHETIC" not in done.stdout
    built = check_build(out, real_info)
    assert len(built["train"][1]) + len(built["test"][1]) == KAGGLE_TOTAL
    X, y = data.read_csv(out / "ptbdb_abnormal.csv", n_classes=2)
    assert (y == 1).all() and len(y) == real_info["ptb"]["n_beats"]
    assert not (out / "ptbdb_normal.csv").exists()       # the 4 PTB records are all MI
    sample = real_data / "kaggle_sample" / "mitbih_train_sample.csv"
    if sample.is_file():                                  # the written CSVs keep the beats exactly
        rows = {r.tobytes() for part in built.values() for r in part[0]}
        assert all(r.tobytes() in rows for r in data.read_csv(sample)[0])


@pytest.mark.realdata
def test_reproduce_quick_on_real_data(real_data, tmp_path):
    out = tmp_path / "run"
    done = ecglab("reproduce", "--quick", "--out", out, "--data-dir", real_data, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert RESULT_KEYS <= set(results) and results["data_source"] == "real"
    assert results["beats"]["ptb"]["per_class"][0] == 0
    assert "SYNTHETIC" not in (out / "report.md").read_text()
    assert (out / "figures" / "mitbih_beats_per_class.png").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_terminal_the_error_starts_a_clean_line(tmp_path, monkeypatch):
    # On a terminal the progress bars show; an error clears them before it is printed.
    import pty

    write_mitdb(tmp_path / "bad", names=("100", "101", "103"), seconds=10)
    dat = tmp_path / "bad" / "mitdb" / "103.dat"
    dat.write_bytes(dat.read_bytes()[:100])
    # cwd=tmp_path, as in the other tests: `python -m` puts the cwd first on sys.path
    script = (f"cd {shlex.quote(str(tmp_path))} && stty cols 120 rows 40 && exec "
              f"{shlex.quote(sys.executable)} -m ecglab data build --out out --data-dir bad")
    chunks = []

    def read(fd):
        chunk = os.read(fd, 4096)
        chunks.append(chunk)
        return chunk

    monkeypatch.setenv("PYTHONPATH", subprocess_env()["PYTHONPATH"])
    status = pty.spawn(["bash", "-c", script], read)
    output = b"".join(chunks).decode()
    assert os.waitstatus_to_exitcode(status) == 2
    assert "reading MIT-BIH" in output                                  # the bar was there
    *_, cleared, error, end = output.split("\r")                       # ... then cleared
    assert cleared.strip() == "" and end == "\n"
    assert error.startswith("error: bad/mitdb/103.dat: truncated")
