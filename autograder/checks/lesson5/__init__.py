"""Checks of lesson 5 — interpreting the layers (``ecglab/interpret.py``, exercises 5.1-5.5).

The functions that look into a model are graded by behaviour through probes
(:mod:`autograder.probes`) on small networks made from specs, shaped as the course's (a
``features`` part with a residual block, batch norm and dropout, a ``classifier`` part), that
start in train mode and whose parameters carry ``.grad`` values, as after training:

* ``capture_activations``: the same layers' outputs (default: the modules directly in
  ``features`` and ``classifier``; chosen ones by name, nested ones too), detached, computed in
  eval mode (dropout and batch norm tell), with no hook left behind and the model's mode put
  back — also when the model raises in the middle of its forward pass;
* ``receptive_fields``: the reference's numbers *and* a measurement made here, in the grader: in
  a copy of the network with positive weights, one input sample is changed at a time and the
  outputs that move are seen (:func:`measured_fields`). Strides, dilation, average pooling,
  residual blocks and nested ``Sequential`` parts;
* ``saliency`` and ``grad_cam``: the same map, and the model left exactly as found: eval mode
  during the pass, its mode put back, no hook left, every parameter's ``.grad`` and
  ``requires_grad`` as they were, the beats untouched. Targets: the prediction, one class, one
  per beat; Grad-CAM of layers of several lengths, by name or as the module, rows that the ReLU
  leaves all zeros, and a layer without a time axis refused;
* ``top_activating``: the k largest mean activations, largest first, compared through the means
  computed here (so equal means may come in either order); dense layers (2-D), tensors, and
  out-of-range ``channel``/``k`` refused.
"""

from __future__ import annotations

import numpy as np

from ...cases import (Case, call, probe, same_activations, same_fields, same_map, top_k_like)
from ...grader import Context, check

#: The features of a small network shaped as the course's: a first convolution, batch norm, a
#: residual block (pooling 3, stride 2), dropout, a strided convolution, a max-pool.
FEATURES = [["Conv1d", [1, 4, 5, 1, 2]], ["BatchNorm1d", [4]], ["ReLU", []],
            ["Residual", [4, 3, 3, 2]], ["Dropout", [0.3]], ["Conv1d", [4, 6, 3, 2, 1]],
            ["ReLU", []], ["MaxPool1d", [2]]]                 # 187 -> 187 -> 93 -> 47 -> 23
CLASSIFIER = [["Linear", [6 * 23, 16]], ["ReLU", []], ["Dropout", [0.3]], ["Linear", [16, 5]]]
NET = [["Parts", [FEATURES, CLASSIFIER]]]
#: A network whose classifier raises in its forward pass (after the features ran).
FAILING = [["Parts", [FEATURES, [["Flatten", []], ["Raises", []]]]]]
#: KachueeNet's shape with 8 channels: a convolution and five residual blocks, 187 -> 2 steps.
KACHUEE_LIKE = [["Parts", [[["Conv1d", [1, 8, 5, 1, 2]]] + [["Residual", [8, 5, 5, 2]]] * 5,
                           [["Linear", [16, 8]], ["ReLU", []], ["Linear", [8, 5]]]]]]
#: Dilation, average pooling, a max-pool with a stride of its own and a nested Sequential.
DILATED = [["Parts", [[["Conv1d", [1, 3, 3, 1, 2, 2]], ["ReLU", []], ["AvgPool1d", [3, 2]],
                       ["Conv1d", [3, 3, 5, 1, 2]], ["MaxPool1d", [3, 3, 0, 2]],
                       ["Sequential", [["Conv1d", [3, 3, 3]], ["ReLU", []], ["Conv1d", [3, 3, 3]]]]],
                      [["Linear", [3 * 11, 5]]]]]]
PLAIN = [["Parts", [[["Conv1d", [1, 2, 7]], ["MaxPool1d", [2]], ["Conv1d", [2, 2, 3]]],
                    [["Linear", [2 * 88, 3]]]]]]


