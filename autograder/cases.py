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
    #: a second expected value, from a library that computes the same thing (scikit-learn,
    #: torch.nn.functional), computed here in the grader: the result must match it too
    oracle: Any = None
    oracle_name: str = ""

    def on(self, about: str) -> "Call":
        """This call, labelled with where its input comes from."""
        self.about = about
        return self

    def against(self, value: Any, name: str) -> "Call":
        """This call, also compared with ``value``, what the library ``name`` computes."""
        self.oracle, self.oracle_name = value, name
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


# --- comparisons of lesson 3 (training and evaluation) --------------------------------------------

def _no_tensor(actual, what: str) -> str | None:
    if isinstance(actual, Tensorlike):
        return (f"returned a torch tensor ({actual.dtype}, on {actual.device}); expected {what} "
                f"(.item() for a single number, .cpu().numpy() for many)")
    return None


def same_tensor(dtype: str = "torch.float32", atol: float = 1e-6) -> Comparison:
    """A torch tensor of ``dtype`` with the expected values (within ``atol``)."""
    values = arrays_close(atol=atol, rtol=1e-6)

    def compare(actual, expected):
        if not isinstance(actual, Tensorlike):
            return f"returned {show(actual)}; expected a torch tensor ({dtype.replace('torch.', '')})"
        if actual.dtype != dtype:
            return f"a tensor of dtype {actual.dtype}, expected {dtype}"
        want = expected.array if isinstance(expected, Tensorlike) else np.asarray(expected)
        return values(actual.array, want)

    return compare


def same_counts() -> Comparison:
    """A numpy int64 array equal to the expected one, element for element."""

    def compare(actual, expected):
        problem = _no_tensor(actual, "a numpy array")
        if problem:
            return problem
        actual, problem = _as_array(actual, "int64 array")
        if problem:
            return problem
        if actual.shape != expected.shape:
            return f"shape {actual.shape}, expected {expected.shape}"
        if actual.dtype.kind not in "iu":
            return f"dtype {actual.dtype}; expected whole numbers (int64)"
        differ = actual != expected
        if differ.any():
            first = tuple(np.argwhere(differ)[0])
            return (f"wrong counts: at {_index(first)} got {actual[first]}, expected "
                    f"{expected[first]}; {int(differ.sum())} of {actual.size} entries differ")
        if actual.dtype != np.int64:
            return f"the right counts, but of dtype {actual.dtype}; expected int64 (.astype(np.int64))"
        return None

    return compare


def same_report(atol: float = 1e-9) -> Comparison:
    """The dict of exercise 3.5: every key, per-class arrays within ``atol``, floats for the rest."""
    values = arrays_close(atol=atol, rtol=1e-9)
    number = same_number(atol)

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}; expected a dict"
        missing = [k for k in expected if k not in actual]
        if missing:
            return f"the dict has no {', '.join(repr(k) for k in missing)}"
        for key, want in expected.items():
            got = actual[key]
            if isinstance(want, np.ndarray):
                problem = _no_tensor(got, "a numpy array") or values(got, want)
                if not problem and key == "support" and np.asarray(got).dtype.kind not in "iu":
                    problem = f"dtype {np.asarray(got).dtype}; counts are whole numbers (int64)"
            elif isinstance(got, np.ndarray):
                problem = (f"{show(got)}; expected a single float, not an array "
                           f"(float(...) makes one)")
            else:
                problem = number(got, want)
            if problem:
                return f"{key!r}: {problem}"
        return None

    return compare


def trained_like(atol: float = 1e-5) -> Comparison:
    """For :func:`autograder.probes.train_epoch`: the returned mean loss, the parameters after
    the epoch, the number of optimizer steps and the train/eval mode are the reference's."""
    params = arrays_close(atol=atol, rtol=1e-4)
    loss = same_number(atol=1e-5)

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        value = actual.get("value")
        problem = _no_tensor(value, "a float")
        if problem:
            return problem
        if isinstance(value, float) is False and not isinstance(value, (int, np.floating)):
            return f"returned {show(value)}; expected the mean loss per beat, a float"
        if actual.get("steps") != expected["steps"]:
            return (f"called optimizer.step() {_plural(actual.get('steps') or 0, 'time')}, "
                    f"expected {expected['steps']} (once per batch)")
        if actual.get("training") != expected["training"]:
            return "left the model in eval mode; expected model.train() before the first batch"
        if actual.get("names_after") != expected["names_after"] \
                or len(actual.get("parameters") or []) != len(expected["parameters"]):
            return ("changed which parameters the model has; expected the same parameters, "
                    "trained in place by the optimizer")
        for (name, a), (_, e) in zip(actual.get("parameters") or [], expected["parameters"]):
            problem = params(a, e)
            if problem:
                return (f"the parameters after the epoch are not the reference's ({name}: "
                        f"{problem})")
        problem = loss(value, expected["value"])
        return f"the mean loss: {problem}" if problem else None

    return compare


