"""Download the course's data: the PhysioNet databases and the Kaggle heartbeat CSVs.

:func:`fetch_physionet`
    Mirrors ``{base_url}/{db}/{version}/`` (for example https://physionet.org/files/mitdb/1.0.0/)
    into ``<data_dir>/<db>/``, in PhysioNet's own layout, which is what wfdb and
    :mod:`ecglab.data.datasets` read. The database's published ``SHA256SUMS.txt`` says which files
    there are and what each one's sha256 must be; its ``RECORDS`` file names the records.
:func:`fetch_kaggle`
    Puts the four CSVs of the Kaggle dataset ``shayanfazeli/heartbeat`` into ``<data_dir>/kaggle/``,
    from a folder, from Kaggle's ``archive.zip``, or through ``kagglehub``.

Four habits of a careful download, all used below:

1. Write to ``<name>.part`` and rename only once the sha256 matches, so a file with its final
   name is always complete and correct, even after a crash.
2. Resume an interrupted ``.part`` with an HTTP ``Range`` request instead of starting over.
3. Retry what may go better next time (connection errors, timeouts, truncated bodies, 5xx
   answers) after a short, growing pause; never retry what will not (404).
4. Skip files that are already present with the right checksum: a second run downloads nothing.

Only the standard library does the HTTP (``urllib``), so there is nothing extra to install.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path, PurePosixPath
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request, urlopen

from .. import __version__
from ..config import data_dir as resolve_data_dir
from ..config import repository_root
from ..errors import DataError
from . import kaggle

#: The PhysioNet databases of the course.
DATABASES = ("mitdb", "ptbdb")
#: Environment variable with the PhysioNet file server to use (a mirror, or a local test server).
ENV_PHYSIONET_URL = "ECGLAB_PHYSIONET_URL"
MANIFEST = "SHA256SUMS.txt"
RECORDS = "RECORDS"

TIMEOUT = 30.0  # seconds of silence before a request counts as failed
BACKOFF = 0.5  # seconds before the first retry; doubled for each further one
CHUNK = 1 << 16  # bytes read at a time: the whole file never has to fit in memory
USER_AGENT = f"ecglab/{__version__} (Python urllib)"

KAGGLE_DATASET = "shayanfazeli/heartbeat"
KAGGLE_URL = "https://www.kaggle.com/datasets/shayanfazeli/heartbeat"
#: Each Kaggle CSV: the number of classes of its task and the labels the file may hold.
KAGGLE_FILES = {
    "mitbih_train.csv": (5, (0, 1, 2, 3, 4)),
    "mitbih_test.csv": (5, (0, 1, 2, 3, 4)),
    "ptbdb_normal.csv": (2, (0,)),
    "ptbdb_abnormal.csv": (2, (1,)),
}


# --- checksums and manifests ----------------------------------------------------------------------

def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, as 64 lowercase hex digits, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_path(path: str, source: str) -> str:
    """``path`` if it stays inside the database folder; a DataError otherwise.

    The paths come from the server, and a path like ``../../.bashrc`` must not make us
    write outside the data directory.
    """
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or "\\" in path or ".." in parts:
        raise DataError(f"{source}: unsafe path {path!r}")
    return path


def parse_checksums(text: str, source: str = MANIFEST) -> dict[str, str]:
    """Read ``sha256sum`` output: one ``<sha256>  <relative path>`` a line.

    Parameters
    ----------
    text : str
        The file's content. Blank lines and ``#`` comments are skipped; a ``*`` before the
        path (``sha256sum --binary``) is allowed.
    source : str
        Where the text came from, for error messages.

    Returns
    -------
    dict
        ``{relative path: sha256}`` in file order, hashes in lowercase.
    """
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, path = line.partition(" ")
        digest, path = digest.lower(), path.lstrip(" ").removeprefix("*")
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest) or not path:
            raise DataError(f"{source}: line {number} is not '<sha256>  <path>': {line[:80]!r}")
        sums[_safe_path(path, source)] = digest
    return sums


def parse_records(text: str, source: str = RECORDS) -> list[str]:
    """Record names from a PhysioNet ``RECORDS`` file, one a line (``100``, ``patient001/s0010_re``)."""
    return [_safe_path(line.strip(), source) for line in text.splitlines() if line.strip()]


def files_by_record(checksums: dict[str, str]) -> dict[str, list[str]]:
    """Group file paths by record: ``100.dat``, ``100.hea`` and ``100.atr`` belong to ``100``."""
    groups: dict[str, list[str]] = {}
    for path in checksums:
        groups.setdefault(str(PurePosixPath(path).with_suffix("")), []).append(path)
    return groups


def pinned_checksums(db: str, version: str) -> dict[str, str]:
    """The sha256 the course pins for ``db`` (``data/checksums/<db>-<version>.sha256``), or ``{}``.

    A pin protects against a mirror whose files *and* ``SHA256SUMS.txt`` were both changed:
    such a mirror agrees with itself, but not with the pin.
    """
    root = repository_root()
    if root is None:
        return {}
    path = root / "data" / "checksums" / f"{db}-{version}.sha256"
    return parse_checksums(path.read_text(), str(path)) if path.is_file() else {}


def _check_pins(db: str, published: dict[str, str], pinned: dict[str, str]) -> None:
    """Every file the server publishes must have the checksum the course pinned for it."""
    for path, digest in pinned.items():
        if path in published and published[path] != digest:
            raise DataError(f"{db}/{path}: the server's {MANIFEST} says sha256 {published[path]}, "
                            f"the course pins {digest}")


# --- HTTP with retries ----------------------------------------------------------------------------

class _Retry(Exception):
    """A failure that may not happen again: worth another try after a pause."""


class _RangeRefused(_Retry):
    """The server would not resume from where the ``.part`` file ends (HTTP 416)."""


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc  # URLError keeps the cause in .reason
    return f"{type(exc).__name__}: {reason}".splitlines()[0]


def _open(url: str, offset: int = 0):
    """Send a GET for ``url``, from byte ``offset`` on; return the open response.

    Raises
    ------
    DataError
        A failure that another try will not fix (404 and the other 4xx answers).
    _Retry
        A failure that another try may fix (no connection, timeout, 5xx, 429).
    """
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urlopen(Request(url, headers=headers), timeout=TIMEOUT)
    except HTTPError as exc:
        exc.close()
        if exc.code == 404:
            raise DataError(f"{url}: not found (HTTP 404)") from None
        if exc.code == 416 and offset:
            raise _RangeRefused(f"HTTP 416 for a resume from byte {offset}") from None
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retry(f"HTTP {exc.code} {exc.reason}") from None
        raise DataError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
        raise _Retry(_describe(exc)) from None


def _copy_body(response, out) -> int:
    """Copy the response body into the open file ``out``; return the number of bytes copied."""
    received = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise _Retry(f"connection lost after {received} bytes ({_describe(exc)})") from None
        if not chunk:
            return received
        out.write(chunk)
        received += len(chunk)


def _check_length(response, received: int) -> None:
    """A body shorter than its Content-Length means the connection broke: try again."""
    expected = response.headers.get("Content-Length")
    if expected is not None and received != int(expected):
        raise _Retry(f"truncated body, {received} of {expected} bytes")


def _with_retries(attempt, what: str, retries: int):
    """Call ``attempt()`` until it succeeds, at most ``retries + 1`` times, pausing in between.

    Only :class:`_Retry` failures are retried; the last one becomes a one-line DataError that
    starts with ``what``.
    """
    for number in range(retries + 1):
        try:
            return attempt()
        except _Retry as exc:
            last = exc
            if number < retries:
                time.sleep(BACKOFF * 2 ** number)  # give a busy server room to recover
    raise DataError(f"{what}: {last} (gave up after {retries + 1} tries)")


def read_url_text(url: str, retries: int = 3) -> str:
    """The body of a small text file at ``url`` (a manifest), decoded as UTF-8."""
    def attempt() -> str:
        with _open(url) as response:
            body = io.BytesIO()
            _check_length(response, _copy_body(response, body))
        return body.getvalue().decode("utf-8")

    return _with_retries(attempt, url, retries)


def _transfer(url: str, part: Path) -> None:
    """One try at getting ``url`` into ``part``, resuming what an earlier try left there."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset)
    except _RangeRefused:
        part.unlink()  # the .part cannot be continued: start the next try from zero
        raise
    with response:
        # 206 means the server honours the Range; a plain 200 sends the whole file again.
        resuming = offset > 0 and response.status == 206
        if resuming and _range_start(response) != offset:
            part.unlink()
            raise _Retry(f"asked to resume at byte {offset}, got {response.headers['Content-Range']}")
        with open(part, "ab" if resuming else "wb") as out:
            received = _copy_body(response, out)
        _check_length(response, received)


