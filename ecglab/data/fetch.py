"""Download the course's data: the PhysioNet databases and the Kaggle heartbeat CSVs.

:func:`fetch_physionet`
    Mirrors ``{base_url}/{db}/{version}/`` (for example https://physionet.org/files/mitdb/1.0.0/)
    into ``<data_dir>/<db>/``, in PhysioNet's own layout, which is what wfdb and
    :mod:`ecglab.data.datasets` read. The database's published ``SHA256SUMS.txt`` says which files
    there are and what each one's sha256 must be; its ``RECORDS`` file names the records.
:func:`fetch_kaggle`
    Puts the four CSVs of the Kaggle dataset ``shayanfazeli/heartbeat`` into ``<data_dir>/kaggle/``,
    from a folder, from Kaggle's ``archive.zip``, or through ``kagglehub``.

The downloading is done by `pooch <https://www.fatiando.org/pooch/>`_, the scientific-Python
library for fetching data files. Given a *registry*, ``{file: sha256}``, a :class:`pooch.Pooch`

1. downloads each file to a temporary name in the target folder and moves it into place only
   once its sha256 matches, so a file with its final name is always complete and correct;
2. retries a failed or corrupt download, pausing 1 s, 2 s, ... in between (it retries every
   failure, a 404 included);
3. leaves alone a file that is already there with the right checksum.

What stays here is what pooch does not know about: reading PhysioNet's ``SHA256SUMS.txt`` into a
registry (``sha256sum`` writes ``<sha256>  <path>``, pooch's registry files ``<path> <sha256>``)
and checking it against the course's pinned checksums; picking the files of some records; fetching
a few files at a time under one progress bar; turning pooch's errors into a one-line
:class:`~ecglab.errors.DataError` that names the file.

An interrupted run can simply be run again: verified files are skipped and the file that was in
flight starts over. Half a file is not resumed (HTTP ``Range``): pooch does not do that, and
PhysioNet's files are a few MB each, so starting one again costs little. (Only a hard kill can
leave pooch's temporary ``tmp...`` file behind; no reader takes it for data.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path, PurePosixPath

import pooch

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


# --- downloads with pooch ------------------------------------------------------------------------

def _reason(exc: BaseException) -> str:
    """One line saying why ``exc`` happened; for an HTTP error, its status."""
    response = getattr(exc, "response", None)  # requests' HTTPError carries the server's answer
    if response is not None:
        return f"HTTP {response.status_code} {response.reason}"
    if isinstance(exc, ValueError):  # pooch's checksum mismatch, which gives both hashes
        return str(exc).splitlines()[0]
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _fetch(registry: pooch.Pooch, path: str, shown: str) -> Path:
    """``registry.fetch(path)``; a failed last try becomes a one-line DataError led by ``shown``."""
    import requests  # pooch's HTTP library; only its exception type is needed here

    try:
        return Path(registry.fetch(path))
    except (ValueError, requests.RequestException) as exc:  # ValueError: the sha256 does not match
        tries = registry.retry_if_failed + 1
        raise DataError(f"{shown}: {_reason(exc)} (gave up after {tries} "
                        f"{'try' if tries == 1 else 'tries'})") from None


def _is_verified(path: Path, sha256: str) -> bool:
    """Whether ``path`` is a file with this sha256 (pooch's :func:`~pooch.file_hash`)."""
    return path.is_file() and pooch.file_hash(str(path)) == sha256


@contextlib.contextmanager
def _pooch_quiet():
    """Mute pooch's log lines per file ("Downloading file ..."): the progress bar says enough.

    pooch's logger writes INFO to stderr by default; it is set back on the way out.
    """
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


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


def _read_manifests(remote: str, retries: int) -> tuple[dict[str, str], list[str]]:
    """The server's ``SHA256SUMS.txt`` as ``{path: sha256}`` and its ``RECORDS`` as a list.

    Both are fetched on every run, into a temporary folder, so that an old copy never stands in
    for the server's lists. ``RECORDS`` is checked against ``SHA256SUMS.txt`` when that lists it.
    """
    with tempfile.TemporaryDirectory(prefix="ecglab-") as tmp:
        # A hash of None tells pooch there is nothing to check the file against.
        lists = pooch.create(tmp, f"{remote}/", registry={MANIFEST: None}, retry_if_failed=retries)
        url = f"{remote}/{MANIFEST}"
        published = parse_checksums(_fetch(lists, MANIFEST, url).read_text("utf-8"), url)
        lists.registry[RECORDS] = published.get(RECORDS)
        url = f"{remote}/{RECORDS}"
        listed = parse_records(_fetch(lists, RECORDS, url).read_text("utf-8"), url)
    return published, listed


def _download_all(registry: pooch.Pooch, db: str, progress: bool, workers: int) -> None:
    """Fetch every file of ``registry``, ``workers`` at a time, under one progress bar over files.

    pooch's own progress bar counts the bytes of one file; for hundreds of small files fetched in
    parallel, a count of files says more.
    """
    from tqdm.auto import tqdm

    for path in registry.registry:
        # pooch makes a missing parent folder itself, but two threads doing that at once collide.
        (registry.abspath / path).parent.mkdir(parents=True, exist_ok=True)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(_fetch, registry, path, f"{db}/{path}")
                   for path in registry.registry]
        shown = progress and bool(futures)  # no bar when every file is already here
        with tqdm(total=len(futures), desc=db, unit="file", disable=not shown) as bar:
            for future in as_completed(futures):
                future.result()  # the first failure ends the run
                bar.update()
    finally:
        # After a failure or Ctrl-C, start no further files; those in flight finish (or are
        # removed by pooch) before this returns.
        pool.shutdown(cancel_futures=True)


