"""Tests of ecglab.data.fetch against a PhysioNet-style mirror served on 127.0.0.1.

The machinery tests use small fabricated files and always run. The real-data tests mirror a
few real records from the data directory ``$ECGLAB_DATA`` and skip when it has no ``mitdb/``.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import sys
import threading
import types
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pooch
import pytest

from ecglab.data import fetch, kaggle
from ecglab.errors import DataError

REPO = Path(__file__).resolve().parents[1]
PINNED_MITDB = REPO / "data" / "checksums" / "mitdb-1.0.0.sha256"
VERSION = "0.0-test"  # not a real version, so no pinned checksums apply to the fabricated files


# --- the mirror -----------------------------------------------------------------------------------

class MirrorHandler(BaseHTTPRequestHandler):
    """GET of files under the server's root, with injectable faults."""

    def do_GET(self):
        server = self.server
        path = unquote(urlsplit(self.path).path)
        with server.lock:
            server.requests.append(path)
            pending = server.faults.get(path)
            fault = pending.pop(0) if pending else None
        if isinstance(fault, int):  # an HTTP error status, e.g. 503
            self.send_error(fault)
            return
        file = server.root / path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "truncate":  # promise the whole body, send half, hang up
            body = body[: len(body) // 2]
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Mirror(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), MirrorHandler)
        self.root = root
        self.requests: list[str] = []
        self.faults: dict[str, list] = {}  # URL path -> faults, one used per request
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def requested(self, name: str) -> int:
        """How many requests there were for a path ending in ``/name``."""
        return sum(path.endswith("/" + name) for path in self.requests)

    def data_requests(self) -> list[str]:
        """Requested paths other than the two manifests."""
        return [p for p in self.requests if not p.endswith(("/SHA256SUMS.txt", "/RECORDS"))]


@pytest.fixture
def mirror(tmp_path):
    server = Mirror(tmp_path / "mirror")
    # A short poll interval: shutdown() waits up to one interval.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def quiet_network(monkeypatch):
    """No proxy for 127.0.0.1, no pauses between retries, no pinned checksums by default."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(fetch.ENV_PHYSIONET_URL, raising=False)
    # pooch sleeps 1 s, 2 s, ... between tries (time.sleep in pooch.core); here no retry waits.
    monkeypatch.setattr(pooch.core, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(fetch, "repository_root", lambda: None)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def publish(server: Mirror, db: str, files: dict[str, bytes], records: list[str],
            version: str = VERSION, records_text: str | None = None) -> Path:
    """Lay out ``files`` as ``{db}/{version}/`` on the mirror, with RECORDS and SHA256SUMS.txt."""
    folder = server.root / db / version
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    (folder / "RECORDS").write_text(records_text or "".join(f"{r}\n" for r in records))
    listed = sorted(set(files) | {"RECORDS"})
    (folder / "SHA256SUMS.txt").write_text(
        "".join(f"{sha256((folder / rel).read_bytes())}  {rel}\n" for rel in listed))
    return folder


def fake_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


MITDB_RECORDS = ["100", "101", "102"]


def fake_mitdb(server: Mirror, **kw) -> dict[str, bytes]:
    files = {f"{r}.{ext}": fake_bytes(i * 3 + k, 4000 + 997 * k)
             for i, r in enumerate(MITDB_RECORDS) for k, ext in enumerate(("hea", "dat", "atr"))}
    publish(server, "mitdb", files, MITDB_RECORDS, **kw)
    return files


def get(server, tmp_path, **kw) -> Path:
    kw = {"data_dir": tmp_path / "data", "base_url": server.url, "version": VERSION,
          "progress": False, **kw}
    return fetch.fetch_physionet("mitdb", **kw)


def same_files(folder: Path, files: dict[str, bytes]) -> bool:
    return all((folder / rel).read_bytes() == data for rel, data in files.items())


def names_in(folder: Path) -> set[str]:
    """The files of ``folder``: a temporary file left behind by a download would show here."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


# --- PhysioNet: machinery -------------------------------------------------------------------------

