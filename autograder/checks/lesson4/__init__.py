"""Checks of lesson 4 — transfer learning (``ecglab/transfer.py``, exercises 4.1-4.2).

Both functions change a model in place, so both are graded through probes
(:mod:`autograder.probes`) on small models made from specs: a plain ``nn.Sequential``, a network
with ``features`` and ``classifier`` parts as the course's networks have, and a module whose last
layer is an attribute ``head`` (no ``Sequential`` to index into), some of them frozen first.

* ``replace_head``: the model comes back (the same object), every parameter but the old last
  ``Linear``'s is as it was, the new last layer is a fresh, trainable
  ``Linear(in_features, n_classes)`` in the old one's place, of the old one's dtype (a float64
  model) and on its device (a model on torch's ``meta`` device, which every machine has), and
  the output has ``n_classes`` columns;
* ``set_trainable``: after each of a sequence of calls (more, then fewer trainable layers), the
  same parameters are trainable as with the reference — batch-norm parameters frozen, the
  weight layers counted in order, ``0`` freezing everything.
"""

from __future__ import annotations

import numpy as np

from ...cases import Case, head_replaced, probe, same_trainable
from ...grader import Context, check


def _kachuee_like(n_classes=5, norm=False):
    """A small network shaped like KachueeNet: ``features`` (convolutions) and ``classifier``."""
    features = [["Conv1d", [1, 4, 5, 1, 2]]] + ([["BatchNorm1d", [4]]] if norm else []) + \
               [["ReLU", []], ["Conv1d", [4, 4, 5, 1, 2]], ["ReLU", []], ["MaxPool1d", [5, 2]],
                ["AdaptiveMaxPool1d", [2]], ["Flatten", []]]
    classifier = [["Linear", [8, 6]], ["ReLU", []], ["Linear", [6, 6]], ["ReLU", []],
                  ["Linear", [6, n_classes]]]
    return [["Sequential", features], ["Sequential", classifier]]


PLAIN = [["Flatten", []], ["Linear", [187, 16]], ["ReLU", []], ["Linear", [16, 5]]]
HEADED = [["Headed", [[["Conv1d", [1, 3, 5]], ["AdaptiveAvgPool1d", [4]], ["Flatten", []]], 12, 5]]]


def _x(rng, n=3):
    return rng.normal(size=(n, 1, 187)).astype(np.float32)


@check("4.1")
def replace_head_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    same = head_replaced()
    x = _x(rng)
    return [
        Case("a Sequential: its last Linear becomes Linear(16, 2)",
             [probe("replace_head_on", PLAIN, 2, x=x)], same,
             hint="the last nn.Linear of model.named_modules(); a new nn.Linear(old.in_features, "
                  "n_classes) in its place"),
        Case("a network with features and classifier, as KachueeNet: 5 classes -> 2",
             [probe("replace_head_on", _kachuee_like(), 2, x=x),
              probe("replace_head_on", _kachuee_like(), 3, x=x)], same,
             hint="the last Linear is model.classifier[4]: setattr(model.classifier, '4', new) "
                  "(or model.classifier[4] = new)"),
        Case("a last layer that is an attribute (model.head), not in a Sequential",
             [probe("replace_head_on", HEADED, 2, x=x)], same,
             hint="split the module's name at the last dot: parent = model.get_submodule(...), "
                  "then setattr(parent, attribute, new)"),
        Case("the other layers keep their weights; the new layer is fresh",
             [probe("replace_head_on", _kachuee_like(), 5, x=x)], same,
             hint="a new nn.Linear, even for the same number of classes; leave every other layer alone"),
        Case("a frozen model gets a trainable head",
             [probe("replace_head_on", _kachuee_like(), 2, frozen=[0, 1], x=x)], same,
             hint="a fresh nn.Linear has requires_grad=True: do not copy the old layer's settings"),
        Case("a float64 model gets a float64 head",
             [probe("replace_head_on", _kachuee_like(), 2, x=x, dtype="float64")], same,
             hint="give the new layer the old layer's dtype (old.weight.dtype)"),
        Case("a model on another device gets its new head on that device ('meta' here)",
             [probe("replace_head_on", _kachuee_like(), 2, device="meta")], same,
             hint="put the new layer on the old layer's device (old.weight.device): a fresh "
                  "nn.Linear is made on the CPU"),
        Case("n_classes=1 gives one output; n_classes=0 raises ValueError",
             [probe("replace_head_on", PLAIN, 1, x=x), probe("replace_head_on", PLAIN, 0)], same,
             hint="a head needs at least one output: raise ValueError if n_classes < 1"),
        Case("a model without a Linear layer raises ValueError",
             [probe("replace_head_on", [["Conv1d", [1, 2, 3]], ["Flatten", []]], 2)], same,
             hint="if no module is an nn.Linear, raise ValueError"),
    ]


@check("4.2")
def set_trainable_cases(ctx: Context) -> list[Case]:
    same = same_trainable()
    net = _kachuee_like()
    return [
        Case("0 freezes everything", [probe("set_trainable_on", net, [0])], same,
             hint="model.requires_grad_(False) freezes every parameter"),
        Case("1: only the last Linear is trainable (the head)", [probe("set_trainable_on", net, [1])],
             same, hint="the weight layers are the Conv1d and Linear modules of model.modules(), in order"),
        Case("3 and 4: the dense layers, then one convolution too",
             [probe("set_trainable_on", net, [3]), probe("set_trainable_on", net, [4])], same,
             hint="the last n_trainable of that list: layers[len(layers) - n_trainable:]"),
        Case("all five weight layers", [probe("set_trainable_on", net, [5])], same),
        Case("a second call with fewer layers freezes the others again",
             [probe("set_trainable_on", net, [5, 2, 0]), probe("set_trainable_on", net, [1, 4])],
             same, hint="freeze everything first, then unfreeze the last n_trainable layers"),
        Case("a layer frozen before the call is made trainable if it is among the last",
             [probe("set_trainable_on", net, [2], frozen=[1])], same,
             hint="set requires_grad to True for the chosen layers, whatever it was"),
        Case("batch norm and other layers without Conv1d/Linear weights are frozen",
             [probe("set_trainable_on", _kachuee_like(norm=True), [5, 4])], same,
             hint="only Conv1d and Linear layers count, and every other parameter is frozen"),
        Case("a plain Sequential and a model with a head attribute",
             [probe("set_trainable_on", PLAIN, [1, 2]), probe("set_trainable_on", HEADED, [1])], same),
        Case("n_trainable below 0 or above the number of weight layers raises ValueError",
             [probe("set_trainable_on", net, [6]), probe("set_trainable_on", net, [-1])], same,
             hint="check 0 <= n_trainable <= len(layers) and raise ValueError otherwise"),
    ]