def measured_fields(spec, length: int = 1024) -> dict[str, int]:
    """The receptive field of each module of ``features``, measured: the network of ``spec`` (a
    spec of :func:`autograder.probes.make_model`, or a model, which is copied first) with every
    weight positive (1/fan-in), biases 0 and batch norm neutral, in eval mode, is run
    on ``length`` inputs, each one sample at 1 among zeros; an output step that moves (becomes
    positive: everything stays non-negative, so nothing cancels) sees that sample. The field is
    the span of the samples that move the middle output step of each module."""
    import torch

    from ... import probes

    import copy

    model = copy.deepcopy(spec) if isinstance(spec, torch.nn.Module) else probes.make_model(spec)
    model = model.double().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv1d, torch.nn.Linear)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
            if isinstance(module, torch.nn.BatchNorm1d):
                module.reset_running_stats()
                module.weight.fill_(1.0)
                module.bias.zero_()
        x = torch.eye(length, dtype=torch.float64)[:, None, :]   # input k: sample k is 1
        fields = {}
        for name, module in model.features.named_children():
            x = module(x)
            moved = torch.nonzero(x[:, :, x.shape[-1] // 2].amax(dim=1) > 0).flatten()
            span = int(moved.max() - moved.min() + 1)
            if span >= length // 2:
                raise ValueError(f"features.{name}: a field of {span} samples or more needs a "
                                 f"longer measurement than {length}")
            fields[f"features.{name}"] = span
    return fields


def _beats(rng, n=3, length=187):
    """Beat-like inputs: a smooth bump (the QRS) on noise, in [0, 1] as the Kaggle beats are."""
    t = np.arange(length)
    bumps = np.exp(-0.5 * ((t[None, :] - rng.integers(20, 60, size=(n, 1))) / 4.0) ** 2)
    return np.clip(bumps + 0.15 * rng.random((n, length)), 0, 1).astype(np.float32)[:, None, :]


@check("5.1")
def capture_activations_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    same = same_activations()
    x = _beats(rng)
    return [
        Case("every layer of features and classifier (the default)",
             [probe("activations_on", NET, x)], same,
             hint="register_forward_hook on each module of model.features and model.classifier "
                  "(named_children()), named 'features.0', ..., 'classifier.3'"),
        Case("chosen layers by name, nested ones too, in the order asked",
             [probe("activations_on", NET, x, layers=["features.3.conv1", "classifier.3", "features.0"]),
              probe("activations_on", NET, x, layers=["features.5"])], same,
             hint="dict(model.named_modules())[name] finds any module by its dotted name"),
        Case("a model in train mode (dropout, batch norm): eval mode for the pass, then put back",
             [probe("activations_on", NET, x, train=True)], same,
             hint="model.eval() before the forward pass, model.train(was_training) after it"),
        Case("a model in eval mode stays in eval mode",
             [probe("activations_on", NET, x, train=False, layers=["features.1", "classifier.0"])], same),
        Case("the outputs are detached, the hooks removed",
             [probe("activations_on", KACHUEE_LIKE, x[:2])], same,
             hint="store output.detach() (or run under torch.no_grad()); keep the handle of each "
                  "register_forward_hook and call handle.remove()"),
        Case("a model that raises in its forward pass: the error reaches you, no hook is left",
             [probe("activations_on", FAILING, x, raises=True, layers=["features.0", "features.3"])],
             same, hint="remove the hooks and put the mode back in a finally: block"),
        Case("beats as (N, 187) and as a tensor, one beat",
             [probe("activations_on", NET, x[:, 0], layers=["features.0", "features.7"]),
              probe("activations_on", NET, x[:1], tensor=True, layers=["classifier.0"])], same,
             hint="model(x) takes (N, 187) too (the network adds the channel axis)"),
        Case("an unknown layer name raises KeyError",
             [probe("activations_on", NET, x, layers=["features.9"])], same,
             hint="look each name up in dict(model.named_modules()) before registering any hook"),
    ]


@check("5.2")
def receptive_fields_cases(ctx: Context) -> list[Case]:
    same = same_fields()

    def measured(spec):
        return probe("fields_on", spec).against(
            {"value": measured_fields(spec), "hooks_left": 0, "changed": []},
            "a measurement (one input sample changed at a time)")

    return [
        Case("convolutions and a max-pool", [measured(PLAIN)], same,
             hint="r += (k - 1) * d * j, then j *= s, for each layer with a kernel"),
        Case("batch norm, a residual block, dropout, a strided convolution",
             [measured(NET)], same,
             hint="walk a block's children (module.children()) in order; ReLU, BatchNorm1d and "
                  "Dropout change neither r nor j"),
        Case("dilation, average pooling, a nested Sequential", [measured(DILATED)], same,
             hint="a dilated kernel of size k spans (k - 1) * d + 1 samples; AvgPool1d has no "
                  "dilation (1)"),
        Case("a KachueeNet-shaped network: five residual blocks", [measured(KACHUEE_LIKE)], same,
             hint="the jump doubles in every block (its max-pool has stride 2): 5, 17, 41, ..."),
    ]


@check("5.3")
def saliency_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    same = same_map(atol=1e-5, what="saliency")
    x = _beats(rng, n=4)
    return [
        Case("the predicted class of each beat (target=None)",
             [probe("attribution_on", NET, x), probe("attribution_on", KACHUEE_LIKE, x[:2])], same,
             hint="|d logit / d input| of logits.argmax(1), one row of 187 per beat"),
        Case("one target class for every beat", [probe("attribution_on", NET, x, target=2)], same,
             hint="the logit of the target class, not the largest one"),
        Case("one target class per beat", [probe("attribution_on", NET, x, target=[0, 4, 1, 1])], same,
             hint="logits[torch.arange(n), target]"),
        Case("the parameters' .grad (left by training) are untouched",
             [probe("attribution_on", NET, x[:2], grads=True), probe("attribution_on", NET, x[:2], grads=False)],
             same, hint="torch.autograd.grad(total, x) leaves every .grad as it was; .backward() adds to them"),
        Case("frozen layers stay frozen, trainable ones trainable",
             [probe("attribution_on", NET, x[:2], frozen=["features"])], same,
             hint="you need no requires_grad on the parameters: only the input needs it"),
        Case("a model in train mode: eval mode for the pass, then put back",
             [probe("attribution_on", NET, x[:2], train=True), probe("attribution_on", NET, x[:2], train=False)],
             same, hint="model.eval() for the pass, the mode put back in a finally: block"),
        Case("beats as (N, 187), as a tensor (left unchanged), one beat",
             [probe("attribution_on", NET, x[:, 0]), probe("attribution_on", NET, x[:3], tensor=True),
              probe("attribution_on", NET, x[:1], target=3)], same,
             hint="make a new tensor that requires grad (torch.as_tensor(x).clone()); never change the caller's"),
    ]


@check("5.4")
def grad_cam_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    same = same_map(atol=1e-4, what="grad_cam")
    x = _beats(rng, n=6)
    return [
        Case("the residual block's output (93 steps) for the predicted classes",
             [probe("attribution_on", NET, x, layer="features.3", seed=1)], same,
             hint="alpha = G.mean(2); cam = relu((alpha[:, :, None] * A).sum(1)); stretched to "
                  "187 with F.interpolate(..., mode='linear', align_corners=False); / row max"),
        Case("a strided convolution (47 steps) and the last max-pool (23 steps), target 1",
             [probe("attribution_on", NET, x, layer="features.5", target=1, seed=7),
              probe("attribution_on", NET, x, layer="features.7", target=1, seed=1)], same,
             hint="the map is as long as the layer's output; stretch it linearly to 187"),
        Case("every target class: rows that the ReLU leaves all zeros stay zeros",
             [probe("attribution_on", NET, x[:3], layer="features.7", target=t) for t in range(5)], same,
             hint="keep the positive part (ReLU) before stretching; divide by the row's maximum "
                  "only where it is above 0"),
        Case("one target per beat; the first layer (187 steps)",
             [probe("attribution_on", NET, x[:3], layer="features.0", target=[4, 0, 2])], same),
        Case("five residual blocks: the last one has 2 steps",
             [probe("attribution_on", KACHUEE_LIKE, x[:3], layer="features.5", seed=4),
              probe("attribution_on", KACHUEE_LIKE, x[:3], layer="features.3")], same),
        Case("the layer given as the module itself",
             [probe("attribution_on", NET, x[:3], layer="features.3", as_module=True, seed=3)], same,
             hint="accept a name (a str) or an nn.Module: isinstance(layer, str)"),
        Case("the model left as found: hooks, .grad, requires_grad, mode",
             [probe("attribution_on", NET, x[:2], layer="features.3", frozen=["classifier"]),
              probe("attribution_on", NET, x[:2], layer="features.3", grads=False, train=False)], same,
             hint="remove the hook and put the mode back in a finally: block; torch.autograd.grad "
                  "leaves the parameters' .grad alone"),
        Case("beats as (N, 187) and as a tensor",
             [probe("attribution_on", NET, x[:3, 0], layer="features.5"),
              probe("attribution_on", NET, x[:3], layer="features.5", tensor=True)], same),
        Case("a layer without a time axis (a Linear) raises ValueError, and leaves no hook",
             [probe("attribution_on", NET, x[:2], layer="classifier.0", raises=True),
              probe("attribution_on", NET, x[:2], layer="classifier.0")], same,
             hint="check that the layer's output has 3 dimensions (N, channels, length)"),
    ]


def _means(a, channel):
    a = np.asarray(a, dtype=np.float64)
    return a[:, channel].mean(axis=-1) if a.ndim == 3 else a[:, channel]


@check("5.5")
def top_activating_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    acts = rng.normal(size=(30, 4, 12)).astype(np.float32)
    dense = rng.normal(size=(20, 6)).astype(np.float32)
    ties = np.repeat(rng.normal(size=(5, 2, 3)), 2, axis=0)[rng.permutation(10)]

    def case(name, a, channel, k, hint="", tensor=False):
        c = probe("call_with_tensors", a, channel, k) if tensor else call(a, channel, k)
        return Case(name, [c], top_k_like(_means(a, channel)), hint=hint)

    return [
        case("the 5 beats of largest mean activation of channel 2, largest first", acts, 2, 5,
             hint="means = a[:, channel].mean(axis=-1); np.argsort(-means)[:k]"),
        case("k = 1 and k = N", acts, 0, 1),
        case("every beat (k = N), in order", acts, 3, 30,
             hint="largest first: argsort sorts ascending, so sort -means"),
        case("the mean over time, not the maximum or the first step",
             np.concatenate([np.zeros((8, 1, 10)), rng.random((8, 1, 10)) ** 4], axis=1)
             .astype(np.float32), 1, 4),
        case("a dense layer's output (N, units): one unit's value", dense, 5, 3,
             hint="a 2-D activation has no time axis: a[:, channel] is already the value"),
        case("activations as a torch tensor", acts, 1, 4, tensor=True,
             hint="a tensor: .detach().cpu().numpy() first"),
        case("equal means (either order of equal beats is right)", ties, 0, 6),
        case("activations as nested lists (np.asarray takes them)", acts[:6].tolist(), 1, 3,
             hint="np.asarray(activations) first"),
        Case("channel out of range, k = 0 or k > N raise ValueError",
             [call(acts, 4, 3), call(acts, -1, 3), call(acts, 0, 0), call(acts, 0, 31)],
             top_k_like(_means(acts, 0)),
             hint="check 0 <= channel < C and 1 <= k <= N and raise ValueError"),
        Case("activations that are neither (N, C, L) nor (N, C) raise ValueError",
             [call(acts[:, :, :, None].repeat(2, axis=3), 0, 2), call(acts[:, 0, 0], 0, 2)],
             top_k_like(_means(acts, 0)),
             hint="check a.ndim in (2, 3) and raise ValueError otherwise"),
    ]