def test_happy_path_verifies_every_file(mirror, tmp_path):
    files = fake_mitdb(mirror)
    folder = get(mirror, tmp_path)
    assert folder == tmp_path / "data" / "mitdb"
    assert same_files(folder, files)
    assert (folder / "RECORDS").read_text() == "100\n101\n102\n"
    assert names_in(folder) == set(files) | {"RECORDS"}
    assert sorted(mirror.data_requests()) == sorted(f"/mitdb/{VERSION}/{r}" for r in files)


def test_second_run_downloads_nothing(mirror, tmp_path):
    fake_mitdb(mirror)
    get(mirror, tmp_path)
    mirror.requests.clear()
    get(mirror, tmp_path)
    assert mirror.data_requests() == []
    assert len(mirror.requests) == 2  # SHA256SUMS.txt and RECORDS only


def test_wrong_local_file_is_downloaded_again(mirror, tmp_path):
    files = fake_mitdb(mirror)
    folder = get(mirror, tmp_path)
    (folder / "101.dat").write_bytes(b"damaged")
    mirror.requests.clear()
    get(mirror, tmp_path)
    assert mirror.data_requests() == [f"/mitdb/{VERSION}/101.dat"]
    assert same_files(folder, files)


def test_corrupt_file_on_server_is_a_data_error(mirror, tmp_path):
    files = fake_mitdb(mirror)
    served = mirror.root / "mitdb" / VERSION / "101.dat"
    served.write_bytes(b"not the published bytes")
    with pytest.raises(DataError) as info:
        get(mirror, tmp_path, retries=1)
    message = str(info.value)
    assert "mitdb/101.dat" in message and "\n" not in message
    assert sha256(files["101.dat"]) in message and sha256(served.read_bytes()) in message
    assert mirror.requested("101.dat") == 2  # one retry
    folder = tmp_path / "data" / "mitdb"
    assert "101.dat" not in names_in(folder) <= set(files) | {"RECORDS"}  # and no temporary file


def test_truncated_response_is_retried(mirror, tmp_path):
    files = fake_mitdb(mirror)
    mirror.faults[f"/mitdb/{VERSION}/100.dat"] = ["truncate"]
    folder = get(mirror, tmp_path)
    assert same_files(folder, files)
    assert mirror.requested("100.dat") == 2  # the second try starts again from the first byte


def test_server_errors_are_retried_then_reported(mirror, tmp_path):
    files = fake_mitdb(mirror)
    mirror.faults[f"/mitdb/{VERSION}/100.hea"] = [503, 500]
    assert same_files(get(mirror, tmp_path), files)
    assert mirror.requested("100.hea") == 3

    mirror.faults[f"/mitdb/{VERSION}/SHA256SUMS.txt"] = [503, 503]
    with pytest.raises(DataError, match=r"SHA256SUMS\.txt: HTTP 503 .*2 tries"):
        get(mirror, tmp_path, retries=1)


def test_an_interrupted_run_is_finished_by_running_it_again(mirror, tmp_path, monkeypatch):
    files = fake_mitdb(mirror)
    download = pooch.HTTPDownloader.__call__

    def interrupted(self, url, output_file, *args, **kwargs):
        download(self, url, output_file, *args, **kwargs)
        if url.endswith("/101.dat"):  # Ctrl-C with the body in pooch's temporary file
            raise KeyboardInterrupt

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        get(mirror, tmp_path, workers=1)
    folder = tmp_path / "data" / "mitdb"
    done = names_in(folder)
    assert "101.dat" not in done and done <= set(files) | {"RECORDS"}  # and no temporary file
    assert same_files(folder, {name: files[name] for name in done if name in files})

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", download)
    mirror.requests.clear()
    get(mirror, tmp_path)
    assert same_files(folder, files)
    # Only what the first run did not finish is downloaded.
    assert sorted(mirror.data_requests()) == sorted(f"/mitdb/{VERSION}/{name}"
                                                    for name in set(files) - done)


def test_404_names_the_url(mirror, tmp_path):
    fake_mitdb(mirror)
    with pytest.raises(DataError, match=re.escape(f"{mirror.url}/mitdb/9.9.9/SHA256SUMS.txt")
                       + ": HTTP 404 "):
        get(mirror, tmp_path, version="9.9.9")

    (mirror.root / "mitdb" / VERSION / "102.atr").unlink()  # listed, but gone from the server
    with pytest.raises(DataError, match=r"^mitdb/102\.atr: HTTP 404 .*\(gave up after 2 tries\)$"):
        get(mirror, tmp_path, retries=1)
    assert mirror.requested("102.atr") == 2  # pooch retries a 404 too


