"""Looking at a network's architecture: lengths through its layers, the shape of every layer's
output for one beat, and where its parameters are.

Ready-made help for lesson 2 (and the lessons after it). Everything here works on any
``nn.Module`` that keeps its convolutional part in ``features`` and its dense part in
``classifier`` (the course's two networks, yours or the reference), and assumes nothing about the
names of the layers inside those two:

* :func:`trace_layers` — the layers a trace goes through: the children of ``features`` and of
  ``classifier``, in the order they are registered;
* :func:`lengths_through` — the length of a beat after each convolution or pooling of a list of
  layers, with a length function you give (yours from exercise 2.1, say);
* :func:`shape_trace` — one forward pass with forward hooks: name, type, output shape, parameters
  and the activation of every layer (the hooks are removed however the pass ends);
* :func:`parameter_table` — one row per layer that holds parameters: weight shape, parameters,
  trainable or frozen;
* :func:`format_table` — any of these as a plain-text table for a notebook.

Shapes follow PyTorch: ``(N, C, L)`` is a batch of ``N`` beats with ``C`` channels of ``L``
samples; a dense layer's output is ``(N, F)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

#: The two parts of a course network that a trace goes through, in forward order.
PARTS = ("features", "classifier")


def trace_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers a shape trace goes through: ``(name, module)`` pairs.

    For each of ``model.features`` and ``model.classifier``, its direct children (named as
    ``named_modules()`` names them: ``"features.0"``, ``"classifier.2"``...), or the part itself
    when it has no children. A model without either attribute is traced through its own
    direct children.

    Parameters
    ----------
    model : nn.Module

    Returns
    -------
    list of (str, nn.Module)
        In registration order, which for an ``nn.Sequential`` is the forward order.
    """
    parts = [(name, getattr(model, name)) for name in PARTS
             if isinstance(getattr(model, name, None), nn.Module)]
    if not parts:
        return list(model.named_children())
    layers = []
    for part, module in parts:
        children = list(module.named_children())
        layers += [(f"{part}.{name}", child) for name, child in children] or [(part, module)]
    return layers


def _as_int(value) -> int:
    """A layer setting as an int: PyTorch stores ``Conv1d``'s as 1-tuples, pooling's as ints."""
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


def lengths_through(layers: Iterable[tuple[str, nn.Module]] | nn.Module, length: int,
                    length_fn: Callable[..., int]) -> list[dict]:
    """The length of the signal before and after each layer, computed with ``length_fn``.

    Layers with a ``kernel_size`` (``Conv1d``, ``MaxPool1d``, ``AvgPool1d``) change the length:
    ``length_fn(length, kernel_size, stride, padding, dilation)`` gives the new one (pass
    ``models.conv_output_length``, exercise 2.1). Every other layer (``ReLU``, ``BatchNorm1d``,
    ``Dropout``...) keeps it. The layers' weights play no part: only their settings do.

    Parameters
    ----------
    layers : iterable of (str, nn.Module), or nn.Module
        The layers in forward order, with the names to show. A module stands for its leaf
        modules in registration order (``named_modules()``), which is the forward order of a
        plain ``nn.Sequential`` but not necessarily of a module with its own ``forward``.
    length : int
        The input length in samples (187 for a beat).
    length_fn : callable
        ``length_fn(length, kernel_size, stride=..., padding=..., dilation=...) -> int``.

    Returns
    -------
    list of dict
        One row per layer: ``name``, ``type``, ``kernel_size``, ``stride``, ``padding``,
        ``dilation`` (None for a layer without a kernel), ``length_in``, ``length_out``
        (samples).

    Raises
    ------
    ValueError
        For settings the floor formula does not cover (``ceil_mode=True``, string padding
        other than ``"same"``/``"valid"``).
    """
    if isinstance(layers, nn.Module):
        layers = [(name, m) for name, m in layers.named_modules() if not list(m.children())]
    rows = []
    for name, layer in layers:
        row = {"name": name, "type": type(layer).__name__, "kernel_size": None, "stride": None,
               "padding": None, "dilation": None, "length_in": int(length)}
        if hasattr(layer, "kernel_size"):
            if getattr(layer, "ceil_mode", False):
                raise ValueError(f"{name}: ceil_mode=True rounds up; the floor formula does not apply")
            kernel = _as_int(layer.kernel_size)
            stride = _as_int(layer.stride if layer.stride is not None else kernel)
            dilation = _as_int(getattr(layer, "dilation", 1))
            padding = layer.padding
            if padding == "valid":
                padding = 0
            elif padding == "same":
                # PyTorch pads so that the length stays (it allows "same" only with stride 1)
                padding = (dilation * (kernel - 1)) // 2
                if (dilation * (kernel - 1)) % 2:
                    raise ValueError(f"{name}: padding='same' with an even span pads unevenly; "
                                     f"the symmetric formula does not apply")
            elif isinstance(padding, str):
                raise ValueError(f"{name}: padding={padding!r} is not covered")
            padding = _as_int(padding)
            row.update(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation)
            length = int(length_fn(length, kernel, stride=stride, padding=padding, dilation=dilation))
        row["length_out"] = int(length)
        rows.append(row)
    return rows