def fetch_physionet(db: str, data_dir: str | os.PathLike | None = None,
                    base_url: str | None = None, version: str = "1.0.0",
                    records: list[str] | None = None, progress: bool = True,
                    workers: int = 4, retries: int = 3) -> Path:
    """Download a PhysioNet database into ``<data_dir>/<db>/``, verifying every file's sha256.

    Files already present with the right sha256 are not downloaded again, so an interrupted run
    is finished by running it again; the file that was in flight starts over from its first byte.

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
        Further tries for a file after a failed one (pooch's ``retry_if_failed``).

    Returns
    -------
    Path
        The database folder, ``<data_dir>/<db>``.

    Raises
    ------
    DataError
        A file or manifest that cannot be downloaded (names the file, or the manifest's URL), a
        checksum that does not match after the retries (names the file and both hashes), a
        published checksum that differs from the course's pinned one, or an unknown record.
    """
    if db not in DATABASES:
        raise ValueError(f"db: expected one of {', '.join(DATABASES)}, got {db!r}")
    if workers < 1:
        raise ValueError(f"workers: expected at least 1, got {workers}")
    if retries < 0:
        raise ValueError(f"retries: expected 0 or more, got {retries}")
    remote = f"{physionet_url(base_url)}/{db}/{version}"
    folder = resolve_data_dir(data_dir) / db

    with _pooch_quiet():
        published, listed = _read_manifests(remote, retries)
        _check_pins(db, published, pinned_checksums(db, version))
        files = _select_files(db, published, listed, records)
        if records is not None:
            files.pop(RECORDS, None)  # the local RECORDS lists what is here, not the server's
        # Setting aside the files already here hashes each of them once (pooch would hash them
        # again) and gives the progress bar its true total.
        missing = {path: digest for path, digest in files.items()
                   if not _is_verified(folder / path, digest)}
        registry = pooch.create(folder, f"{remote}/", registry=missing, retry_if_failed=retries)
        _download_all(registry, db, progress, workers)
    folder.mkdir(parents=True, exist_ok=True)
    if records is not None or RECORDS not in published:
        _write_records(folder, listed, published)
    if progress:
        print(f"{db}: {len(missing)} files downloaded, {len(files) - len(missing)} already "
              f"present, in {folder}", file=sys.stderr)
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
        raise DataError(f"kagglehub could not download {KAGGLE_DATASET} ({_reason(exc)})") from None


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
                    shutil.copyfileobj(src, dst)
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