def test_records_subset(mirror, tmp_path):
    from ecglab.data import mitbih_record_names

    files = fake_mitdb(mirror)
    folder = get(mirror, tmp_path, records=["101"])
    assert sorted(p.name for p in folder.iterdir()) == ["101.atr", "101.dat", "101.hea", "RECORDS"]
    assert (folder / "RECORDS").read_text() == "101\n"
    assert mirror.requested("RECORDS") == 1  # read as the list of records, not mirrored

    get(mirror, tmp_path, records=["100"])
    assert (folder / "RECORDS").read_text() == "100\n101\n"  # what is present, in server order
    assert same_files(folder, {k: v for k, v in files.items() if not k.startswith("102")})
    assert mitbih_record_names(tmp_path / "data") == ["100", "101"]

    with pytest.raises(DataError, match="no record 999"):
        get(mirror, tmp_path, records=["999"])


@pytest.mark.parametrize("progress", [False, True])
def test_progress_bar_off_and_on(mirror, tmp_path, capsys, progress):
    files = fake_mitdb(mirror)
    assert same_files(get(mirror, tmp_path, progress=progress, workers=2), files)
    err = capsys.readouterr().err
    if progress:
        assert "mitdb: 10 files downloaded, 0 already present" in err
    else:
        assert err == ""


def test_ptbdb_keeps_patient_folders(mirror, tmp_path):
    from ecglab.data import ptb_record_names

    records = ["patient001/s0010_re", "patient002/s0015lre"]
    files = {f"{r}.{ext}": fake_bytes(len(r) + k, 3000) for r in records
             for k, ext in enumerate(("hea", "dat", "xyz"))}
    files["CONTROLS"] = b""  # PhysioNet's ptbdb also has top-level list files
    publish(mirror, "ptbdb", files, records)
    kw = {"data_dir": tmp_path / "data", "base_url": mirror.url, "version": VERSION, "progress": False}

    folder = fetch.fetch_physionet("ptbdb", records=["patient002/s0015lre"], **kw)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "RECORDS", "patient002", "patient002/s0015lre.dat", "patient002/s0015lre.hea",
        "patient002/s0015lre.xyz"]
    assert ptb_record_names(tmp_path / "data") == ["patient002/s0015lre"]

    fetch.fetch_physionet("ptbdb", **kw)
    assert same_files(folder, files)
    assert ptb_record_names(tmp_path / "data") == records


def test_unsafe_manifest_path_is_refused(mirror, tmp_path):
    folder = publish(mirror, "mitdb", {"100.hea": b"x"}, ["100"])
    (folder / "SHA256SUMS.txt").write_text(f"{sha256(b'x')}  ../../evil.hea\n")
    with pytest.raises(DataError, match="unsafe path '../../evil.hea'"):
        get(mirror, tmp_path)


def test_pinned_checksums_are_enforced(mirror, tmp_path, monkeypatch):
    files = fake_mitdb(mirror)
    repo = tmp_path / "repo"
    pins = repo / "data" / "checksums" / f"mitdb-{VERSION}.sha256"
    pins.parent.mkdir(parents=True)
    monkeypatch.setattr(fetch, "repository_root", lambda: repo)

    pins.write_text(f"{sha256(files['100.dat'])}  100.dat\n")
    assert same_files(get(mirror, tmp_path), files)

    pins.write_text(f"{'0' * 64}  100.dat\n")  # the server and the pin disagree
    with pytest.raises(DataError, match=f"mitdb/100.dat: .*{sha256(files['100.dat'])}.*pins {'0' * 64}"):
        get(mirror, tmp_path)


def test_defaults_come_from_the_environment(mirror, tmp_path, monkeypatch):
    files = fake_mitdb(mirror)
    monkeypatch.setenv("ECGLAB_DATA", str(tmp_path / "env-data"))
    monkeypatch.setenv(fetch.ENV_PHYSIONET_URL, mirror.url + "/")
    folder = fetch.fetch_physionet("mitdb", version=VERSION, progress=False)
    assert folder == tmp_path / "env-data" / "mitdb" and same_files(folder, files)