def _as_batch(beat, model: nn.Module) -> torch.Tensor:
    """``beat`` as a float tensor ``(N, 1, L)`` (or as given when 3-D), on the model's device."""
    first = next(iter(model.parameters()), None)
    dtype = first.dtype if first is not None else torch.float32
    device = first.device if first is not None else torch.device("cpu")
    x = torch.as_tensor(np.asarray(beat) if not isinstance(beat, torch.Tensor) else beat)
    x = x.to(device=device, dtype=dtype)
    if x.dim() == 1:
        x = x[None, None, :]
    elif x.dim() == 2:
        x = x[:, None, :]
    elif x.dim() != 3:
        raise ValueError(f"a beat is (L,), (N, L) or (N, 1, L); got shape {tuple(x.shape)}")
    return x


def _parameters_of(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def shape_trace(model: nn.Module, beat, layers: list[tuple[str, nn.Module]] | None = None,
                inputs: bool = True) -> list[dict]:
    """Send ``beat`` through ``model`` once and record what every layer gives.

    A forward hook on each layer records its output; the hooks are removed afterwards, also when
    the forward pass raises. The pass runs in eval mode without gradients, and every module's
    train/eval mode is put back as it was.

    Parameters
    ----------
    model : nn.Module
        A network with ``features`` and ``classifier`` (see :func:`trace_layers`).
    beat : array-like or Tensor, shape (L,), (N, L) or (N, 1, L)
        One beat (it becomes a batch of one, ``(1, 1, L)``) or a batch of beats.
    layers : list of (str, nn.Module), optional
        The layers to record (default: :func:`trace_layers`).
    inputs : bool
        Also record what enters ``features`` and ``classifier`` (rows named
        ``"features (input)"`` and ``"classifier (input)"``, of type ``"input"``): the beat
        with its channel axis, and the flattened features.

    Returns
    -------
    list of dict
        One row per layer call, in the order the calls happened (a layer called twice appears
        twice; one never called, not at all): ``name``, ``type``, ``shape`` (tuple of int, the
        output's), ``parameters`` (int, the layer's, including those of its sub-layers) and
        ``activation`` (ndarray of that shape, float32, a copy). A layer whose output is not a
        tensor has ``shape`` and ``activation`` None.

    Raises
    ------
    Whatever the model's forward raises, after the hooks are removed.
    """
    layers = trace_layers(model) if layers is None else list(layers)
    x = _as_batch(beat, model)
    rows: list[dict] = []

    def record(name: str, kind: str, parameters: int, value) -> None:
        if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
            value = value[0]
        tensor = value if isinstance(value, torch.Tensor) else None
        rows.append({
            "name": name, "type": kind, "parameters": parameters,
            "shape": tuple(int(s) for s in tensor.shape) if tensor is not None else None,
            "activation": (tensor.detach().to("cpu", torch.float32).numpy().copy()
                           if tensor is not None else None),
        })

    handles = []
    modes = {m: m.training for m in model.modules()}
    try:
        if inputs:
            for part in PARTS:
                module = getattr(model, part, None)
                if isinstance(module, nn.Module):
                    handles.append(module.register_forward_pre_hook(
                        lambda m, args, part=part: record(f"{part} (input)", "input", 0,
                                                          args[0] if args else None)))
        seen = set()
        for name, layer in layers:
            if id(layer) in seen:       # one module under two names: hook it once
                continue
            seen.add(id(layer))
            handles.append(layer.register_forward_hook(
                lambda m, args, out, name=name: record(name, type(m).__name__, _parameters_of(m),
                                                       out)))
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training
    return rows


def parameter_table(model: nn.Module) -> list[dict]:
    """Where a model's parameters are: one row per module that holds parameters of its own.

    Parameters
    ----------
    model : nn.Module

    Returns
    -------
    list of dict
        In ``named_modules()`` order (registration order): ``name`` (``"(model)"`` for the model
        itself), ``type``, ``weight`` (the shape of its ``weight`` parameter, else of its first
        one), ``bias`` (shape or None), ``parameters`` (int), ``trainable_parameters`` (int, those
        with ``requires_grad``) and ``trainable`` (bool: all of them). A parameter shared by two
        modules is counted once, in the first, so that the ``parameters`` column sums to the
        model's number of distinct parameters.
    """
    rows = []
    counted: set[int] = set()
    for name, module in model.named_modules():
        params = [(n, p) for n, p in module.named_parameters(recurse=False) if id(p) not in counted]
        if not params:
            continue
        counted.update(id(p) for _, p in params)
        by_name = dict(params)
        weight = by_name.get("weight", params[0][1])
        bias = by_name.get("bias")
        rows.append({
            "name": name or "(model)",
            "type": type(module).__name__,
            "weight": tuple(int(s) for s in weight.shape),
            "bias": tuple(int(s) for s in bias.shape) if bias is not None else None,
            "parameters": int(sum(p.numel() for _, p in params)),
            "trainable_parameters": int(sum(p.numel() for _, p in params if p.requires_grad)),
            "trainable": all(p.requires_grad for _, p in params),
        })
    return rows


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, tuple):
        return str(tuple(int(v) if isinstance(v, (int, np.integer)) else v for v in value))
    return str(value)