def _range_start(response) -> int | None:
    """The first byte of a 206 answer, from ``Content-Range: bytes 100-199/200``."""
    value = response.headers.get("Content-Range", "")
    first = value.removeprefix("bytes ").split("-", 1)[0]
    return int(first) if first.isdigit() else None


def download_file(url: str, dest: str | os.PathLike, sha256: str, retries: int = 3,
                  name: str | None = None) -> bool:
    """Download ``url`` to ``dest`` and check its sha256, unless ``dest`` is already right.

    Parameters
    ----------
    url : str
    dest : path
        Where the file goes; it is written as ``<dest>.part`` and renamed when its sha256 matches.
    sha256 : str
        The checksum the file must have.
    retries : int
        Further tries after a failed one (a transfer error or a checksum mismatch).
    name : str, optional
        How error messages name the file (default: ``dest``).

    Returns
    -------
    bool
        True when the file was downloaded, False when it was already present and correct.

    Raises
    ------
    DataError
        404 or another final HTTP error (names the URL), or the last try failed (names the file;
        for a checksum mismatch it gives both hashes).
    """
    dest = Path(dest)
    if dest.is_file() and sha256_of(dest) == sha256:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")

    def attempt() -> None:
        _transfer(url, part)
        actual = sha256_of(part)
        if actual != sha256:
            part.unlink()  # a wrong .part must not be resumed
            raise _Retry(f"sha256 mismatch, expected {sha256}, got {actual} from {url}")
        os.replace(part, dest)  # atomic: the final name appears only for a verified file

    _with_retries(attempt, name or str(dest), retries)
    return True