def test_physionet_url_falls_back_to_wfdb():
    import wfdb.io.download

    assert fetch.physionet_url() == wfdb.io.download.config.db_index_url.rstrip("/")
    assert fetch.physionet_url("http://mirror.example/files/") == "http://mirror.example/files"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="db: expected one of mitdb, ptbdb"):
        fetch.fetch_physionet("mimic", data_dir=tmp_path)
    with pytest.raises(ValueError, match="workers"):
        fetch.fetch_physionet("mitdb", data_dir=tmp_path, workers=0)


def test_pinned_mitdb_file_lists_every_record():
    pins = fetch.parse_checksums(PINNED_MITDB.read_text(), str(PINNED_MITDB))
    records = sorted({Path(p).stem for p in pins})
    assert len(records) == 48 and "100" in records and "234" in records
    assert sorted(pins) == sorted(f"{r}.{ext}" for r in records for ext in ("atr", "dat", "hea"))
    assert not (REPO / "data" / "checksums" / "ptbdb-1.0.0.sha256").exists()  # headers were edited


# --- Kaggle ---------------------------------------------------------------------------------------

KAGGLE_LABELS = {"mitbih_train.csv": [0, 1, 2, 3, 4], "mitbih_test.csv": [4, 3, 0],
                 "ptbdb_normal.csv": [0, 0], "ptbdb_abnormal.csv": [1, 1, 1]}


def fake_kaggle(folder: Path, skip: str | None = None) -> Path:
    """The four CSVs with a few random beats each (187 values and a label, no header)."""
    rng = np.random.default_rng(0)
    for name, labels in KAGGLE_LABELS.items():
        if name != skip:
            kaggle.write_csv(folder / name, rng.random((len(labels), 187)), np.array(labels))
    return folder


def check_installed(target: Path, source: Path) -> None:
    for name, labels in KAGGLE_LABELS.items():
        X, y = kaggle.read_csv(target / name)
        assert y.tolist() == labels and X.shape == (len(labels), 187)
        assert (target / name).read_bytes() == (source / name).read_bytes()
    assert sorted(p.name for p in target.iterdir()) == sorted(KAGGLE_LABELS)


def test_kaggle_from_a_folder(tmp_path):
    source = fake_kaggle(tmp_path / "heartbeat")
    target = fetch.fetch_kaggle(tmp_path / "data", source=source)
    assert target == tmp_path / "data" / "kaggle"
    check_installed(target, source)


def test_kaggle_from_the_zip(tmp_path):
    source = fake_kaggle(tmp_path / "heartbeat")
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in KAGGLE_LABELS:
            zf.write(source / name, name)
    target = fetch.fetch_kaggle(tmp_path / "data", source=archive)
    check_installed(target, source)


def test_kaggle_file_with_a_header_row(tmp_path):
    source = fake_kaggle(tmp_path / "heartbeat")
    bad = source / "ptbdb_normal.csv"
    bad.write_text(",".join(f"c{i}" for i in range(188)) + "\n" + bad.read_text())
    with pytest.raises(DataError, match=r"ptbdb_normal\.csv: row 1 looks like a header row"):
        fetch.fetch_kaggle(tmp_path / "data", source=source)
    assert not (tmp_path / "data" / "kaggle").exists()  # nothing copied before all four passed

    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in KAGGLE_LABELS:
            zf.write(source / name, f"heartbeat/{name}")
    with pytest.raises(DataError, match=re.escape(f"{archive}:heartbeat/ptbdb_normal.csv: row 1")):
        fetch.fetch_kaggle(tmp_path / "data", source=archive)
    assert not list((tmp_path / "data" / "kaggle").glob("*.csv"))


def test_kaggle_wrong_column_count(tmp_path):
    source = fake_kaggle(tmp_path / "heartbeat")
    kaggle.write_csv(source / "mitbih_test.csv", np.zeros((2, 186)), np.zeros(2))
    with pytest.raises(DataError, match=r"mitbih_test\.csv: row 1 has 187 columns, expected 188"):
        fetch.fetch_kaggle(tmp_path / "data", source=source)


