"""Lesson 5 — opening the network up: what each layer computes, and where it looks.

A trained ``KachueeNet`` is a stack of functions. This module holds the tools that show them:

1. every layer's output for a batch of beats, caught by forward hooks   -> :func:`capture_activations`
2. how many input samples each layer of ``features`` sees               -> :func:`receptive_fields`
3. which input samples the chosen logit is most sensitive to            -> :func:`saliency`
4. where, in time, a layer's channels speak for the chosen class        -> :func:`grad_cam`
5. the beats that excite a channel most                                 -> :func:`top_activating`

Conventions: beats come as ``(N, 187)`` or ``(N, 1, 187)``, numpy arrays or tensors; a layer is
named as in ``model.named_modules()`` (``"features.3"``, ``"classifier.0"``); "the layers" of a
network are the modules directly inside its ``features`` and ``classifier``. The model is used in
eval mode (dropout off, batch norm on its running statistics) and every function leaves the
model exactly as it found it: train/eval mode, hooks, ``requires_grad`` and ``.grad`` of its
parameters. The ready-made explorers (:mod:`ecglab.explorers`) draw with these functions.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: F401 (the stubs do not use it yet; grad_cam does)
from torch import nn

from .architecture import layer_names   # "the layers": the modules in features and classifier


def _beats(model: nn.Module, x) -> torch.Tensor:
    """``x`` as a float tensor of shape ``(N, 1, L)`` on the model's device and dtype (a copy)."""
    p = next(model.parameters())
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    x = x.detach().to(device=p.device, dtype=p.dtype).clone()
    return x.unsqueeze(1) if x.dim() == 2 else x


def _targets(logits: torch.Tensor, target) -> torch.Tensor:
    """The class of each beat: the prediction (``None``), one class for all (an int), or one per
    beat (a sequence of ``N`` ints). Shape ``(N,)``, int64."""
    n = logits.shape[0]
    if target is None:
        return logits.argmax(dim=1)
    t = torch.as_tensor(np.asarray(target) if not isinstance(target, torch.Tensor) else target)
    t = t.to(device=logits.device, dtype=torch.long)
    if t.dim() == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"target: expected one class or {n} classes, got shape {tuple(t.shape)}")
    if bool((t < 0).any()) or bool((t >= logits.shape[1]).any()):
        raise ValueError(f"target: classes must lie in 0..{logits.shape[1] - 1}, got {t.tolist()}")
    return t


def _modes(model: nn.Module) -> list[tuple[nn.Module, bool]]:
    """Every module with its train/eval mode, to put back afterwards."""
    return [(m, m.training) for m in model.modules()]


def _restore(modes: list[tuple[nn.Module, bool]]) -> None:
    for module, training in modes:
        module.training = training


