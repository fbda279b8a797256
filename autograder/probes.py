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

#: Modules a probe's torch code imports on first use, which the worker loads before its guard:
#: an optimizer's first step imports ``torch._dynamo``, whose import sets ``__defaults__`` of
#: functions (which the guard refuses to graded code).
PRELOAD = {"train_epoch": ("torch._dynamo",),
           # what works on the "meta" device (no data) imports on first use too
           "replace_head_on": ("torch._dynamo", "torch._subclasses.schema_check_mode"),
           # tensor.backward(gradient=...) checks the gradient's shape with symbolic shapes
           "attribution_on": ("torch.fx.experimental.symbolic_shapes",),
           "activations_on": ("torch.fx.experimental.symbolic_shapes",)}


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
    (``["same", k]`` repeats layer k, sharing its parameters; ``["Sequential", spec]`` nests
    one; ``["Headed", [body spec, in, out]]`` is a module with a ``body`` and a ``head``
    attribute, not a Sequential; ``["Residual", [channels, kernel, pool, stride]]`` a block
    with a skip connection, as ``ResidualBlock``; ``["Raises", []]`` a layer whose forward
    raises RuntimeError); layers in ``frozen`` get ``requires_grad_(False)``.

    ``[["Parts", [features spec, classifier spec]]]`` is a network shaped as the course's:
    ``features`` and ``classifier`` attributes, beats ``(N, L)`` or ``(N, 1, L)`` in."""
    torch = _torch()
    if len(spec) == 1 and spec[0][0] == "Parts":
        model = _Parts(*[make_model(part) for part in spec[0][1]])
        for name in frozen:              # module names here: "features.0", "classifier"
            model.get_submodule(name).requires_grad_(False)
        return model.train(train)
    layers = []
    for kind, arguments in spec:
        if kind == "same":
            layers.append(layers[arguments])
        elif kind == "Sequential":
            layers.append(make_model(arguments))
        elif kind == "Headed":
            layers.append(_Headed(make_model(arguments[0]), *arguments[1:]))
        elif kind == "Residual":
            layers.append(_Residual(*arguments))
        elif kind == "Raises":
            layers.append(_Raises())
        else:
            layers.append(getattr(torch.nn, kind)(*arguments))
    for k in frozen:
        layers[k].requires_grad_(False)
    return torch.nn.Sequential(*layers).train(train)


def _Headed(body, n_in, n_out):
    """A module whose last layer is an attribute ``head`` (no Sequential to index into)."""
    torch = _torch()

    class Headed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = body
            self.head = torch.nn.Linear(n_in, n_out)

        def forward(self, x):
            return self.head(torch.relu(self.body(x)))

    return Headed()


def _Residual(channels, kernel, pool, stride):
    """A residual block as the course's ``ResidualBlock``: conv, ReLU, conv, + input, ReLU, max-pool."""
    torch = _torch()

    class Residual(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
            self.conv2 = torch.nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
            self.pool = torch.nn.MaxPool1d(pool, stride=stride)

        def forward(self, x):
            return self.pool(torch.relu(self.conv2(torch.relu(self.conv1(x))) + x))

    return Residual()


def _Raises():
    torch = _torch()

    class Raises(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("this layer always fails (a model that raises, on purpose)")

    return Raises()


def _Parts(features, classifier):
    """A network with ``features`` and ``classifier``, as the course's networks."""
    torch = _torch()

    class Parts(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = features
            self.classifier = classifier

        def forward(self, x):
            if x.dim() == 2:
                x = x.unsqueeze(1)
            return self.classifier(self.features(x).flatten(1))

    return Parts()


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


# --- probes of training and evaluation (lesson 3) ----------------------------------------------

def _parameters(model):
    return [[name, to_array(p)] for name, p in model.named_parameters()]


def _loss(kind, weight=None):
    """The loss function a training probe hands over: a module, or a plain function."""
    torch = _torch()
    w = None if weight is None else torch.as_tensor(np.asarray(weight), dtype=torch.float32)
    if kind == "cross_entropy":
        return torch.nn.CrossEntropyLoss(weight=w)
    if kind == "label_smoothing":
        return torch.nn.CrossEntropyLoss(label_smoothing=0.2)
    if kind == "doubled":
        return lambda logits, y: 2.0 * torch.nn.functional.cross_entropy(logits, y)
    raise ValueError(f"unknown loss {kind!r}")


def train_epoch(function, spec, batches, lr=0.1, momentum=0.0, loss="cross_entropy", weight=None,
                train=False, data_loader=0, seed=SEED):
    """Trains a small model for one epoch with your function and reports what it did.

    ``function(model, loader, optimizer, loss_fn)`` on a model made from ``spec`` (in train
    mode if ``train``, else in eval mode), torch.optim.SGD(lr, momentum) and the given loss; the
    loader is a list of ``(X, y)`` tensor batches, or (``data_loader`` = batch size) a
    DataLoader over all of them, unshuffled. Returns the value, the parameters after the epoch,
    the train/eval mode of every module, and the number of optimizer steps.
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, train=train)
    pairs = [(as_tensor(X), as_tensor(y, "int64")) for X, y in batches]
    if data_loader:
        dataset = torch.utils.data.TensorDataset(torch.cat([X for X, _ in pairs]),
                                                 torch.cat([y for _, y in pairs]))
        loader = torch.utils.data.DataLoader(dataset, batch_size=data_loader, shuffle=False)
    else:
        loader = pairs
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    steps = []
    # the parameters as they are now: what the function does to the model's registry of them
    # (emptied, replaced) cannot hide what happened to the tensors themselves
    own = list(model.named_parameters())
    modules = list(model.modules())
    handle = optimizer.register_step_post_hook(lambda *args: steps.append(1))
    try:
        value = function(model, loader, optimizer, _loss(loss, weight))
    finally:
        handle.remove()
    return {"value": value, "parameters": [[name, to_array(p)] for name, p in own],
            "names_after": [name for name, _ in model.named_parameters()],
            "training": [m.training for m in modules], "steps": len(steps)}


def predict_on(function, spec, X, batch_size=None, train=True, tensor=False, seed=SEED,
               dtype="float32", model_raises=False):
    """Runs your function on a small model (with dropout and batch norm) and watches each
    forward pass: batch size, whether gradients were recorded, train/eval mode.

    ``function(model, X)`` or ``function(model, X, batch_size=...)``; ``X`` as a numpy array of
    ``dtype``, or a tensor with ``tensor``. The model starts in train mode if ``train``. Returns
    the value, the batches, and the model's mode after the call. With ``model_raises`` (beats
    the model cannot take), the error is caught here and only its type and the mode are returned
    (NotImplementedError, a stub's, is not caught).
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, train=train)
    seen, inner = [], []
    modules = list(model.modules())

    def watch(module, inputs):
        x = inputs[0]
        seen.append({"shape": list(x.shape), "grad": torch.is_grad_enabled(),
                     "training": any(m.training for m in module.modules()), "dtype": str(x.dtype)})

    def watch_layer(module, inputs):
        # every layer too, so that a forward pass that bypasses the model's own hook still counts
        inner.append([len(inputs[0]) if inputs[0].ndim else 0, torch.is_grad_enabled(), module.training])

    X = as_tensor(X, dtype) if tensor else np.array(X, dtype=dtype)
    handles = [model.register_forward_pre_hook(watch)]
    handles += [m.register_forward_pre_hook(watch_layer) for m in modules[1:2]]
    try:
        torch.manual_seed(seed + 1)
        value = function(model, X) if batch_size is None else function(model, X, batch_size=batch_size)
    except Exception as exc:
        if not model_raises or isinstance(exc, NotImplementedError):
            raise
        return {"raised": type(exc).__name__, "training_after": [m.training for m in modules]}
    finally:
        for handle in handles:
            handle.remove()
    if model_raises:
        return {"raised": None, "training_after": [m.training for m in modules]}
    return {"value": value, "forwards": seen, "first_layer": inner,
            "training_after": [m.training for m in modules],
            "dtypes_after": sorted({str(p.dtype) for p in model.parameters()})}


def call_with_tensors(function, *args, tensors=(0,), **kwargs):
    """Calls your function with the arguments at ``tensors`` given as torch tensors."""
    args = [as_tensor(a, "int64" if np.asarray(a).dtype.kind in "iu" else "float32")
            if i in tensors else a for i, a in enumerate(args)]
    return function(*args, **kwargs)


def loss_on(cls, logits, target, kwargs=None, weight=None, weight_as="tensor", moved=False):
    """Builds the loss (``weight``, if given, as a float32 tensor, or as a ``"list"`` or a
    float64 ``"numpy"`` array) and runs it on logits and targets: the loss, and the gradient it
    sends back to the logits. With ``moved``, the loss is moved first, as the training loop does
    (``loss_fn.to(device)``), and the tensors that stay behind (plain tensor attributes, which
    ``.to`` does not move; 0-d ones, which torch lets mix with any device, are fine) are named."""
    torch = _torch()
    kwargs = dict(kwargs or {})
    if weight is not None:
        kwargs["weight"] = {"tensor": as_tensor, "list": lambda w: np.asarray(w).tolist(),
                            "numpy": lambda w: np.asarray(w, dtype=np.float64)}[weight_as](weight)
    loss_fn = cls(**kwargs)
    report = {"module": isinstance(loss_fn, torch.nn.Module)}
    if moved and isinstance(loss_fn, torch.nn.Module):
        loss_fn = loss_fn.to("cpu")
        report["left_behind"] = sorted(name for name, v in vars(loss_fn).items()
                                       if isinstance(v, torch.Tensor) and v.ndim > 0)
    logits = as_tensor(logits).requires_grad_(True)
    value = loss_fn(logits, as_tensor(target, "int64"))
    grad = None
    if isinstance(value, torch.Tensor) and value.requires_grad and value.numel() == 1:
        value.backward()
        grad = None if logits.grad is None else to_array(logits.grad)
    return {"value": value, "logits_gradient": grad, **report}


# --- probes of transfer learning (lesson 4) ----------------------------------------------------

def _weight_layers(model):
    torch = _torch()
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]


def replace_head_on(function, spec, n_classes, frozen=(), x=None, seed=SEED, dtype="float32",
                    device=None):
    """Calls your function on a small trained-looking model and reports the model afterwards:
    its layers, which of the old parameters changed, the new last Linear, the output shape.

    ``function(model, n_classes)`` on a model made from ``spec`` (layers in ``frozen`` frozen),
    of ``dtype``, and moved to ``device`` if given (``"meta"``: tensors without data, a device
    other than the CPU on every machine; there neither the weights' values nor the output are
    looked at).
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, frozen=frozen).to(dtype=getattr(torch, dtype))
    on_data = device is None
    if not on_data:
        model.to(device)
    old_name, old = _weight_layers(model)[-1]
    before = {name: p.detach().clone() if on_data else None for name, p in model.named_parameters()}
    settings = ({name: p.requires_grad for name, p in model.named_parameters()},
                [m.training for m in model.modules()])
    torch.manual_seed(seed + 1)
    value = function(model, n_classes)
    target = value if isinstance(value, torch.nn.Module) else model
    layers = _weight_layers(target)
    head_name, head = layers[-1] if layers else (None, None)
    changed = sorted(name for name, p in target.named_parameters()
                     if on_data and name in before and not name.startswith(old_name + ".")
                     and not torch.equal(before[name], p.detach()))
    gone = sorted(name for name in before if not name.startswith(old_name + ".")
                  and name not in dict(target.named_parameters()))
    # requires_grad of the other parameters, and every module's train/eval mode, as they were
    others = {name: p.requires_grad for name, p in target.named_parameters()
              if not name.startswith(head_name + ".")} if head_name else {}
    modes = [m.training for m in target.modules() if m is not head]
    unfrozen = sorted(name for name, flag in others.items() if settings[0].get(name, flag) != flag)
    report = {"returned_model": value is model, "layers": [[n, describe(m)] for n, m in layers],
              "changed": changed, "gone": gone, "head": None, "output_shape": None,
              "settings_changed": unfrozen, "mode_changed": modes != settings[1][:len(modes)]}
    if isinstance(head, torch.nn.Linear):
        bound = 1.0 / np.sqrt(head.in_features)
        fresh = None
        if on_data:
            fresh = (bool(head.weight.detach().abs().max() <= bound + 1e-6)
                     and not (head.weight.shape == old.weight.shape
                              and torch.equal(head.weight.detach(), before[old_name + ".weight"])))
        if on_data and fresh:
            fresh = bool(head.weight.detach().std() > 0)    # random, not constant (zeros)
        report["head"] = {
            "name": head_name, "in": head.in_features, "out": head.out_features,
            "bias": head.bias is not None, "new_object": head is not old,
            "trainable": all(p.requires_grad for p in head.parameters()),
            "dtype": str(head.weight.dtype), "device": head.weight.device.type, "fresh": fresh,
        }
    if x is not None and on_data:    # a forward pass on "meta" imports much of torch lazily
        try:
            with torch.no_grad():
                out = target(as_tensor(x, dtype))
            report["output_shape"] = list(out.shape)
        except Exception as exc:
            report["output_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return report


def set_trainable_on(function, spec, steps, frozen=(), seed=SEED):
    """Calls your function on a small model once per entry of ``steps`` (``n_trainable``), in
    order, and reports after each call which parameters are trainable."""
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, frozen=frozen)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    after = []
    for n in steps:
        value = function(model, n)
        after.append({"n_trainable": n, "returned_model": value is model,
                      "trainable": [[name, bool(p.requires_grad)] for name, p in model.named_parameters()],
                      "changed": sorted(name for name, p in model.named_parameters()
                                        if name in before and not torch.equal(before[name], p.detach()))})
    return after


# --- probes of interpretation (lesson 5) ---------------------------------------------------------

def _hook_count(model):
    """Forward hooks and pre-hooks on the model's modules, and torch's global ones."""
    torch = _torch()
    module_hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
                       + len(getattr(m, "_backward_pre_hooks", {})) for m in model.modules())
    g = torch.nn.modules.module
    return module_hooks + len(g._global_forward_hooks) + len(g._global_forward_pre_hooks)


def _watched_call(function, model, args, kwargs, raises=False, grads=False, seed=SEED):
    """Calls ``function(model, *args, **kwargs)`` and watches it: every forward pass of the model
    (eval mode? gradients on?), the hooks, modes, ``requires_grad`` and ``.grad`` of the
    parameters before and after, and the input (``args[0]``) before and after. With ``grads``
    the parameters carry ``.grad`` values first, as after training. With ``raises`` an error of
    the model is caught (not NotImplementedError, a stub's) and only the state is reported."""
    torch = _torch()
    modules = list(model.modules())
    params = list(model.named_parameters())
    if grads:
        generator = torch.Generator().manual_seed(seed + 3)
        for _, p in params:
            p.grad = torch.randn(p.shape, generator=generator, dtype=p.dtype)
    grads_before = [None if p.grad is None else p.grad.clone() for _, p in params]
    settings = [p.requires_grad for _, p in params]
    values_before = [p.detach().clone() for _, p in params]
    modes = [m.training for m in modules]
    x = args[0] if args else np.zeros(0)
    x_before = x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True)
    passes = []

    def watch(module, inputs):
        passes.append({"training": [m.training for m in modules], "grad": torch.is_grad_enabled()})

    handle = model.register_forward_pre_hook(watch)
    hooks_before = _hook_count(model)
    report = {}
    try:
        torch.manual_seed(seed + 1)
        report["value"] = function(model, *args, **kwargs)
        report["raised"] = None
    except Exception as exc:
        if not raises or isinstance(exc, NotImplementedError):
            raise
        report["raised"] = type(exc).__name__
    finally:
        hooks_after = _hook_count(model)
        handle.remove()
    changed_input = (not torch.equal(x_before, x)) if isinstance(x, torch.Tensor) else \
        not np.array_equal(x_before, np.asarray(x))
    report.update({
        "hooks_left": hooks_after - hooks_before,
        "training_after": [m.training for m in modules],
        "modes_before": modes,
        "passes": passes,
        "grads_changed": sorted(name for (name, p), g in zip(params, grads_before)
                                if (g is None) != (p.grad is None)
                                or (g is not None and not torch.equal(g, p.grad))),
        "settings_changed": sorted(name for (name, p), flag in zip(params, settings)
                                   if p.requires_grad != flag),
        "weights_changed": sorted(name for (name, p), v in zip(params, values_before)
                                  if not torch.equal(v, p.detach())),
        "input_changed": bool(changed_input),
    })
    return report


def _plain(value):
    """What an interpretation function returned, as data: tensors become arrays (with a note
    of whether they still hang on the graph), dicts keep their keys in order."""
    torch = _torch()
    if isinstance(value, torch.Tensor):
        return {"tensor": to_array(value), "dtype": str(value.dtype),
                "attached": bool(value.requires_grad or value.grad_fn is not None)}
    if isinstance(value, dict):
        return {"dict": [[k, _plain(v)] for k, v in value.items()]}
    return value


def activations_on(function, spec, x, layers=None, train=True, raises=False, tensor=False,
                   seed=SEED):
    """Runs your ``capture_activations(model, x, layers)`` on a small network and watches it.

    The network is made from ``spec`` (in train mode if ``train``; with batch norm and dropout,
    so that eval mode matters) under a fixed seed. Returns the captured outputs (as arrays,
    each with whether it is still attached to a graph), the hooks left on the model, every
    forward pass's mode and the model's mode after the call.
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, train=train)
    x = as_tensor(x) if tensor else np.array(x, dtype=np.float32)
    kwargs = {} if layers is None else {"layers": layers}
    report = _watched_call(function, model, (x,), kwargs, raises=raises, seed=seed)
    if "value" in report:
        report["value"] = _plain(report["value"])
    return report


def fields_on(function, spec, seed=SEED):
    """Your ``receptive_fields(model)`` on a network made from ``spec``, and whether the model
    was left as it was."""
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec)
    report = _watched_call(function, model, (), {}, seed=seed)
    return {"value": report["value"], "hooks_left": report["hooks_left"],
            "changed": report["weights_changed"] + report["settings_changed"]}


def attribution_on(function, spec, x, *args, layer=None, as_module=False, train=True, grads=True,
                   frozen=(), tensor=False, raises=False, seed=SEED, **kwargs):
    """Runs your ``saliency(model, x, ...)`` or ``grad_cam(model, x, layer, ...)`` on a small
    network and watches it: the map, every forward pass's mode, hooks left behind, and the
    parameters' ``.grad`` (they carry values first, as after training, if ``grads``) and
    ``requires_grad`` (layers in ``frozen`` frozen first) after the call.

    ``layer`` (for Grad-CAM) is passed as its name, or with ``as_module`` as the module itself.
    """
    torch = _torch()
    torch.manual_seed(seed)
    model = make_model(spec, frozen=frozen, train=train)
    x = as_tensor(x) if tensor else np.array(x, dtype=np.float32)
    if layer is not None:
        args = (dict(model.named_modules())[layer] if as_module else layer,) + tuple(args)
    report = _watched_call(function, model, (x, *args), kwargs, raises=raises, grads=grads, seed=seed)
    if "value" in report:
        report["value"] = _plain(report["value"])
    return report