def test_kaggle_swapped_ptb_files(tmp_path):
    source = fake_kaggle(tmp_path / "heartbeat")
    os.replace(source / "ptbdb_normal.csv", tmp_path / "normal.csv")
    os.replace(source / "ptbdb_abnormal.csv", source / "ptbdb_normal.csv")
    os.replace(tmp_path / "normal.csv", source / "ptbdb_abnormal.csv")
    with pytest.raises(DataError, match=r"ptbdb_normal\.csv: holds label 1"):
        fetch.fetch_kaggle(tmp_path / "data", source=source)


def test_kaggle_missing_files_are_named(tmp_path):
    source = fake_kaggle(tmp_path / "heartbeat", skip="mitbih_test.csv")
    with pytest.raises(DataError, match=r"missing mitbih_test\.csv \("):
        fetch.fetch_kaggle(tmp_path / "data", source=source)
    with pytest.raises(DataError, match="nowhere.zip: not found"):
        fetch.fetch_kaggle(tmp_path / "data", source=tmp_path / "nowhere.zip")


def test_kaggle_without_a_source(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # `import kagglehub` fails
    with pytest.raises(DataError) as info:
        fetch.fetch_kaggle(tmp_path / "data")
    message = str(info.value)
    assert fetch.KAGGLE_URL in message and "--from" in message and "pip install kagglehub" in message

    source = fake_kaggle(tmp_path / "cache")
    fake_hub = types.SimpleNamespace(dataset_download=lambda handle: str(source))
    monkeypatch.setitem(sys.modules, "kagglehub", fake_hub)
    check_installed(fetch.fetch_kaggle(tmp_path / "data"), source)


# --- real data ------------------------------------------------------------------------------------

def real_data_dir() -> Path:
    """``$ECGLAB_DATA`` when it holds ``mitdb/``; skips the test otherwise."""
    value = os.environ.get("ECGLAB_DATA")
    if not value or not (Path(value) / "mitdb").is_dir():
        pytest.skip("needs the real MIT-BIH records: set ECGLAB_DATA to a folder with mitdb/")
    return Path(value)


@pytest.mark.realdata
def test_real_records_survive_the_round_trip(mirror, tmp_path, monkeypatch):
    from ecglab.data import load_mitbih

    real = real_data_dir()
    monkeypatch.setattr(fetch, "repository_root", lambda: REPO)  # the course's pins apply
    mitdb = {f"{r}.{ext}": (real / "mitdb" / f"{r}.{ext}").read_bytes()
             for r in ("100", "101") for ext in ("hea", "dat", "atr")}
    # The real RECORDS lists all 48 records; the mirror serves two of them.
    publish(mirror, "mitdb", mitdb, [], version="1.0.0",
            records_text=(real / "mitdb" / "RECORDS").read_text())
    data = tmp_path / "data"
    folder = fetch.fetch_physionet("mitdb", data, mirror.url, "1.0.0", records=["100", "101"],
                                   progress=False)
    assert same_files(folder, mitdb)
    assert (folder / "RECORDS").read_text() == "100\n101\n"

    expected = load_mitbih(real, records=["100", "101"])
    got = load_mitbih(data)
    assert got.origin == "wfdb" and len(got) == len(expected) > 4000
    np.testing.assert_array_equal(got.X, expected.X)
    np.testing.assert_array_equal(got.y, expected.y)
    np.testing.assert_array_equal(got.record, expected.record)

    ptb_record = "patient001/s0010_re"
    if (real / "ptbdb" / f"{ptb_record}.hea").is_file():
        ptbdb = {f"{ptb_record}.{ext}": (real / "ptbdb" / f"{ptb_record}.{ext}").read_bytes()
                 for ext in ("hea", "dat", "xyz")}
        publish(mirror, "ptbdb", ptbdb, [ptb_record], version="1.0.0")
        folder = fetch.fetch_physionet("ptbdb", data, mirror.url, "1.0.0", progress=False)
        assert same_files(folder, ptbdb)
        from ecglab.data import read_ptb_record
        assert read_ptb_record(ptb_record, data).label == 1


@pytest.mark.realdata
def test_pinned_mitdb_checksums_match_the_real_files():
    real = real_data_dir()
    pins = fetch.parse_checksums(PINNED_MITDB.read_text(), str(PINNED_MITDB))
    wrong = [p for p, digest in pins.items() if pooch.file_hash(str(real / "mitdb" / p)) != digest]
    assert wrong == []