# --- PhysioNet ------------------------------------------------------------------------------------

def physionet_url(base_url: str | None = None) -> str:
    """The PhysioNet file server: ``base_url``, else ``$ECGLAB_PHYSIONET_URL``, else wfdb's index.

    wfdb's index is normally ``https://physionet.org/files/``; the result has no trailing slash.
    """
    url = base_url or os.environ.get(ENV_PHYSIONET_URL)
    if not url:
        from wfdb.io import download
        url = download.config.db_index_url
    return url.rstrip("/")


def _select_files(db: str, published: dict[str, str], listed: list[str],
                  records: list[str] | None) -> dict[str, str]:
    """The files to fetch: all of the manifest, or those of ``records`` only."""
    if records is None:
        return dict(published)
    unknown = [r for r in records if r not in listed]
    if unknown:
        raise DataError(f"{db}: no record {', '.join(map(str, unknown))} in its {RECORDS} file")
    groups = files_by_record(published)
    empty = [r for r in records if r not in groups]
    if empty:
        raise DataError(f"{db}: record {', '.join(empty)} has no files in {MANIFEST}")
    return {path: published[path] for r in records for path in groups[r]}


def _write_records(folder: Path, listed: list[str], published: dict[str, str]) -> list[str]:
    """Write ``<folder>/RECORDS`` with the records whose files are all present; return them.

    After ``records=[...]`` the server's RECORDS would list records that are not here, and
    readers of the folder go by that file.
    """
    groups = files_by_record(published)
    present = [r for r in listed if r in groups and all((folder / p).is_file() for p in groups[r])]
    part = folder / f"{RECORDS}.part"
    part.write_text("".join(f"{r}\n" for r in present))
    os.replace(part, folder / RECORDS)
    return present