def format_table(rows: list[dict], columns: list[str], headers: list[str] | None = None) -> str:
    """Rows of dicts as a plain-text table: numbers right-aligned, ints with thousands separators,
    tuples as shapes, booleans as yes/no, None as a dash.

    Parameters
    ----------
    rows : list of dict
    columns : list of str
        The keys to show, in order.
    headers : list of str, optional
        The column titles (default: the keys).

    Returns
    -------
    str
    """
    headers = list(columns if headers is None else headers)
    if len(headers) != len(columns):
        raise ValueError(f"{len(columns)} columns but {len(headers)} headers")
    cells = [[_cell(row.get(key)) for key in columns] for row in rows]
    numeric = [all(isinstance(row.get(key), (int, float, np.integer, np.floating))
                   and not isinstance(row.get(key), bool) or row.get(key) is None for row in rows)
               for key in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(r) for r in cells])


def layer_names(model) -> list[str]:
    """The names of the modules directly in ``model.features`` and ``model.classifier``, in order:
    ``features.0`` (the first convolution), ``features.1`` ... ``features.5`` (the residual
    blocks), ``classifier.0`` ... ``classifier.4`` for KachueeNet. "The layers" of a network, for
    lesson 5's ``capture_activations`` and the explorers."""
    names = []
    for part in ("features", "classifier"):
        module = getattr(model, part, None)
        if module is not None:
            names += [f"{part}.{name}" for name, _ in module.named_children()]
    if not names:
        raise ValueError(f"model: a {type(model).__name__} has neither features nor classifier")
    return names


__all__ = ["format_table", "layer_names", "lengths_through", "parameter_table", "shape_trace",
           "trace_layers"]
