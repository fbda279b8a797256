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
    #: the name of a function of :mod:`autograder.probes` that runs the object under test
    #: (``probe(obj, *args, **kwargs)``) and reduces what it does to data; None: call it directly
    probe: str | None = None

    def on(self, about: str) -> "Call":
        """This call, labelled with where its input comes from."""
        self.about = about
        return self


def call(*args, **kwargs) -> Call:
    return Call(args, kwargs)


def probe(name: str, *args, **kwargs) -> Call:
    """A call through the probe ``name``: ``probes.name(student_object, *args, **kwargs)`` in the
    worker, ``probes.name(reference_object, *args, **kwargs)`` in the grader."""
    return Call(args, kwargs, probe=name)


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
        inner = show(value.array, width) if isinstance(value.array, np.ndarray) else repr(value.array)
        return f"torch tensor ({value.dtype.replace('torch.', '')}, on {value.device}) " \
               + inner.split(", ", 1)[-1]
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
        return None, (f"returned a torch tensor ({actual.dtype}, on {actual.device}); return a "
                      f"numpy {what} (.detach().cpu().numpy())")
    if isinstance(actual, (list, tuple)):
        return None, f"returned a {type(actual).__name__}; return a numpy {what} (np.asarray)"
    if not isinstance(actual, np.ndarray):
        return None, f"returned {show(actual)}; expected a numpy {what}"
    return actual, None