def _download_all(remote: str, folder: Path, files: dict[str, str], db: str, progress: bool,
                  workers: int, retries: int) -> int:
    """Download ``files`` (``{path: sha256}``) with a small thread pool; return how many were new."""
    from tqdm.auto import tqdm

    downloaded = 0
    with tqdm(total=len(files), desc=db, unit="file", disable=not progress) as bar, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(download_file, f"{remote}/{quote(path)}", folder / path, digest,
                               retries, f"{db}/{path}")
                   for path, digest in files.items()]
        try:
            for future in as_completed(futures):
                downloaded += future.result()
                bar.update()
        except BaseException:
            # Do not start the files still waiting; those in flight finish or leave a .part.
            for future in futures:
                future.cancel()
            raise
    return downloaded


def fetch_physionet(db: str, data_dir: str | os.PathLike | None = None,
                    base_url: str | None = None, version: str = "1.0.0",
                    records: list[str] | None = None, progress: bool = True,
                    workers: int = 4, retries: int = 3) -> Path:
    """Download a PhysioNet database into ``<data_dir>/<db>/``, verifying every file's sha256.

    Parameters
    ----------
    db : {"mitdb", "ptbdb"}
        The MIT-BIH Arrhythmia Database or the PTB Diagnostic ECG Database.
    data_dir : path, optional
        The data directory (default: ``$ECGLAB_DATA``, else ``data/`` of the repository).
    base_url : str, optional
        The file server, laid out as ``{base_url}/{db}/{version}/<file>`` (default:
        ``$ECGLAB_PHYSIONET_URL``, else wfdb's ``https://physionet.org/files/``).
    version : str
        The database version.
    records : list of str, optional
        Only these records' files (as named in ``RECORDS``, e.g. ``["100", "101"]``); the local
        ``RECORDS`` file then lists the records that are present. Default: every file in the
        database's ``SHA256SUMS.txt``.
    progress : bool
        Show a progress bar (files) and a one-line summary on stderr.
    workers : int
        Parallel downloads.
    retries : int
        Further tries for a file after a failed one.

    Returns
    -------
    Path
        The database folder, ``<data_dir>/<db>``.

    Raises
    ------
    DataError
        A file or manifest that cannot be downloaded (404 names the URL), a checksum that does not
        match after the retries (names the file and both hashes), a published checksum that
        differs from the course's pinned one, or an unknown record.
    """
    if db not in DATABASES:
        raise ValueError(f"db: expected one of {', '.join(DATABASES)}, got {db!r}")
    if workers < 1:
        raise ValueError(f"workers: expected at least 1, got {workers}")
    if retries < 0:
        raise ValueError(f"retries: expected 0 or more, got {retries}")
    remote = f"{physionet_url(base_url)}/{db}/{version}"
    folder = resolve_data_dir(data_dir) / db

    published = parse_checksums(read_url_text(f"{remote}/{MANIFEST}", retries), f"{remote}/{MANIFEST}")
    _check_pins(db, published, pinned_checksums(db, version))
    listed = parse_records(read_url_text(f"{remote}/{RECORDS}", retries), f"{remote}/{RECORDS}")

    files = _select_files(db, published, listed, records)
    if records is not None:
        files.pop(RECORDS, None)  # the local RECORDS lists what is here, not what the server has
    folder.mkdir(parents=True, exist_ok=True)
    downloaded = _download_all(remote, folder, files, db, progress, workers, retries)
    if records is not None or RECORDS not in published:
        _write_records(folder, listed, published)
    if progress:
        print(f"{db}: {downloaded} files downloaded, {len(files) - downloaded} already present, "
              f"in {folder}", file=sys.stderr)
    return folder


# --- Kaggle ---------------------------------------------------------------------------------------

def _kagglehub_download() -> Path:
    """The Kaggle dataset's folder, downloaded (and cached) by kagglehub."""
    try:
        import kagglehub
    except ImportError:
        raise DataError(
            "the Kaggle CSVs need a source: download archive.zip from "
            f"{KAGGLE_URL} and pass it with --from archive.zip (source= in Python), "
            "or `pip install kagglehub` (with a Kaggle account) and run again") from None
    try:
        return Path(kagglehub.dataset_download(KAGGLE_DATASET))
    except Exception as exc:  # kagglehub raises its own types for network and login problems
        raise DataError(f"kagglehub could not download {KAGGLE_DATASET} ({_describe(exc)})") from None