def capture_activations(model: nn.Module, x, layers=None) -> dict[str, torch.Tensor]:
    """The output of each chosen layer for the beats ``x``, caught with forward hooks.

    Exercise 5.1.

    TODO: Register a forward hook on each layer that stores its output, run the model once, and
    remove the hooks again, whatever happens.

    APPROACH:
    1. ``layers`` defaults to ``layer_names(model)``; ``dict(model.named_modules())`` maps
       each name to its module (an unknown name: ``KeyError`` naming it).
    2. For each, ``module.register_forward_hook(hook)``: torch calls
       ``hook(module, inputs, output)`` after the module's forward; store ``output.detach()``
       under the layer's name. Keep the handles it returns.
    3. Run the model once on ``x`` (as a float32 tensor) in eval mode under
       ``torch.no_grad()``.
    4. In a ``finally:`` block, ``handle.remove()`` every hook and put the model's train/eval
       mode back (``model.train(was_training)``), so that a forward pass that raises leaves the
       model as it was.
    5. Return ``{name: output}`` in the order of ``layers``.

    EXAMPLE:
    >>> model = nn.Sequential(nn.Conv1d(1, 4, 5, padding=2), nn.ReLU(), nn.Flatten(),
    ...                       nn.Linear(4 * 187, 3))
    >>> acts = capture_activations(model, np.zeros((2, 1, 187), np.float32), layers=["0", "3"])
    >>> {name: tuple(a.shape) for name, a in acts.items()}
    {'0': (2, 4, 187), '3': (2, 3)}
    >>> model[0]._forward_hooks          # no hook left behind
    OrderedDict()

    For ``KachueeNet``, ``acts["features.3"]`` has shape ``(N, 32, 20)``: 32 channels, 20 steps.

    HINT: a closure needs the name: ``def hook(module, inputs, output, name=name)`` (a default
    argument) or ``functools.partial``; a plain ``lambda`` in a loop sees only the last name.

    Parameters
    ----------
    model : nn.Module
        A network with ``features`` and ``classifier`` (for the default ``layers``).
    x : array or tensor, shape (N, 187) or (N, 1, 187)
        Beats.
    layers : list of str, optional
        Module names as in ``model.named_modules()``.

    Returns
    -------
    dict
        ``{name: tensor}``, each tensor detached from the graph: ``(N, channels, length)`` for a
        convolutional layer, ``(N, units)`` for a dense one.
    """
    ### BEGIN SOLUTION
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    outputs, handles, modes = {}, [], _modes(model)

    def keep(module, inputs, output, name):
        outputs[name] = output.detach()

    try:
        for name in names:              # an unknown name: KeyError here, and no hook stays
            handles.append(modules[name].register_forward_hook(
                lambda m, i, o, name=name: keep(m, i, o, name)))
        model.eval()
        with torch.no_grad():          # only looking: no graph to keep
            model(_beats(model, x))
    finally:
        for hook in handles:
            hook.remove()
        _restore(modes)
    return {name: outputs[name] for name in names}
    ### END SOLUTION