def _plural(n: int, one: str, many: str | None = None) -> str:
    """``"1 index"``, ``"2 indices"``: a count with its noun in the right number."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _number(value) -> str:
    return "NaN" if np.isnan(value) else f"{value:.6g}"


def arrays_close(atol: float = 1e-6, rtol: float = 1e-6, same_dtype: bool = False) -> Comparison:
    """Floating arrays: same shape, no NaN where none is expected, values within tolerance.

    ``same_dtype``: the dtype must be the expected one too (where the contract says that a
    function keeps its input's dtype); otherwise any numeric dtype will do. A mismatch names the
    first differing position with both values (the previews of long arrays often look alike).
    """

    def compare(actual, expected):
        actual, problem = _as_array(actual, "array")
        if problem:
            return problem
        if actual.shape != expected.shape:
            return f"shape {actual.shape}, expected {expected.shape}" + _first_row_apart(actual, expected)
        if actual.dtype.kind not in "biuf":
            return f"dtype {actual.dtype}; expected numbers"
        if same_dtype and actual.dtype != expected.dtype:
            return f"dtype {actual.dtype}, expected {expected.dtype}"
        actual = actual.astype(np.float64)
        if np.isnan(actual).any() and not np.isnan(expected).any():
            where = _index(np.argwhere(np.isnan(actual))[0])
            return f"contains NaN (first at index {where}: expected {_number(expected[np.isnan(actual)][0])})"
        close = np.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
        if not close.all():
            wrong = np.argwhere(~close)
            first = tuple(int(i) for i in wrong[0])
            diff = np.abs(actual - expected)
            return (f"wrong values: {len(wrong)} of {diff.size} values "
                    f"{'differs' if len(wrong) == 1 else 'differ'}, the first at index "
                    f"{_index(first)}: got {_number(actual[first])}, expected "
                    f"{_number(expected[first])} (largest difference {np.nanmax(diff):.3g})")
        return None

    return compare


def _first_row_apart(actual: np.ndarray, expected: np.ndarray, atol: float = 1e-6) -> str:
    """For arrays that differ only in their number of rows: where the rows first part."""
    if (actual.ndim != expected.ndim or actual.ndim == 0 or actual.shape[1:] != expected.shape[1:]
            or actual.dtype.kind not in "biuf"):
        return ""
    n = min(len(actual), len(expected))
    head = np.isclose(actual[:n].astype(np.float64), expected[:n], atol=atol, rtol=atol, equal_nan=True)
    bad = np.argwhere(~head)
    what = "row" if actual.ndim > 1 else "value"
    if len(bad):
        first = tuple(int(i) for i in bad[0])
        return (f"; the first difference is at index {_index(first)}: got {_number(actual[first])}, "
                f"expected {_number(expected[first])}")
    if len(actual) < len(expected):
        return f"; the first {n:,} {what}s match, then yours end"
    return f"; the first {n:,} {what}s match, then yours go on"


def _index(where) -> str:
    """An array index as the student would write it: ``5`` in 1-D, ``(2, 17)`` in 2-D."""
    where = tuple(int(i) for i in where)
    return str(where[0]) if len(where) == 1 else str(where)


def _first_difference(actual: np.ndarray, expected: np.ndarray) -> str:
    """Where two 1-D arrays first part, with both values: "... at position 3: got 208, expected 207"."""
    n = min(len(actual), len(expected))
    differ = np.flatnonzero(actual[:n] != expected[:n])
    if differ.size:
        i = int(differ[0])
        return f"first difference at position {i}: got {actual[i]}, expected {expected[i]}"
    if len(actual) > n:
        return f"first difference at position {n}: got {actual[n]}, expected no more indices"
    return f"first difference at position {n}: your array ends there, expected {expected[n]}"


def same_indices() -> Comparison:
    """Index arrays: int64 (the course's index dtype, on every platform), same values, in order.

    A mismatch says what is missing or extra, and where the two first part, with both values.
    """

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
            parts.append(_first_difference(actual, expected))
            return (f"found {_plural(len(actual), 'index', 'indices')}, expected "
                    f"{len(expected)}: " + "; ".join(parts))
        if not np.array_equal(actual, expected):
            return ("the right indices, but not in increasing order (or repeated): "
                    + _first_difference(actual, expected))
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


# --- comparisons of probe results (models) -----------------------------------------------------------

def _layer_text(layer) -> str:
    kind, params = layer
    return f"{kind}(" + ", ".join(f"{n} {'×'.join(str(d) for d in shape) or 'scalar'}"
                                  for n, shape in params) + ")"


def same_layers() -> Comparison:
    """The layers with parameters, in forward order: same types and parameter shapes (the names
    of attributes do not matter; :func:`autograder.probes.layer_shapes` makes the lists)."""

    def shapes(layer):
        return [layer[0], [list(s) for _, s in layer[1]]]

    def compare(actual, expected):
        if not isinstance(actual, list):
            return f"returned {show(actual)}"
        for k, (a, e) in enumerate(zip(actual, expected), start=1):
            if shapes(a) != shapes(e):
                return (f"layer {k} with parameters (in the order forward uses them) is "
                        f"{_layer_text(a)}, expected {_layer_text(e)}")
        if len(actual) != len(expected):
            more = ("then yours has " + ", ".join(_layer_text(a) for a in actual[len(expected):][:3])
                    if len(actual) > len(expected) else
                    "then yours ends; expected next " + _layer_text(expected[len(actual)]))
            return (f"{_plural(len(actual), 'layer')} with parameters, expected {len(expected)}: "
                    f"the first {min(len(actual), len(expected))} match, {more}")
        return None

    return compare


def same_shapes() -> Comparison:
    """Output shapes and dtypes (:func:`autograder.probes.output_shapes`), one per input shape."""

    def compare(actual, expected):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"returned {show(actual)}"
        for (a_shape, a_dtype), (e_shape, e_dtype) in zip(actual, expected):
            if list(a_shape) != list(e_shape):
                return f"output of shape {tuple(a_shape)}, expected {tuple(e_shape)}"
            if a_dtype != e_dtype:
                return f"output of dtype {a_dtype}, expected {e_dtype}"
        return None

    return compare


def same_forward(atol: float = 1e-5, what: str = "output") -> Comparison:
    """A model's output with the grader's weights (:func:`autograder.probes.forward_with` or
    ``through_parts``): loaded without problem, input left alone, values within ``atol``; where
    blocks were stand-ins giving the reference's output, each block's input must be the
    reference's too."""
    values = arrays_close(atol=atol, rtol=1e-4)

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if actual.get("problem"):
            return f"cannot load the reference's weights: {str(actual['problem'])[:300]}"
        if actual.get("input_changed"):
            return ("changed its input tensor in place (an in-place operation such as x += y or "
                    "relu_ on x?); expected the input to stay as it was")
        built, wanted = actual.get("blocks_built") or [], expected.get("blocks_built") or []
        if wanted and built != wanted:
            first = next((k for k, (a, e) in enumerate(zip(built, wanted)) if a != e), None)
            if first is None:
                return (f"builds {_plural(len(built), 'ResidualBlock')}, expected {len(wanted)}")
            settings = ", ".join(f"{k}={v!r}" for k, v in built[first].items())
            right = ", ".join(f"{k}={v!r}" for k, v in wanted[first].items())
            return f"residual block {first + 1} is built as ResidualBlock({settings}), expected ResidualBlock({right})"
        mine, theirs = actual.get("block_inputs") or [], expected.get("block_inputs") or []
        if theirs and len(mine) != len(theirs):
            return (f"forward calls a ResidualBlock {_plural(len(mine), 'time')}, expected "
                    f"{len(theirs)} (each of the blocks once, in order)")
        for k, (a, e) in enumerate(zip(mine, theirs), start=1):
            problem = values(a, e)
            if problem:
                return (f"the input of residual block {k} is not what it should be: {problem} "
                        f"(everything before block {k} is the place to look)")
        if actual.get("output") is None:
            return "no output"
        problem = values(actual["output"], expected["output"])
        return f"{what}: {problem}" if problem else None

    return compare


def reaches_all_parameters(values: bool = True) -> Comparison:
    """A backward pass reaches every parameter and the input (:func:`autograder.probes.gradients`);
    with ``values``, the input's gradient (the grader's weights loaded) is the reference's."""
    gradient = arrays_close(atol=1e-5, rtol=1e-4)

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if actual.get("problem"):
            return f"cannot load the reference's weights: {str(actual['problem'])[:300]}"
        missing = [m for m in actual.get("without_gradient", [])
                   if isinstance(m, str) and m not in expected["without_gradient"]]
        if missing:
            return (f"no gradient reaches {_few(missing, 3)} (expected every parameter to get "
                    f"one): is that layer used in forward, or its output detached or replaced?")
        got = actual.get("input_gradient")
        if got is None:
            return ("no gradient reaches the input (expected one): is the output computed from it, "
                    "without .detach() or numpy in between?")
        problem = gradient(got, expected["input_gradient"]) if values else None
        return f"the gradient with respect to the input: {problem}" if problem else None

    return compare


def value_leaving_model(compare_value: Comparison) -> Comparison:
    """For :func:`autograder.probes.call_on_model`: the model is not changed, and the value
    passes ``compare_value``."""

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if actual.get("model_changed"):
            return ("changed the model (its weights, requires_grad or train/eval mode); expected it "
                    "to only look at the model")
        return compare_value(actual.get("value"), expected["value"])

    return compare
