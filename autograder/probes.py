"""Probes: trusted functions that reduce what is not data (a class, a model) to data.

A check that grades a model sends a call with ``probe="name"``. The worker runs
``name(student_object, *args, **kwargs)`` beside the student's code and sends back what it
returns; the grader runs the same probe on the reference object, here, and compares the two
results as data. So the comparison, and every expected value, stays in the grader.

The rules a probe keeps (the worker executes this file's text on its own, with the student's
package imported):

* it imports only the standard library, numpy and torch — nothing of the autograder;
* it takes the object under test first and returns plain data: numbers, strings, numpy arrays,
  lists, dicts, tuples (tensors become arrays; their dtype travels as a string);
* it receives inputs and weights, never an expected result;
* whatever it sets up on the model (hooks, seeds, gradients) it removes again, also when the
  student's code raises.

Models are matched by *behaviour*, not by attribute names: the layers that have parameters are
listed in the order ``forward`` calls them, so ``self.body = nn.Sequential(...)`` and one
attribute per layer, registered in any order, both pass. Lessons 3-5 reuse the same helpers
(``build``, ``forward_layers``, ``load_weights``) for training steps, hooks and gradients.
"""

from __future__ import annotations

import sys

import numpy as np

SEED = 0


def _torch():
    import torch
    return torch


def build(cls, args=(), kwargs=None, seed=SEED, stand_in=None):
    """``cls(*args, **kwargs)`` with torch's generator seeded, so weights are reproducible.

    ``stand_in`` (see :func:`stand_in_class`) builds the model with a class of its module — the
    block a network is made of — replaced by a stand-in made from data, so that a network is
    graded on its own code only. Returns the model, and the stand-in's record of calls.
    """
    torch = _torch()
    torch.manual_seed(seed)
    if not stand_in:
        return cls(*args, **(kwargs or {})), None
    module = sys.modules[cls.__module__]
    name = stand_in["class"]
    had, original = hasattr(module, name), getattr(module, name, None)
    block, calls = stand_in_class(stand_in, original)
    setattr(module, name, block)
    try:
        return cls(*args, **(kwargs or {})), calls
    finally:
        if had:
            setattr(module, name, original)
        else:
            delattr(module, name)


def as_tensor(x, dtype="float32"):
    """A new tensor with the values of ``x`` (a copy: the call's own array is never touched)."""
    torch = _torch()
    return torch.tensor(np.array(x), dtype=getattr(torch, dtype))


def to_array(t):
    """A tensor's values as a numpy array (float64 for floating tensors), for the grader."""
    array = t.detach().cpu().numpy()
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def _settings(original, args, kwargs):
    """How a block was built, as ``{parameter: value}`` with defaults filled in from the
    signature of the class it stands in for (so ``Block()`` and ``Block(32, 5)`` read alike)."""
    import inspect
    try:
        bound = inspect.signature(original).bind(*args, **kwargs)
        bound.apply_defaults()
        return {k: v for k, v in bound.arguments.items()
                if type(v) in (int, float, bool, str, type(None))}
    except (TypeError, ValueError):
        return {"args": [a for a in args if type(a) in (int, float, bool, str)],
                "kwargs": {k: v for k, v in kwargs.items() if type(v) in (int, float, bool, str)}}