def receptive_fields(model: nn.Module) -> dict[str, int]:
    """How many consecutive input samples one output step of each layer of ``features`` sees.

    Exercise 5.2.

    TODO: Walk through ``model.features`` in order, keeping the receptive field ``r`` and the
    jump ``j`` (how many input samples one step of the current layer moves).

    APPROACH:
    1. Start with ``r = 1`` and ``j = 1``: one input sample sees itself.
    2. A layer with a kernel (``nn.Conv1d``, ``nn.MaxPool1d``, ``nn.AvgPool1d``) of size ``k``,
       stride ``s`` and dilation ``d`` makes ``r = r + (k - 1) * d * j`` and then ``j = j * s``.
       Conv1d keeps them as tuples (``kernel_size == (5,)``); the pools as ints (AvgPool1d has
       no dilation: 1).
    3. A layer made of layers (a ``ResidualBlock``) is walked through the same way, its children
       in order (``module.children()``); the skip connection adds nothing (the identity sees less
       than the convolutions beside it). Any other layer (ReLU, BatchNorm1d, Dropout...) changes
       nothing.
    4. Record ``r`` after each module directly in ``features``, under its name
       (``"features.0"``, ``"features.1"`` ...).

    EXAMPLE:
    >>> model = nn.Module()
    >>> model.features = nn.Sequential(nn.Conv1d(1, 4, 5), nn.ReLU(), nn.MaxPool1d(2),
    ...                                nn.Conv1d(4, 4, 3))
    >>> receptive_fields(model)
    {'features.0': 5, 'features.1': 5, 'features.2': 6, 'features.3': 10}

    For ``KachueeNet``: 5 after the first convolution, then 17, 41, 89, 185, 377 after the five
    residual blocks — the last layer sees more than a whole beat (187 samples).

    HINT: the padding does not change the receptive field, only where it sits.

    Parameters
    ----------
    model : nn.Module
        A network with a ``features`` module (an ``nn.Sequential``).

    Returns
    -------
    dict
        ``{name: receptive field in input samples}``, one entry per module of ``features``.
    """
    ### BEGIN SOLUTION
    def first(value):
        return value[0] if isinstance(value, tuple) else value

    def walk(module, r, j):
        if isinstance(module, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            k, s = first(module.kernel_size), first(module.stride)
            d = first(getattr(module, "dilation", 1))
            return r + (k - 1) * d * j, j * s
        for child in module.children():
            r, j = walk(child, r, j)
        return r, j

    fields, r, j = {}, 1, 1
    for name, module in model.features.named_children():
        r, j = walk(module, r, j)
        fields[f"features.{name}"] = r
    return fields
    ### END SOLUTION


def saliency(model: nn.Module, x, target=None) -> np.ndarray:
    """``|∂ logit_target / ∂ input|`` for each beat: how strongly each sample moves the logit.

    Exercise 5.3.

    TODO: Take the gradient of the chosen logit with respect to the input, and nothing else.

    APPROACH:
    1. The beats as a float32 tensor of shape ``(N, 1, 187)`` that requires a gradient:
       ``x = torch.as_tensor(x, dtype=torch.float32).reshape(n, 1, -1).clone().requires_grad_(True)``.
    2. The model in eval mode; ``logits = model(x)``, shape ``(N, n_classes)``.
    3. The target class of each beat: ``logits.argmax(1)`` when ``target`` is None, else the
       given class (one int for every beat, or one per beat).
    4. ``logits[torch.arange(n), target].sum()`` adds one logit per beat; each beat's logit
       depends on its own input only, so one backward pass gives every beat's gradient.
       ``torch.autograd.grad(total, x)`` returns it without touching any parameter's ``.grad``.
    5. Put the model's mode back (also when something raises: ``try``/``finally``) and return
       ``grad.abs()`` as a numpy array of shape ``(N, 187)``.

    EXAMPLE:
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(187, 2))
    >>> with torch.no_grad():
    ...     model[1].weight[:] = 0.0; model[1].weight[1, 10] = -3.0
    >>> s = saliency(model, np.ones((1, 187), np.float32), target=1)
    >>> s.shape, float(s[0, 10]), float(s.sum())
    ((1, 187), 3.0, 3.0)

    HINT: ``loss.backward()`` would also fill ``.grad`` of every parameter (and add to what
    training left there); ``torch.autograd.grad`` computes only what you ask for.

    Parameters
    ----------
    model : nn.Module
    x : array or tensor, shape (N, 187) or (N, 1, 187)
    target : int or sequence of int, optional
        The class whose logit is explained; default: each beat's predicted class.

    Returns
    -------
    np.ndarray, shape (N, 187), of the model's dtype (float32)
    """
    ### BEGIN SOLUTION
    modes = _modes(model)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = _targets(logits, target)
        total = logits[torch.arange(len(chosen)), chosen].sum()
        (grad,) = torch.autograd.grad(total, beats)
    finally:
        _restore(modes)
    return grad.abs().reshape(len(grad), -1).cpu().numpy()
    ### END SOLUTION


def grad_cam(model: nn.Module, x, layer, target=None) -> np.ndarray:
    """1-D Grad-CAM: where in time the channels of ``layer`` speak for the target class.

    Exercise 5.4.

    TODO: Weigh each channel of the layer's output by how much the target logit gains from it,
    add the channels up, keep the positive part, stretch it to the beat's length and scale it.

    APPROACH:
    1. ``layer`` is a module name (``dict(model.named_modules())[layer]``) or the module itself.
    2. A forward hook on it keeps its output ``A`` (shape ``(N, C, L)``) and calls
       ``A.retain_grad()`` (or use ``torch.autograd.grad(total, A)``); remove the hook in a
       ``finally:``. Run the model in eval mode on ``x``.
    3. The target logits as in ``saliency`` (prediction by default), summed; the gradient
       ``G = ∂ total / ∂ A``, shape ``(N, C, L)``.
    4. Channel weights ``alpha = G.mean(dim=2)``, shape ``(N, C)``; the map
       ``cam = relu((alpha[:, :, None] * A).sum(dim=1))``, shape ``(N, L)``.
    5. Stretch each row to the input length with linear interpolation:
       ``F.interpolate(cam[:, None], size=187, mode="linear", align_corners=False)[:, 0]``.
    6. Scale each row to [0, 1] by dividing by its maximum; a row that is all zeros stays zeros.
    7. Leave the model as it was (mode, no hook, no ``.grad`` on parameters); return a numpy
       array of shape ``(N, 187)``.

    EXAMPLE:
    >>> model = nn.Sequential(nn.Conv1d(1, 1, 1, bias=False), nn.Flatten(), nn.Linear(187, 1))
    >>> with torch.no_grad():
    ...     model[0].weight[:] = 1.0; model[2].weight[:] = 1.0
    >>> beat = np.zeros((1, 187), np.float32); beat[0, 50] = 2.0; beat[0, 60] = 1.0
    >>> cam = grad_cam(model, beat, "0", target=0)
    >>> cam.shape, float(cam[0, 50]), float(cam[0, 60]), float(cam[0, 0])
    ((1, 187), 1.0, 0.5, 0.0)

    For ``KachueeNet`` and ``layer="features.3"`` (20 steps) the map is 20 values stretched to 187.

    HINT: the ReLU comes before the stretching, the scaling after it; ``cam.amax(dim=1,
    keepdim=True)`` is each row's maximum (replace a 0 by 1 before dividing).

    Parameters
    ----------
    model : nn.Module
    x : array or tensor, shape (N, 187) or (N, 1, 187)
    layer : str or nn.Module
        A layer whose output has shape ``(N, channels, length)``.
    target : int or sequence of int, optional
        As in :func:`saliency`.

    Returns
    -------
    np.ndarray, shape (N, 187), of the model's dtype (float32), each row in [0, 1]
    """
    ### BEGIN SOLUTION
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if not kept or kept[0].dim() != 3:
            raise ValueError(f"layer {layer!r}: expected an output of shape (N, channels, length)")
        A = kept[0]
        chosen = _targets(logits, target)
        total = logits[torch.arange(len(chosen)), chosen].sum()
        (G,) = torch.autograd.grad(total, A)
    finally:
        handle.remove()
        _restore(modes)
    alpha = G.mean(dim=2)
    cam = torch.relu((alpha[:, :, None] * A).sum(dim=1)).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=False)[:, 0]
    peak = cam.amax(dim=1, keepdim=True)
    cam = cam / torch.where(peak > 0, peak, torch.ones_like(peak))
    return cam.cpu().numpy()
    ### END SOLUTION