def predicted_like() -> Comparison:
    """For :func:`autograder.probes.predict_on`: the labels, a numpy int64 array; every forward
    pass without gradients, in eval mode, within the batch size; the mode put back."""
    labels = same_counts()

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if "raised" in expected:        # the model raised (probes.predict_on, model_raises)
            if actual.get("raised") != expected["raised"]:
                what = ("returned normally" if actual.get("raised") is None
                        else f"raised {actual['raised']}")
                return (f"{what} where the model raises {expected['raised']}; expected the model's "
                        f"error to reach the caller")
            if actual.get("training_after") != expected["training_after"]:
                return ("left the model in eval mode when the model raised; expected train mode, "
                        "the mode it was in before: put it back in a finally block")
            return None
        forwards, wanted = actual.get("forwards") or [], expected["forwards"]
        inner = actual.get("first_layer") or []
        if any(grad for _, grad, _ in inner) or any(train for _, _, train in inner):
            forwards = forwards + [{"shape": [n], "grad": grad, "training": train}
                                   for n, grad, train in inner]
        elif sum(n for n, _, _ in inner) != sum(f["shape"][0] for f in forwards):
            return ("the model's layers saw other beats than the model's forward passes "
                    "(model.forward(x) or a layer called directly?); expected model(x) for every "
                    "batch")
        if actual.get("dtypes_after") != expected["dtypes_after"]:
            return (f"changed the model's dtype to {', '.join(actual.get('dtypes_after') or [])}; "
                    f"expected it left as it was ({', '.join(expected['dtypes_after'])}): convert "
                    f"the beats to the model's dtype, not the model")
        if any(f.get("grad") for f in forwards):
            return ("the model ran with gradients recorded; expected every forward pass without "
                    "them: wrap the forward passes in torch.no_grad() (less memory, and nothing "
                    "to backpropagate)")
        if any(f.get("training") for f in forwards):
            return ("the model ran in train mode (dropout on, batch norm on batch statistics); "
                    "expected eval mode: call model.eval() first")
        limit = max(f["shape"][0] for f in wanted) if wanted else 0
        sizes = [f["shape"][0] for f in forwards]
        if wanted and sizes and max(sizes) > limit:
            return (f"a forward pass of {max(sizes)} beats, expected at most {limit} (batch_size): "
                    f"run the model on X[i : i + batch_size]")
        if sizes != [f["shape"][0] for f in wanted] and sum(sizes) != sum(f["shape"][0] for f in wanted):
            return f"the forward passes saw {sum(sizes)} beats in all, expected {sum(f['shape'][0] for f in wanted)}"
        if wanted and forwards and forwards[0]["shape"][1:] != wanted[0]["shape"][1:]:
            return (f"the model got batches of shape {tuple(forwards[0]['shape'])}, expected "
                    f"{tuple(wanted[0]['shape'])}: a 2-D input (N, 187) needs its channel axis")
        if actual.get("training_after") != expected["training_after"]:
            mode = "train" if expected["training_after"][0] else "eval"
            return (f"left the model (or some of its layers) in another mode than it was in; "
                    f"expected {mode} mode for every layer, as before: put it back with "
                    f"model.train(was_training), which sets every layer, not model.training = ...")
        problem = labels(actual.get("value"), expected["value"])
        return f"the labels: {problem}" if problem else None

    return compare