def stand_in_class(spec, original=None):
    """A class that stands in for a building block, made only from data (no reference code).

    ``spec = {"class": name, "layers": [[kind, [[param, shape], ...]], ...], "pool": [k, s],
    "outputs": [array, ...] or None}``: each instance holds parameters of the shapes the
    reference block has (so counts and layer lists are the reference's), and its k-th call returns
    ``outputs[k]`` — the reference block's output — with the gradient of a max-pool of its input
    (so backward passes reach what comes before it). Without ``outputs`` it returns that max-pool.
    Returns the class and its record: ``calls`` (the input of each call) and ``settings`` (how
    each instance was built, see :func:`_settings`).
    """
    torch = _torch()
    calls = _Record()

    class Shaped(torch.nn.Module):
        """A layer of the stand-in: parameters of given shapes, nothing computed."""

        def __init__(self, kind, params):
            super().__init__()
            self.kind = kind
            for pname, shape in params:
                self.register_parameter(pname, torch.nn.Parameter(torch.zeros(*shape)))

        def forward(self):
            return None

    class StandIn(torch.nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()
            calls.settings.append(_settings(original, args, kwargs))
            self.layers = torch.nn.ModuleList(Shaped(k, p) for k, p in spec["layers"])

        def forward(self, x):
            for layer in self.layers:
                layer()                      # so that hooks see the layers in their order
            k = len(calls)
            calls.append(to_array(x))
            pooled = torch.nn.functional.max_pool1d(x, *spec["pool"])
            outputs = spec.get("outputs")
            if outputs is not None and k < len(outputs):
                forced = torch.as_tensor(np.asarray(outputs[k]), dtype=pooled.dtype)
                return forced + (pooled - pooled.detach())
            return pooled

    StandIn.__name__ = StandIn.__qualname__ = spec["class"]
    return StandIn, calls


class _Record(list):
    """The inputs a stand-in's calls received (the list), and how its instances were built."""

    def __init__(self):
        super().__init__()
        self.settings = []


def _has_own_parameters(module):
    return any(True for _ in module.parameters(recurse=False))


def forward_layers(model, x):
    """The model's modules that have parameters of their own, in the order ``forward`` first
    calls them (those it never calls follow in registration order)."""
    torch = _torch()
    order, handles = [], []

    def seen(module, inputs):
        if not any(module is m for m in order):
            order.append(module)

    try:
        for module in model.modules():
            if _has_own_parameters(module):
                handles.append(module.register_forward_pre_hook(seen))
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    for module in model.modules():
        if _has_own_parameters(module) and not any(module is m for m in order):
            order.append(module)
    return order


def _kind(module):
    return getattr(module, "kind", None) or type(module).__name__


def describe(module):
    """``[type name, [[parameter name, shape], ...]]`` of one layer."""
    return [_kind(module),
            [[name, list(p.shape)] for name, p in module.named_parameters(recurse=False)]]


def weights(cls, args=(), kwargs=None, input_shape=(2, 1, 187), seed=SEED):
    """The layers of ``cls(*args)`` in forward order with their parameters as arrays: what the
    grader sends to load into the student's model (:func:`load_weights`)."""
    model, _ = build(cls, args, kwargs, seed)
    x = as_tensor(np.zeros(input_shape))
    return [[_kind(m), [[n, to_array(p).astype(np.float32)] for n, p in m.named_parameters(recurse=False)]]
            for m in forward_layers(model, x)]


def load_weights(model, layers, x):
    """Copy ``layers`` (from :func:`weights`) into ``model``, layer by layer in forward order,
    parameter by parameter by name (else by order) and shape. Returns None, or what does not fit."""
    torch = _torch()
    mine = forward_layers(model, x)
    if len(mine) != len(layers):
        return (f"the model has {len(mine)} layers with parameters (in the order forward uses "
                f"them), expected {len(layers)}")
    for k, (module, (kind, params)) in enumerate(zip(mine, layers), start=1):
        own = list(module.named_parameters(recurse=False))
        names = [n for n, _ in own]
        if sorted(names) == sorted(n for n, _ in params):
            pairs = [(dict(own)[n], a, n) for n, a in params]
        elif len(own) == len(params):
            pairs = [(p, a, n) for (n, p), (_, a) in zip(own, params)]
        else:
            return (f"layer {k} ({_kind(module)}) has {len(own)} parameters "
                    f"({', '.join(names)}), expected {len(params)} as in a {kind}")
        for p, a, n in pairs:
            if tuple(p.shape) != tuple(np.shape(a)):
                return (f"layer {k} ({_kind(module)}): {n} has shape {tuple(p.shape)}, "
                        f"expected {tuple(np.shape(a))} as in a {kind}")
        with torch.no_grad():
            for p, a, _ in pairs:
                p.copy_(torch.as_tensor(np.asarray(a), dtype=p.dtype))
    return None


def _load(model, layers, x, calls=None):
    """Load the grader's ``layers`` (if any) into ``model``; returns what does not fit, or None.
    A stand-in's record of calls is emptied again (loading runs forward once)."""
    problem = load_weights(model, layers, x) if layers is not None else None
    if calls is not None:
        calls.clear()
    return problem


# --- probes of a model class ------------------------------------------------------------------------

def parameter_count(cls, args=(), kwargs=None, stand_in=None):
    """Counts the parameters of the model (each shared parameter once)."""
    model, _ = build(cls, args, kwargs, stand_in=stand_in)
    return int(sum(p.numel() for p in model.parameters()))


def layer_shapes(cls, args=(), kwargs=None, input_shape=(2, 1, 187), stand_in=None):
    """Lists the layers with parameters in the order forward uses them:
    ``[[type, [[name, shape], ...]], ...]``."""
    model, _ = build(cls, args, kwargs, stand_in=stand_in)
    return [describe(m) for m in forward_layers(model, as_tensor(np.zeros(input_shape)))]


def output_shapes(cls, args=(), kwargs=None, input_shapes=((2, 1, 187),), stand_in=None):
    """Runs the model on inputs of these shapes: ``[[output shape, dtype], ...]``."""
    torch = _torch()
    model, _ = build(cls, args, kwargs, stand_in=stand_in)
    rng = np.random.default_rng(1)
    shapes = []
    with torch.no_grad():
        for shape in input_shapes:
            out = model(as_tensor(rng.normal(size=shape)))
            shapes.append([list(out.shape), str(out.dtype)])
    return shapes


def forward_with(cls, args=(), kwargs=None, layers=None, x=None, stand_in=None):
    """Loads the reference's weights into the model and runs it on x.

    With ``stand_in`` (outputs included) every block gives the reference block's output, and
    the input each block received is recorded: a network is graded on how it wires its blocks.
    Returns ``{"problem", "output", "block_inputs", "input_changed"}``.
    """
    torch = _torch()
    model, calls = build(cls, args, kwargs, stand_in=stand_in)
    x = as_tensor(x)
    problem = _load(model, layers, x, calls)
    if problem:
        return {"problem": problem, "output": None, "block_inputs": [], "input_changed": False}
    before = x.clone()
    with torch.no_grad():
        out = model(x)
    return {"problem": None, "output": to_array(out), "block_inputs": list(calls or []),
            "blocks_built": list(calls.settings) if calls is not None else [],
            "input_changed": not torch.equal(before, x)}


def capture(cls, args=(), kwargs=None, layers=None, x=None, class_name=""):
    """The outputs of every call of a module of class ``class_name``, in order (what a
    stand-in gives, see :func:`stand_in_class`)."""
    torch = _torch()
    model, _ = build(cls, args, kwargs)
    x = as_tensor(x)
    problem = _load(model, layers, x)
    if problem:
        raise ValueError(problem)
    target = getattr(sys.modules.get(type(model).__module__), class_name)
    outputs, handles = [], []
    try:
        for module in model.modules():
            if isinstance(module, target):
                handles.append(module.register_forward_hook(
                    lambda m, i, o: outputs.append(to_array(o).astype(np.float32))))
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def through_parts(cls, args=(), kwargs=None, layers=None, x=None, stand_in=None):
    """Runs classifier(features(x).flatten(1)) with the reference's weights loaded, the way
    lessons 3-5 use a model. Returns ``{"problem", "output", "block_inputs"}``; ``x`` has
    shape ``(N, 1, L)``."""
    torch = _torch()
    model, calls = build(cls, args, kwargs, stand_in=stand_in)
    x = as_tensor(x)
    missing = [name for name in ("features", "classifier")
               if not isinstance(getattr(model, name, None), torch.nn.Module)]
    if missing:
        return {"problem": f"the model has no nn.Module attribute {' or '.join(missing)}",
                "output": None, "block_inputs": []}
    problem = _load(model, layers, x, calls)
    if problem:
        return {"problem": problem, "output": None, "block_inputs": []}
    with torch.no_grad():
        out = model.classifier(model.features(x).flatten(1))
    return {"problem": None, "output": to_array(out), "block_inputs": list(calls or [])}


def gradients(cls, args=(), kwargs=None, x=None, layers=None, stand_in=None):
    """Runs a backward pass from the output (the reference's weights loaded): which layers get
    no gradient, and the gradient with respect to the input. ``{"problem", "without_gradient",
    "input_gradient"}``."""
    torch = _torch()
    model, _ = build(cls, args, kwargs, stand_in=stand_in)
    x = as_tensor(x)
    problem = _load(model, layers, x)
    if problem:
        return {"problem": problem, "without_gradient": [], "input_gradient": None}
    order = forward_layers(model, x)
    x = x.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    out = model(x)
    weights_out = torch.as_tensor(np.random.default_rng(2).normal(size=tuple(out.shape)),
                                  dtype=out.dtype)
    (out * weights_out).sum().backward()
    without = [f"layer {k} ({_kind(m)}) {n}"
               for k, m in enumerate(order, start=1) for n, p in m.named_parameters(recurse=False)
               if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    return {"problem": None, "without_gradient": without,
            "input_gradient": None if x.grad is None else to_array(x.grad)}


# --- probes of a function of a model ---------------------------------------------------------------

def make_model(spec, frozen=(), train=True):
    """An ``nn.Sequential`` from ``spec``: ``[["Conv1d", [1, 4, 3]], ["same", 0], ...]``
    (``["same", k]`` repeats layer k, sharing its parameters); layers in ``frozen`` get
    ``requires_grad_(False)``."""
    torch = _torch()
    layers = []
    for kind, arguments in spec:
        layers.append(layers[arguments] if kind == "same" else getattr(torch.nn, kind)(*arguments))
    for k in frozen:
        layers[k].requires_grad_(False)
    return torch.nn.Sequential(*layers).train(train)


def call_on_model(function, spec, frozen=(), seed=SEED, **kwargs):
    """Calls your function on a small model and checks that the model is left as it was.

    ``function(model, **kwargs)`` on a model made from ``spec`` (see :func:`make_model`).
    Returns ``{"value": what it returned, "model_changed": bool}``.
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, frozen)
    before = ([t.clone() for t in model.state_dict().values()],
              [p.requires_grad for p in model.parameters()], [m.training for m in model.modules()])
    value = function(model, **kwargs)
    after = (list(model.state_dict().values()), [p.requires_grad for p in model.parameters()],
             [m.training for m in model.modules()])
    changed = (before[1] != after[1] or before[2] != after[2]
               or not all(torch.equal(a, b) for a, b in zip(before[0], after[0])))
    return {"value": value, "model_changed": changed}
