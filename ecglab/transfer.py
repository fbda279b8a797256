# Exercise module of lesson 4: write your code where it says YOUR CODE HERE.
# Made from solutions/ecglab/transfer.py by `python -m autograder generate`, which
# never replaces a copy you have edited. (fingerprint 3bfd288f64fe)
"""Lesson 4 — transfer learning: from arrhythmia to myocardial infarction.

A network trained on the 5 MIT-BIH classes has learnt what a beat looks like. To detect
myocardial infarction (PTB, 2 classes) we keep what it learnt and retrain only part of it:

1. a new last layer with one output per new class                  -> :func:`replace_head`
2. only the last ``n`` layers with weights are trained, the rest
   is frozen                                                         -> :func:`set_trainable`

The ready-made fine-tuning loop (:func:`ecglab.training.fine_tune`) gives the optimizer only the
trainable parameters and keeps frozen batch-norm layers in eval mode.

"Layers with weights" are the ``nn.Conv1d`` and ``nn.Linear`` modules, in the order the model
defines them (``model.modules()``), which for the course's networks is the order ``forward``
uses them: ``KachueeNet`` has 14 (1 + 5 × 2 convolutions, 3 dense layers).
"""

from __future__ import annotations

from torch import nn

#: The modules that count as layers with weights.
WEIGHT_LAYERS = (nn.Conv1d, nn.Linear)


def replace_head(model: nn.Module, n_classes: int) -> nn.Module:
    """The model with its last ``nn.Linear`` replaced by a fresh ``Linear(in_features, n_classes)``.

    Exercise 4.1.

    TODO: Find the last ``nn.Linear`` and put a new, untrained one in its place.

    APPROACH:
    1. Go through ``model.named_modules()``: it yields ``(name, module)`` pairs such as
       ``("classifier.4", Linear(...))``; keep the last whose module is an ``nn.Linear``.
       None at all: raise ``ValueError``.
    2. Split its name at the last dot into the parent's name and the attribute
       (``"classifier"``, ``"4"``); the parent is ``model.get_submodule(parent_name)``.
    3. ``setattr(parent, attribute, nn.Linear(old.in_features, n_classes))`` (``setattr`` also
       replaces an item of an ``nn.Sequential``); put it on the old layer's device and dtype.
    4. Return the model (changed in place, as ``model.to(...)`` is).

    EXAMPLE:
    >>> model = nn.Sequential(nn.Conv1d(1, 4, 5), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 183, 5))
    >>> replace_head(model, n_classes=2)[-1]
    Linear(in_features=732, out_features=2, bias=True)

    For ``KachueeNet`` the new layer is ``model.classifier[4]``: ``Linear(32, 2)``.

    HINT: the new layer is trainable even if the model was frozen: a fresh ``nn.Linear`` has
    ``requires_grad=True``.

    Parameters
    ----------
    model : nn.Module
        A trained network, e.g. ``KachueeNet``.
    n_classes : int
        Outputs of the new last layer (at least 1).

    Returns
    -------
    nn.Module
        The same model object, whose last ``Linear`` now gives ``n_classes`` logits.
    """
    # YOUR CODE HERE
    raise NotImplementedError("exercise 4.1 (lesson 4): write replace_head")


def set_trainable(model: nn.Module, n_trainable: int) -> nn.Module:
    """Freeze the model except its last ``n_trainable`` layers with weights (Conv1d, Linear).

    Exercise 4.2.

    TODO: Set ``requires_grad`` of every parameter: True in the last ``n_trainable`` weight
    layers, False everywhere else.

    APPROACH:
    1. List the weight layers in order: the modules of ``model.modules()`` that are instances
       of ``nn.Conv1d`` or ``nn.Linear`` (``WEIGHT_LAYERS``).
    2. Refuse an ``n_trainable`` below 0 or above that number with ``ValueError``.
    3. Freeze everything: ``model.requires_grad_(False)`` (also layers that are neither, such as
       batch norm).
    4. Unfreeze the last ``n_trainable`` of the list: ``layer.requires_grad_(True)``. With 0,
       nothing is (``layers[-0:]`` is the whole list: careful).
    5. Return the model.

    EXAMPLE:
    >>> model = nn.Sequential(nn.Conv1d(1, 4, 5), nn.ReLU(), nn.Flatten(),
    ...                       nn.Linear(732, 32), nn.ReLU(), nn.Linear(32, 5))
    >>> model = set_trainable(model, 2)                 # the two Linear layers
    >>> [name for name, p in model.named_parameters() if p.requires_grad]
    ['3.weight', '3.bias', '5.weight', '5.bias']

    ``set_trainable(KachueeNet(), 3)`` leaves its three dense layers (3,301 parameters) trainable.

    HINT: freeze first, then unfreeze: a second call with a smaller ``n_trainable`` must freeze
    again what the first one left trainable.

    Parameters
    ----------
    model : nn.Module
    n_trainable : int
        How many of the last weight layers stay trainable (0: none).

    Returns
    -------
    nn.Module
        The same model object.
    """
    # YOUR CODE HERE
    raise NotImplementedError("exercise 4.2 (lesson 4): write set_trainable")