def same_loss(atol: float = 1e-6) -> Comparison:
    """For :func:`autograder.probes.loss_on`: a scalar tensor with the expected value, and the
    expected gradient at the logits."""
    value = same_number(atol=atol)
    grad = arrays_close(atol=1e-6, rtol=1e-5)

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        got = actual.get("value")
        if expected.get("module") and not actual.get("module"):
            return ("FocalLoss(...) is not an nn.Module; expected a class derived from nn.Module "
                    "(so that .to(device) moves it, as the training loop does)")
        if not isinstance(got, Tensorlike):
            return f"the loss is {show(got)}; expected a scalar torch tensor (to call .backward() on)"
        behind = [n for n in actual.get("left_behind") or [] if n not in expected.get("left_behind", [])]
        if behind:
            return (f"the tensor {_few(behind, 3)} stays where it is when the loss is moved "
                    f"(loss_fn.to(device) moves only parameters and buffers); expected it to move "
                    f"with the loss, as a buffer (self.register_buffer)")
        if np.shape(got.array) != ():
            return (f"the loss has shape {np.shape(got.array)}; expected a scalar, the mean over "
                    f"the beats")
        problem = value(float(got.array), float(expected["value"].array
                                              if isinstance(expected["value"], Tensorlike)
                                              else expected["value"]))
        if problem:
            return f"the loss: {problem}"
        if actual.get("logits_gradient") is None:
            return ("no gradient reaches the logits, expected one: the loss must be computed from "
                    "them with torch operations (no .item(), .detach() or numpy)")
        problem = grad(actual["logits_gradient"], expected["logits_gradient"])
        return f"the gradient with respect to the logits: {problem}" if problem else None

    return compare


# --- comparisons of lesson 4 (transfer) -------------------------------------------------------------

def head_replaced() -> Comparison:
    """For :func:`autograder.probes.replace_head_on`: the same model, every layer but the last
    Linear as it was, a fresh trainable Linear(in_features, n_classes) last."""

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if not actual.get("returned_model"):
            return ("did not return the model it was given; expected the same model object back "
                    "(change it in place and return it)")
        if actual.get("settings_changed"):
            return (f"changed requires_grad of {_few(actual['settings_changed'], 3)}; expected "
                    f"only the head replaced (freezing is set_trainable's job)")
        if actual.get("mode_changed"):
            return "changed the train/eval mode of the model; expected only the head replaced"
        if actual.get("gone"):
            return (f"removed or renamed other layers' parameters: {_few(actual['gone'], 3)}; "
                    f"expected every layer but the last Linear where it was")
        if actual.get("changed"):
            return (f"changed the weights of {_few(actual['changed'], 3)}; expected only the last "
                    f"Linear to be replaced, every other layer as it was")
        head, want = actual.get("head"), expected["head"]
        names = [n for n, _ in actual.get("layers") or []]
        wanted = [n for n, _ in expected["layers"]]
        if head is None or names != wanted:
            return (f"the Conv1d/Linear layers are now {names}, expected {wanted}: put the new "
                    f"layer where the last Linear was (setattr on its parent module)")
        if (head["in"], head["out"]) != (want["in"], want["out"]):
            return (f"the last layer is Linear({head['in']}, {head['out']}), expected "
                    f"Linear({want['in']}, {want['out']})")
        if not head["new_object"] or head["fresh"] is False:
            return ("the last layer keeps the old layer's weights; expected a fresh nn.Linear "
                    "(new random weights)")
        if not head["trainable"]:
            return ("the new last layer is frozen (requires_grad False); expected a trainable one, "
                    "as a fresh nn.Linear is")
        if head["bias"] != want["bias"] or head["dtype"] != want["dtype"]:
            return f"the new layer has bias={head['bias']}, dtype {head['dtype']}; expected " \
                   f"bias={want['bias']}, dtype {want['dtype']} (the old layer's dtype)"
        if head.get("device") != want.get("device"):
            return (f"the new layer is on the {head.get('device')} device, expected the "
                    f"{want.get('device')} device of the model: put it on the old layer's device")
        if actual.get("output_error") and not expected.get("output_error"):
            return (f"the model no longer runs ({actual['output_error']}); expected an output of "
                    f"shape {expected['output_shape']}")
        if actual.get("output_shape") != expected["output_shape"]:
            return f"the model's output has shape {actual.get('output_shape')}, expected {expected['output_shape']}"
        return None

    return compare


