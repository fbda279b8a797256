"""The language the checks are written in: cases of calls, and comparisons with clear messages.

A check is a list of :class:`Case`; each case calls the student's function on one or more inputs
(:class:`Call`) and compares every result with what the reference returns for the same input.
A case passes when all its calls do. Comparisons return ``None`` for a match, else one sentence
for the student: what is wrong, never how the reference does it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .worker import Opaque, Tensorlike


@dataclass
class Call:
    """One call of the function under test.

    ``about`` says where the input comes from ("synthetic ECG '100', window 0"), for the
    student's failure message; set it with :meth:`on`.
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    about: str = ""

    def on(self, about: str) -> "Call":
        """This call, labelled with where its input comes from."""
        self.about = about
        return self


def call(*args, **kwargs) -> Call:
    return Call(args, kwargs)


@dataclass(frozen=True)
class Raised:
    """The reference raised: the student's code must raise an exception of the same type."""

    type: str
    message: str


Comparison = Callable[[Any, Any], "str | None"]


@dataclass
class Case:
    """A named group of calls that pass or fail together.

    Attributes
    ----------
    name : str
        What the case tries, in the student's words ("a window with one constant row").
    calls : list of Call
    compare : callable
        ``compare(actual, expected) -> None | str``.
    hint : str
        Shown when the case fails.
    figure : str, optional
        The kind of picture that explains a failure in the notebook (see ``autograder.feedback``).
    """

    name: str
    calls: list
    compare: Comparison
    hint: str = ""
    figure: str | None = None


# --- showing values --------------------------------------------------------------------------------

def show(value: Any, width: int = 110) -> str:
    """A short, readable description of a value: type, dtype, shape and the first numbers."""
    if isinstance(value, Tensorlike):
        return "torch tensor " + show(value.array, width)[len("array "):]
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=4, threshold=12, edgeitems=3,
                               max_line_width=10**6, separator=", ")
        body = " ".join(body.split())
        if len(body) > width:
            body = body[: width - 3] + "..."
        return f"array of {value.dtype}, shape {value.shape}: {body}"
    if isinstance(value, Raised):
        return f"raises {value.type}"
    if isinstance(value, Opaque):
        return f"a {value.type_name} object ({value.text[:width]})"
    if isinstance(value, (np.generic,)):
        return f"{value!r} ({type(value).__name__})"
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# --- comparisons --------------------------------------------------------------------------------------

def _as_array(actual: Any, what: str) -> tuple[np.ndarray | None, str | None]:
    if isinstance(actual, Tensorlike):
        return None, f"returned a torch tensor; return a numpy {what}"
    if isinstance(actual, (list, tuple)):
        return None, f"returned a {type(actual).__name__}; return a numpy {what} (np.asarray)"
    if not isinstance(actual, np.ndarray):
        return None, f"returned {show(actual)}; expected a numpy {what}"
    return actual, None


def arrays_close(atol: float = 1e-6, rtol: float = 1e-6, same_dtype: bool = False) -> Comparison:
    """Floating arrays: same shape, no NaN where none is expected, values within tolerance.

    ``same_dtype``: the dtype must be the expected one too (where the contract says that a
    function keeps its input's dtype); otherwise any numeric dtype will do.
    """

    def compare(actual, expected):
        actual, problem = _as_array(actual, "array")
        if problem:
            return problem
        if actual.shape != expected.shape:
            return f"shape {actual.shape}, expected {expected.shape}"
        if actual.dtype.kind not in "biuf":
            return f"dtype {actual.dtype}; expected numbers"
        if same_dtype and actual.dtype != expected.dtype:
            return f"dtype {actual.dtype}, expected {expected.dtype}"
        actual = actual.astype(np.float64)
        if np.isnan(actual).any() and not np.isnan(expected).any():
            where = tuple(int(i) for i in np.argwhere(np.isnan(actual))[0])
            return f"contains NaN (first at index {where if len(where) > 1 else where[0]})"
        if not np.allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True):
            diff = np.abs(actual - expected)
            where = np.unravel_index(np.nanargmax(diff), diff.shape)
            where = tuple(int(i) for i in where)
            index = where if len(where) > 1 else where[0]
            return (f"wrong values: at index {index} got {actual[where]:.6g}, expected "
                    f"{expected[where]:.6g} ({int((diff > atol + rtol * np.abs(expected)).sum())} "
                    f"of {diff.size} values differ)")
        return None

    return compare


def same_indices() -> Comparison:
    """Index arrays: int64 (the course's index dtype, on every platform), same values, in order."""

    def compare(actual, expected):
        actual, problem = _as_array(actual, "array of int64 indices")
        if problem:
            return problem
        if actual.dtype.kind not in "iu":
            return f"dtype {actual.dtype}; indices must be integers (int64)"
        if actual.ndim != 1:
            return f"shape {actual.shape}; expected a 1-D array of indices"
        missing = sorted(set(expected.tolist()) - set(actual.tolist()))
        extra = sorted(set(actual.tolist()) - set(expected.tolist()))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {_few(missing)}")
            if extra:
                parts.append(f"unexpected {_few(extra)}")
            return (f"found {len(actual)} indices, expected {len(expected)}: " + "; ".join(parts))
        if not np.array_equal(actual, expected):
            return "the right indices, but not in increasing order (or repeated)"
        if actual.dtype != np.int64:
            # np.flatnonzero and friends give np.intp, which is int32 on some platforms
            return f"the right indices, but of dtype {actual.dtype}; indices are int64 (.astype(np.int64))"
        return None

    return compare


def _few(values: list, n: int = 6) -> str:
    text = ", ".join(str(v) for v in values[:n])
    return text + (f" ... ({len(values)} in all)" if len(values) > n else "")


def same_number(atol: float = 1e-9) -> Comparison:
    """A real number (Python or numpy scalar, not an array) equal within ``atol``."""

    def compare(actual, expected):
        if isinstance(actual, np.ndarray) and actual.ndim == 0:
            actual = actual.item()
        if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, float, np.number)):
            return f"returned {show(actual)}; expected a number"
        if not abs(float(actual) - float(expected)) <= atol:
            return f"returned {float(actual):.6g}, expected {float(expected):.6g}"
        return None

    return compare


def same_value() -> Comparison:
    """Exactly the expected value and kind: an int (not a bool, not a float) or None."""

    def compare(actual, expected):
        if expected is None:
            return None if actual is None else f"returned {show(actual)}, expected None"
        if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, np.integer)):
            return f"returned {show(actual)}; expected the int {expected!r}"
        return None if int(actual) == expected else f"returned {actual!r}, expected {expected!r}"

    return compare


def check_raised(actual_error: dict | None, expected: Raised) -> str | None:
    """The student's call must raise the same exception type as the reference (or a subclass)."""
    if actual_error is None:
        return f"returned normally; expected it to raise {expected.type}"
    if expected.type not in actual_error.get("mro", [actual_error["type"]]):
        return f"raised {actual_error['type']}; expected {expected.type}"
    return None