def top_activating(activations, channel: int, k: int) -> np.ndarray:
    """The indices of the ``k`` beats with the largest mean activation of ``channel``.

    Exercise 5.5.

    TODO: Average the channel over time for each beat, then take the ``k`` largest, largest first.

    APPROACH:
    1. ``activations`` as a numpy array (``np.asarray``; a tensor: ``.cpu().numpy()``), shape
       ``(N, C, L)`` — or ``(N, C)`` for a dense layer, where a "channel" is one unit and there
       is nothing to average.
    2. The channel's mean over time: ``a[:, channel].mean(axis=-1)`` (``(N, C, L)``), shape ``(N,)``.
    3. Refuse activations of any other shape, a ``channel`` outside ``0..C-1`` and a ``k``
       outside ``1..N`` with ``ValueError``.
    4. Sort descending and keep the first ``k``: ``np.argsort(-means, kind="stable")[:k]``
       (beats with equal means may come in either order).

    EXAMPLE:
    >>> acts = np.array([[[0., 1.]], [[3., 3.]], [[1., 0.]], [[2., 2.]]])   # (4 beats, 1, 2)
    >>> top_activating(acts, channel=0, k=2)
    array([1, 3])

    HINT: ``np.argsort`` sorts ascending: sort ``-means`` (or reverse ``argsort(means)``, but
    then equal means come out in the wrong order).

    Parameters
    ----------
    activations : array or tensor, shape (N, C, L) or (N, C)
        One layer's output, e.g. ``capture_activations(model, X)["features.2"]``.
    channel : int
    k : int

    Returns
    -------
    np.ndarray of int64, shape (k,)
    """
    ### BEGIN SOLUTION
    a = activations.detach().cpu().numpy() if isinstance(activations, torch.Tensor) else np.asarray(activations)
    if a.ndim not in (2, 3):
        raise ValueError(f"activations: expected shape (N, C, L) or (N, C), got {a.shape}")
    n, c = a.shape[:2]
    if not 0 <= channel < c:
        raise ValueError(f"channel {channel} does not exist: the layer has {c} channels")
    if not 1 <= k <= n:
        raise ValueError(f"k={k}: expected at least one beat and at most the {n} there are")
    means = a[:, channel].mean(axis=-1) if a.ndim == 3 else a[:, channel]
    return np.argsort(-means, kind="stable")[:k]
    ### END SOLUTION