def same_trainable() -> Comparison:
    """For :func:`autograder.probes.set_trainable_on`: after each call, the same parameters
    trainable as the reference's, and the model returned."""

    def compare(actual, expected):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"returned {show(actual)}"
        for a, e in zip(actual, expected):
            call_text = f"set_trainable(model, {e['n_trainable']})"
            if not a.get("returned_model"):
                return f"{call_text} did not return the model; expected the model it was given"
            if a.get("changed"):
                return (f"{call_text} changed the values of {_few(a['changed'], 3)}; expected only "
                        f"requires_grad set, the weights left as they are")
            mine, theirs = dict(a.get("trainable") or []), dict(e["trainable"])
            wrong_on = [n for n, t in theirs.items() if t and not mine.get(n)]
            wrong_off = [n for n, t in theirs.items() if not t and mine.get(n)]
            if wrong_on or wrong_off:
                parts = []
                if wrong_off:
                    parts.append(f"{_few(wrong_off, 3)} trainable, expected frozen")
                if wrong_on:
                    parts.append(f"{_few(wrong_on, 3)} frozen, expected trainable")
                return f"after {call_text}: " + "; ".join(parts)
        return None

    return compare


# --- comparisons of lesson 5 (interpretation) ----------------------------------------------------

def _left_as_found(actual: dict, expected: dict, what: str) -> str | None:
    """What a function that only looks at a model must not do to it (see
    :func:`autograder.probes._watched_call`): hooks left, mode, ``.grad``, ``requires_grad``,
    weights or the input changed, forward passes in train mode."""
    if actual.get("hooks_left"):
        return (f"left {_plural(actual['hooks_left'], 'hook')} on the model; expected every hook "
                f"{what} registers removed again (handle.remove(), in a finally: block)")
    if actual.get("training_after") != expected.get("training_after"):
        return ("changed the model's train/eval mode; expected it put back as it was "
                "(remember model.training before, and model.train(was_training) after)")
    passes, wanted = actual.get("passes") or [], expected.get("passes") or []
    if wanted and not passes and actual.get("raised") is None:
        return "never ran the model (its forward pass was not called)"
    if wanted and any(any(p["training"]) for p in passes) and not any(any(p["training"]) for p in wanted):
        return ("ran the model in train mode (dropout on, batch norm on the batch's statistics); "
                "expected eval mode during the forward pass (model.eval())")
    if actual.get("grads_changed"):
        return (f"changed .grad of {_few(actual['grads_changed'], 3)}; expected the parameters' "
                f"gradients left as they were (torch.autograd.grad(out, x) computes only the "
                f"input's)")
    if actual.get("settings_changed"):
        return (f"changed requires_grad of {_few(actual['settings_changed'], 3)}; expected every "
                f"parameter's requires_grad left as it was")
    if actual.get("weights_changed"):
        return f"changed the weights of {_few(actual['weights_changed'], 3)}; expected them untouched"
    if actual.get("input_changed"):
        return "changed the beats it was given (in place); expected them left as they were"
    return None


def _raised_as_expected(actual: dict, expected: dict) -> str | None:
    if expected.get("raised") and not actual.get("raised"):
        return f"returned normally; expected the model's {expected['raised']} to reach the caller"
    return None


def same_activations(atol: float = 1e-5) -> Comparison:
    """For :func:`autograder.probes.activations_on`: the same layers' outputs (detached tensors
    of the same shapes and values), no hook left, the model's mode put back."""

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        problem = _raised_as_expected(actual, expected) or _left_as_found(actual, expected,
                                                                          "capture_activations")
        if problem or expected.get("raised"):
            return problem
        value, want = actual.get("value"), expected["value"]
        if not isinstance(value, dict) or "dict" not in value:
            return f"returned {show(value)}; expected a dict {{layer name: tensor}}"
        mine, theirs = dict(value["dict"]), dict(want["dict"])
        if set(mine) != set(theirs):
            missing, extra = sorted(set(theirs) - set(mine)), sorted(set(mine) - set(theirs))
            parts = ([f"missing {_few(missing, 4)}"] if missing else []) + \
                    ([f"unexpected {_few(extra, 4)}"] if extra else [])
            return f"captured layers {list(mine)}; expected {list(theirs)} (" + "; ".join(parts) + ")"
        for name, w in theirs.items():
            a = mine[name]
            if not isinstance(a, dict) or "tensor" not in a:
                return f"[{name!r}] is {show(a)}; expected a torch tensor (the layer's output)"
            if a["attached"]:
                return (f"[{name!r}] is still attached to the autograd graph (requires_grad or "
                        f"grad_fn); expected output.detach() (or torch.no_grad())")
            got, exp = a["tensor"], w["tensor"]
            if got.shape != exp.shape:
                return f"[{name!r}] has shape {tuple(got.shape)}, expected {tuple(exp.shape)}"
            if not np.allclose(got, exp, atol=atol, rtol=1e-5):
                return f"[{name!r}] has other values: {_first_value_apart(got, exp, atol)}"
        return None

    return compare


