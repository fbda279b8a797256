"""Read and write beat datasets in the format of the Kaggle "heartbeat" CSVs.

The four files of the Kaggle dataset (``shayanfazeli/heartbeat``, Kachuee et al. 2018):

=======================  ======  ======================================
file                     rows    labels
=======================  ======  ======================================
``mitbih_train.csv``     87,554  0..4 = N, S, V, F, Q
``mitbih_test.csv``      21,892  0..4
``ptbdb_normal.csv``      4,046  0 (healthy control)
``ptbdb_abnormal.csv``   10,506  1 (myocardial infarction)
=======================  ======  ======================================

Format: **no header row**; each row holds 187 samples (125 Hz, values in [0, 1]) and then the
label written as a float (``0.0``). Reading such a file with a header row, as ``pd.read_csv(path)``
does by default, silently loses its first beat.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..config import BEAT_LENGTH
from ..errors import DataError

MITBIH_FILES = ("mitbih_train.csv", "mitbih_test.csv")
PTB_FILES = ("ptbdb_normal.csv", "ptbdb_abnormal.csv")


def read_csv(path: str | os.PathLike, n_classes: int = 5,
             length: int = BEAT_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Read one Kaggle-format CSV.

    Parameters
    ----------
    path : path
        A CSV file without a header row, ``length + 1`` numbers a row.
    n_classes : int
        Labels must be whole numbers in ``0 .. n_classes-1``.

    Returns
    -------
    X : ndarray, shape (n, length), float32
    y : ndarray, shape (n,), int64

    Raises
    ------
    DataError
        Missing file, empty file, a header row, a row with the wrong number of columns, a value
        that is not a number, NaN, or a label out of range; the message names file and row.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    width = length + 1
    values = _read_clean(path, width)
    if values is None:
        values = _read_careful(path, length)
    if np.array_equal(values[0], np.arange(width)):
        raise DataError(f"{path}: row 1 looks like a header row (0, 1, 2, ...); the format has none")
    labels = values[:, -1]
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= n_classes))
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{path}: row {row + 1} has label {labels[row]:g}, expected a whole "
                        f"number in 0..{n_classes - 1}")
    return values[:, :length].astype(np.float32), labels.astype(np.int64)


def _read_clean(path: Path, width: int) -> np.ndarray | None:
    """The fast path: the whole file as float64 when it parses cleanly, else None."""
    import pandas as pd

    # pandas 3 parses floats correctly rounded by default; pandas 2 needs to be asked.
    precise = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    try:
        values = pd.read_csv(path, header=None, dtype=np.float64, skip_blank_lines=True,
                             **precise).to_numpy()
    except (ValueError, TypeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None  # UnicodeDecodeError is a ValueError
    if values.ndim != 2 or values.shape[1] != width or len(values) == 0 or np.isnan(values).any():
        return None
    return values


def _read_careful(path: Path, length: int) -> np.ndarray:
    """The slow path: read as text and name the first row that is wrong (raises DataError)."""
    import pandas as pd

    width = length + 1
    try:
        # Read as text first: a row with too many columns must not silently shift the others.
        table = pd.read_csv(path, header=None, dtype=str, names=range(width + 1),
                            skip_blank_lines=True, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty") from None
    except pd.errors.ParserError as exc:
        found = re.search(r"line (\d+), saw (\d+)", str(exc))
        if found:
            raise DataError(f"{path}: row {found[1]} has {found[2]} columns, expected {width} "
                            f"({length} samples and a label)") from None
        raise DataError(f"{path}: not a CSV file ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file") from None
    if len(table) == 0:
        raise DataError(f"{path}: file is empty")

    filled = (table != "").to_numpy()
    n_columns = np.where(filled.any(axis=1), filled.shape[1] - np.argmax(filled[:, ::-1], axis=1), 0)
    bad = np.flatnonzero(n_columns != width)
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{path}: row {row + 1} has {n_columns[row]} columns, expected {width} "
                        f"({length} samples and a label)")
    try:
        values = table.iloc[:, :width].to_numpy(dtype=np.float64)
    except ValueError:
        numeric = table.iloc[:, :width].apply(pd.to_numeric, errors="coerce")
        row = int(np.flatnonzero(numeric.isna().any(axis=1).to_numpy())[0])
        what = "looks like a header row" if row == 0 else "holds a value that is not a number"
        raise DataError(f"{path}: row {row + 1} {what}") from None
    nan_rows = np.flatnonzero(np.isnan(values).any(axis=1))
    if nan_rows.size:
        raise DataError(f"{path}: row {nan_rows[0] + 1} contains NaN ({nan_rows.size} rows do)")
    return values


def write_csv(path: str | os.PathLike, X: np.ndarray, y: np.ndarray) -> Path:
    """Write beats and labels as a Kaggle-format CSV (no header, samples then a float label).

    Parameters
    ----------
    X : ndarray, shape (n, 187)
    y : ndarray, shape (n,), int

    Returns
    -------
    Path of the written file.
    """
    path = Path(path)
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise DataError(f"{path}: need X of shape (n, length) and y of shape (n,), "
                        f"got {X.shape} and {y.shape}")
    table = np.column_stack([X.astype(np.float64), y.astype(np.float64)])
    path.parent.mkdir(parents=True, exist_ok=True)
    # float32 values need 9 significant digits to survive the round trip exactly; the label is
    # written as a float ("0.0"), as in the Kaggle files.
    np.savetxt(path, table, delimiter=",", fmt=["%.9g"] * X.shape[1] + ["%.1f"])
    return path


def find_csvs(data_dir: str | os.PathLike, names: tuple[str, ...]) -> list[Path] | None:
    """The Kaggle CSVs ``names`` in ``data_dir`` or ``data_dir/kaggle``, or None if any is missing."""
    for folder in (Path(data_dir), Path(data_dir) / "kaggle"):
        paths = [folder / name for name in names]
        if all(p.is_file() for p in paths):
            return paths
    return None
