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


def build(cls, args=(), kwargs=None, seed=SEED):
    """``cls(*args, **kwargs)`` with torch's generator seeded, so weights are reproducible."""
    torch = _torch()
    torch.manual_seed(seed)
    return cls(*args, **(kwargs or {}))


def as_tensor(x, dtype="float32"):
    """A new tensor with the values of ``x`` (a copy: the call's own array is never touched)."""
    torch = _torch()
    return torch.tensor(np.array(x), dtype=getattr(torch, dtype))


def to_array(t):
    """A tensor's values as a numpy array (float64 for floating tensors), for the grader."""
    array = t.detach().cpu().numpy()
    return array.astype(np.float64) if array.dtype.kind == "f" else array


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


def describe(module):
    """``[type name, [[parameter name, shape], ...]]`` of one layer."""
    return [type(module).__name__,
            [[name, list(p.shape)] for name, p in module.named_parameters(recurse=False)]]


def weights(cls, args=(), kwargs=None, input_shape=(2, 1, 187), seed=SEED):
    """The layers of ``cls(*args)`` in forward order with their parameters as arrays: what the
    grader sends to load into the student's model (:func:`load_weights`)."""
    model = build(cls, args, kwargs, seed)
    x = as_tensor(np.zeros(input_shape))
    return [[type(m).__name__, [[n, to_array(p).astype(np.float32)]
                                for n, p in m.named_parameters(recurse=False)]]
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
            return (f"layer {k} ({type(module).__name__}) has {len(own)} parameters "
                    f"({', '.join(names)}), expected {len(params)} as in a {kind}")
        for p, a, n in pairs:
            if tuple(p.shape) != tuple(np.shape(a)):
                return (f"layer {k} ({type(module).__name__}): {n} has shape {tuple(p.shape)}, "
                        f"expected {tuple(np.shape(a))} as in a {kind}")
        with torch.no_grad():
            for p, a, _ in pairs:
                p.copy_(torch.as_tensor(np.asarray(a), dtype=p.dtype))
    return None


# --- probes of a model class ------------------------------------------------------------------------

def parameter_count(cls, args=(), kwargs=None):
    """Elements of all parameters of ``cls(*args, **kwargs)`` (each shared parameter once)."""
    return int(sum(p.numel() for p in build(cls, args, kwargs).parameters()))


def layer_shapes(cls, args=(), kwargs=None, input_shape=(2, 1, 187)):
    """The layers with parameters, in forward order: ``[[type, [[name, shape], ...]], ...]``."""
    model = build(cls, args, kwargs)
    return [describe(m) for m in forward_layers(model, as_tensor(np.zeros(input_shape)))]


def output_shapes(cls, args=(), kwargs=None, input_shapes=((2, 1, 187),)):
    """``[[output shape, dtype], ...]`` of the model for inputs of these shapes (random values)."""
    torch = _torch()
    model = build(cls, args, kwargs)
    rng = np.random.default_rng(1)
    shapes = []
    with torch.no_grad():
        for shape in input_shapes:
            out = model(as_tensor(rng.normal(size=shape)))
            shapes.append([list(out.shape), str(out.dtype)])
    return shapes


def forward_with(cls, args=(), kwargs=None, layers=None, x=None, force=None):
    """The model's output on ``x`` with the grader's ``layers`` loaded (see :func:`load_weights`).

    ``force = {"class": name, "outputs": [array, ...]}`` replaces the output of the k-th call of
    any module of the student's class ``name`` (looked up in the model's own module) by the k-th
    array, and records the input each such call received. So a network is graded on how it
    wires its blocks, with every block giving the reference block's output.

    Returns ``{"problem", "output", "forced_inputs", "input_changed"}``.
    """
    torch = _torch()
    model = build(cls, args, kwargs)
    x = as_tensor(x)
    problem = load_weights(model, layers, x) if layers is not None else None
    if problem:
        return {"problem": problem, "output": None, "forced_inputs": [], "input_changed": False}
    forced = []
    handles = _force(model, force, forced)
    before = x.clone()
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {"problem": None, "output": to_array(out), "forced_inputs": forced,
            "input_changed": not torch.equal(before, x)}


def _force(model, force, forced):
    """Forward hooks that give the k-th call of a module of class ``force["class"]`` the output
    ``force["outputs"][k]`` and record its input in ``forced``; returns the hook handles."""
    torch = _torch()
    if not force:
        return []
    target = getattr(sys.modules.get(type(model).__module__), force["class"], None)

    def replace(module, inputs, output):
        k = len(forced)
        forced.append(to_array(inputs[0]))
        if k < len(force["outputs"]):
            return torch.as_tensor(np.asarray(force["outputs"][k]), dtype=output.dtype)
        return output

    if not isinstance(target, type):
        return []
    return [m.register_forward_hook(replace) for m in model.modules() if isinstance(m, target)]


def capture(cls, args=(), kwargs=None, layers=None, x=None, class_name=""):
    """The outputs of every call of a module of class ``class_name``, in order (what
    :func:`forward_with` forces)."""
    torch = _torch()
    model = build(cls, args, kwargs)
    x = as_tensor(x)
    if layers is not None:
        problem = load_weights(model, layers, x)
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


def through_parts(cls, args=(), kwargs=None, layers=None, x=None, force=None):
    """``classifier(features(x).flatten(1))`` with the grader's weights: the way lessons 3-5 use
    a model (``force`` as in :func:`forward_with`). Returns ``{"problem", "output",
    "forced_inputs"}``; ``x`` has shape ``(N, 1, L)``."""
    torch = _torch()
    model = build(cls, args, kwargs)
    x = as_tensor(x)
    missing = [name for name in ("features", "classifier")
               if not isinstance(getattr(model, name, None), torch.nn.Module)]
    if missing:
        return {"problem": f"the model has no nn.Module attribute {' or '.join(missing)}",
                "output": None}
    problem = load_weights(model, layers, x)
    if problem:
        return {"problem": problem, "output": None}
    forced = []
    handles = _force(model, force, forced)
    try:
        with torch.no_grad():
            out = model.classifier(model.features(x).flatten(1))
    finally:
        for handle in handles:
            handle.remove()
    return {"problem": None, "output": to_array(out), "forced_inputs": forced}


def gradients(cls, args=(), kwargs=None, x=None):
    """Which layers' parameters a backward pass from the output does not reach, and whether
    the input gets a gradient: ``{"without_gradient": [...], "input_gradient": bool}``."""
    torch = _torch()
    model = build(cls, args, kwargs)
    x = as_tensor(x)
    layers = forward_layers(model, x)
    x = x.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    out = model(x)
    weights_out = torch.as_tensor(np.random.default_rng(2).normal(size=tuple(out.shape)),
                                  dtype=out.dtype)
    (out * weights_out).sum().backward()
    without = [f"layer {k} ({type(m).__name__}) {n}"
               for k, m in enumerate(layers, start=1) for n, p in m.named_parameters(recurse=False)
               if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    return {"without_gradient": without,
            "input_gradient": x.grad is not None and bool(x.grad.abs().sum() > 0)}


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
    """``function(model, **kwargs)`` on a model made from ``spec`` (see :func:`make_model`).

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