def same_fields() -> Comparison:
    """For :func:`autograder.probes.fields_on`: the same ``{layer name: receptive field}``."""

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if actual.get("hooks_left") or actual.get("changed"):
            return "changed the model (hooks left or parameters changed); expected it only read"
        value, want = actual.get("value"), expected["value"]
        if not isinstance(value, dict):
            return f"returned {show(value)}; expected a dict {{layer name: receptive field}}"
        if list(value) != list(want):
            return f"has the layers {list(value)}; expected {list(want)} (the modules of features, in order)"
        for name, r in want.items():
            got = value[name]
            if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
                return f"[{name!r}] is {show(got)}; expected an int (a number of samples)"
            if int(got) != int(r):
                return f"[{name!r}] is {int(got)} samples, expected {int(r)}"
        return None

    return compare


def same_map(atol: float = 1e-5, what: str = "map") -> Comparison:
    """For :func:`autograder.probes.attribution_on`: the same ``(N, L)`` numpy map (saliency,
    Grad-CAM) to ``atol``, and the model left exactly as it was found."""

    def compare(actual, expected):
        if not isinstance(actual, dict):
            return f"returned {show(actual)}"
        if expected.get("raised"):
            if not actual.get("raised"):
                return f"returned normally; expected the model's {expected['raised']} to reach the caller"
            return _left_as_found(actual, expected, what)
        problem = _left_as_found(actual, expected, what)
        if problem:
            return problem
        value = actual.get("value")
        if isinstance(value, dict) and "tensor" in value:
            return (f"returned a torch tensor ({value['dtype']}); return a numpy array "
                    f"(.detach().cpu().numpy())")
        got, problem = _as_array(value, "array")
        if problem:
            return problem
        exp = expected["value"]
        if got.shape != exp.shape:
            return f"shape {got.shape}, expected {exp.shape} (one row of {exp.shape[-1]} per beat)"
        if not np.all(np.isfinite(got)):
            return ("contains NaN or infinity; expected finite values (a row whose maximum is 0 "
                    "stays zeros: never divide by 0)")
        if not np.allclose(got, exp, atol=atol, rtol=1e-4):
            return f"other values: {_first_value_apart(got, exp, atol)}"
        return None

    return compare


def top_k_like(means: np.ndarray) -> Comparison:
    """For ``top_activating``: ``k`` distinct int64 indices whose mean activations (``means``,
    computed here from the call's input) are the ``k`` largest, largest first. Beats with equal
    means may come in either order."""
    means = np.asarray(means, dtype=np.float64)

    def compare(actual, expected):
        actual, problem = _as_array(actual, "array of int64 indices")
        if problem:
            return problem
        if actual.dtype.kind not in "iu":
            return f"dtype {actual.dtype}; indices must be integers (int64)"
        if actual.shape != expected.shape:
            return f"shape {actual.shape}, expected {expected.shape} (k indices)"
        if len(set(actual.tolist())) != len(actual):
            return f"repeats an index: {_few(actual.tolist())}"
        if actual.size and (actual.min() < 0 or actual.max() >= len(means)):
            return f"indices {_few(actual.tolist())} outside 0..{len(means) - 1}"
        got, want = means[actual], means[expected]
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            k = int(np.flatnonzero(~np.isclose(got, want, rtol=1e-9, atol=1e-12))[0])
            return (f"place {k} is beat {int(actual[k])} (mean {got[k]:.6g}), expected a beat of "
                    f"mean {want[k]:.6g} (beat {int(expected[k])}): the k largest means, largest first")
        if actual.dtype != np.int64:
            return f"the right beats, but of dtype {actual.dtype}; indices are int64 (.astype(np.int64))"
        return None

    return compare


def _first_value_apart(actual: np.ndarray, expected: np.ndarray, atol: float) -> str:
    """Where two arrays of one shape first differ by more than ``atol``, with both values."""
    bad = np.argwhere(~np.isclose(actual, expected, atol=atol, rtol=1e-4))
    first = tuple(int(i) for i in bad[0])
    return (f"the first difference is at index {_index(first)}: got {_number(actual[first])}, "
            f"expected {_number(expected[first])} ({len(bad):,} of {actual.size:,} values differ)")