def _validate_csv(path: Path, name: str, shown: str) -> None:
    """Check one Kaggle CSV with :func:`ecglab.data.kaggle.read_csv` and its expected labels.

    ``shown`` replaces ``path`` in error messages (a file extracted from a zip has a temporary path).
    """
    n_classes, labels = KAGGLE_FILES[name]
    try:
        _, y = kaggle.read_csv(path, n_classes=n_classes)
    except DataError as exc:
        raise DataError(str(exc).replace(str(path), shown)) from None
    wrong = sorted(set(y.tolist()) - set(labels))
    if wrong:
        allowed = " or ".join(map(str, labels))
        raise DataError(f"{shown}: holds label {wrong[0]}, expected only {allowed} in {name}")


def _missing(source: Path, missing: list[str]) -> DataError:
    return DataError(f"{source}: missing {', '.join(missing)} (the Kaggle heartbeat dataset has "
                     f"{', '.join(KAGGLE_FILES)})")


def _from_folder(source: Path, target: Path) -> None:
    """Validate the four CSVs of ``source`` (found at any depth), then copy them to ``target``."""
    found = {}
    for name in KAGGLE_FILES:
        matches = [source / name] if (source / name).is_file() else sorted(source.rglob(name))
        if matches:
            found[name] = matches[0]
    missing = [name for name in KAGGLE_FILES if name not in found]
    if missing:
        raise _missing(source, missing)
    for name, path in found.items():  # all four are checked before any is copied
        _validate_csv(path, name, str(path))
    target.mkdir(parents=True, exist_ok=True)
    for name, path in found.items():
        part = target / f"{name}.part"
        shutil.copyfile(path, part)
        os.replace(part, target / name)


def _from_zip(source: Path, target: Path) -> None:
    """Extract the four CSVs of Kaggle's ``archive.zip``, validate them, move them to ``target``."""
    with zipfile.ZipFile(source) as archive:
        members = {PurePosixPath(m).name: m for m in archive.namelist() if not m.endswith("/")}
        missing = [name for name in KAGGLE_FILES if name not in members]
        if missing:
            raise _missing(source, missing)
        target.mkdir(parents=True, exist_ok=True)
        # Extract next to the target (same file system, so the final rename is atomic).
        with tempfile.TemporaryDirectory(dir=target, prefix=".incoming-") as staging:
            staged = {}
            for name in KAGGLE_FILES:
                staged[name] = Path(staging) / name
                with archive.open(members[name]) as src, open(staged[name], "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                _validate_csv(staged[name], name, f"{source}:{members[name]}")
            for name, path in staged.items():
                os.replace(path, target / name)


def fetch_kaggle(data_dir: str | os.PathLike | None = None,
                 source: str | os.PathLike | None = None) -> Path:
    """Put the four Kaggle heartbeat CSVs into ``<data_dir>/kaggle/``, each one validated first.

    Parameters
    ----------
    data_dir : path, optional
        The data directory (default: ``$ECGLAB_DATA``, else ``data/`` of the repository).
    source : path, optional
        A folder that holds ``mitbih_train.csv``, ``mitbih_test.csv``, ``ptbdb_normal.csv`` and
        ``ptbdb_abnormal.csv``, or Kaggle's ``archive.zip``. Default: download them with
        ``kagglehub`` when it is installed.

    Returns
    -------
    Path
        ``<data_dir>/kaggle``.

    Raises
    ------
    DataError
        No source and no kagglehub, a missing file (named), or a file that is not in the Kaggle
        format (a header row, a wrong number of columns, a label out of range ...).
    """
    target = resolve_data_dir(data_dir) / "kaggle"
    source = _kagglehub_download() if source is None else Path(source).expanduser()
    if source.is_dir():
        _from_folder(source, target)
    elif zipfile.is_zipfile(source):
        _from_zip(source, target)
    elif source.exists():
        raise DataError(f"{source}: neither a folder nor a zip archive")
    else:
        raise DataError(f"{source}: not found")
    return target
