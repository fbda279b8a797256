"""Checks of lesson 2 — building the CNN (``ecglab/models.py``, exercises 2.1-2.5).

2.1 is a function of numbers, compared with the reference directly (and the reference with
``nn.Conv1d`` itself, in the test suite). The classes and ``count_parameters`` are graded through
probes (:mod:`autograder.probes`): the worker builds the student's model under a fixed seed and
reports data — parameter counts, the layers in the order ``forward`` uses them, output shapes,
outputs with weights the grader made from the reference, whether gradients reach every
parameter — and the grader compares that with the same probe run on the reference.

``KachueeNet`` is built from ``ResidualBlock``, another exercise, and a class cannot be served by
the grader as a function can. So that a mistake in the block costs only 2.2, every probe of 2.3
builds the student's network with a *stand-in* for ``ResidualBlock`` made from data alone
(``probes.stand_in_class``): it has the reference block's parameter shapes and, in the value
cases, gives the reference block's output for its place, while the check makes sure that each
block receives the input it should. So 2.3 grades the network's own code (stem, five blocks in
order, flatten, dense layers), 2.2 the block.
"""

from __future__ import annotations

import numpy as np

from ...cases import (Case, call, probe, reaches_all_parameters, same_forward, same_layers,
                      same_shapes, same_value, value_leaving_model)
from ...grader import Context, check
from ... import probes
from .. import ecg

BEAT = 187


@check("2.1")
def conv_output_length_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    exact = same_value()
    many = []
    while len(many) < 30:
        k, s, p, d = (int(rng.integers(1, 12)), int(rng.integers(1, 5)), int(rng.integers(0, 6)),
                      int(rng.integers(1, 4)))
        n = int(rng.integers(1, 300))
        if n + 2 * p - d * (k - 1) - 1 >= 0:
            many.append(call(n, k, stride=s, padding=p, dilation=d))
    return [
        Case("an int, from floor division",
             [call(187, 5, stride=2), call(100, 3, stride=3)], exact,
             hint="// is floor division and gives an int; / gives a float (92.0, not 92)"),
        Case("'same' padding keeps the length",
             [call(187, 5, padding=2), call(187, 7, padding=3), call(93, 3, padding=1)], exact,
             hint="padding adds that many samples at each end: length + 2 * padding in all"),
        Case("no padding: the kernel must fit",
             [call(187, 5), call(10, 10), call(50, 3)], exact,
             hint="a kernel of k samples fits length - k + 1 times"),
        Case("stride: MaxPool1d(5, stride=2) takes 187 samples to 92",
             [call(187, 5, stride=2), call(187, 2, stride=2), call(11, 3, stride=3),
              call(100, 4, stride=3, padding=1)], exact,
             hint="(padded - span) // stride + 1 with floor division; the result is an int"),
        Case("dilation spreads the kernel",
             [call(10, 3, dilation=4), call(187, 5, padding=4, dilation=2),
              call(50, 2, stride=2, dilation=7)], exact,
             hint="a dilated kernel spans dilation * (kernel_size - 1) + 1 samples"),
        Case("the lengths through KachueeNet's blocks: 187, 92, 44, 20, 8, 2",
             [call(n, 5, stride=2) for n in (187, 92, 44, 20, 8)], exact),
        Case("an output that would be empty raises ValueError",
             [call(4, 5), call(3, 3, dilation=2), call(4, 6, stride=3), call(0, 1)], exact,
             hint="if the formula gives less than 1, raise ValueError; with a negative numerator "
                  "// floors towards minus infinity, int(a / b) would round towards 0"),
        Case("30 random shapes, as nn.Conv1d computes them", many, exact),
    ]


def _x(rng, *shape) -> np.ndarray:
    return rng.normal(size=shape).astype(np.float32)


@check("2.2")
def residual_block_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    block = ctx.reference("models.ResidualBlock")
    w32 = probes.weights(block, (32, 5), input_shape=(2, 32, BEAT))
    w8 = probes.weights(block, (8, 3), input_shape=(2, 8, 30))
    forward = same_forward()
    return [
        Case("ResidualBlock(32, 5) has 2 × (32·32·5 + 32) = 10,304 parameters",
             [probe("parameter_count", (32, 5)), probe("parameter_count", (16, 3)),
              probe("parameter_count")], same_value(),
             hint="two nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2), "
                  "each with a bias; pooling has no parameters (defaults: channels=32, kernel_size=5)"),
        Case("two convolutions, in the order forward uses them",
             [probe("layer_shapes", (32, 5), input_shape=(2, 32, BEAT)),
              probe("layer_shapes", (16, 3), input_shape=(2, 16, 40))], same_layers(),
             hint="conv1 then conv2, both channels -> channels, with padding=kernel_size // 2 "
                  "so that they keep the length for any kernel size (y + x needs equal lengths)"),
        Case("output shape (N, C, L) -> (N, C, (L - 5) // 2 + 1)",
             [probe("output_shapes", (32, 5), input_shapes=[(4, 32, BEAT), (1, 32, 92), (2, 32, 9)]),
              probe("output_shapes", (16, 3), input_shapes=[(3, 16, 50)])], same_shapes(),
             hint="padding=kernel_size // 2 keeps the length through the convolutions; then "
                  "nn.MaxPool1d(5, stride=2)"),
        Case("values, with the reference's weights",
             [probe("forward_with", (32, 5), layers=w32, x=_x(rng, 4, 32, BEAT)),
              probe("forward_with", (8, 3), layers=w8, x=_x(rng, 2, 8, 30))], forward,
             hint="conv1 -> ReLU -> conv2 -> + x -> ReLU -> MaxPool1d(5, stride=2)"),
        Case("a negative input: the ReLU comes after the addition",
             [probe("forward_with", (8, 3), layers=w8, x=-np.abs(_x(rng, 2, 8, 30)) - 1.0)], forward,
             hint="torch.relu(y + x), not torch.relu(y) + x: the skip connection is added first"),
        Case("gradients reach both convolutions and the input",
             [probe("gradients", (8, 3), x=_x(rng, 2, 8, 30), layers=w8)], reaches_all_parameters(),
             hint="every layer's output must depend on its input: no .detach(), no numpy in forward"),
    ]


def _network_cases(ctx: Context, name: str, total: int, blocks: bool) -> list[Case]:
    """The cases KachueeNet and SimpleCNN share: counts, layers, shapes, values, parts, gradients.

    With ``blocks`` the network is built of ``ResidualBlock``s, and every probe builds it with a
    stand-in for that class (``probes.stand_in_class``): the reference block's parameter shapes,
    and in the value cases the reference block's output for its place. So 2.3 grades the
    student's network on its own code, whatever the state of their ResidualBlock.
    """
    rng = ctx.rng
    net = ctx.reference(f"models.{name}")
    w5 = probes.weights(net, (5,))
    w2 = probes.weights(net, (2,))
    label, beats = ecg.beats(ctx.data_dir)
    x = _x(rng, 6, 1, BEAT)
    block = ctx.reference("models.ResidualBlock")
    shapes = probes.layer_shapes(block, (32, 5), input_shape=(2, 32, BEAT))

    def stand_in(layers=None, x=None, args=(5,)):
        if not blocks:
            return None
        outputs = None if layers is None else probes.capture(net, args, layers=layers, x=x,
                                                             class_name="ResidualBlock")
        return {"class": "ResidualBlock", "layers": shapes, "pool": [5, 2], "outputs": outputs}

    forward = same_forward(what="logits")
    return [
        Case(f"{total:,} parameters for 5 classes",
             [probe("parameter_count", (5,), stand_in=stand_in()),
              probe("parameter_count", stand_in=stand_in())], same_value(),
             hint=f"see the docstring for every layer; {name}(n_classes=5) is the default"
                  + ("; five separate ResidualBlock(32, 5) objects, not [block] * 5 (which is one "
                     "block, with one set of weights, used five times)" if blocks else "")),
        Case("other numbers of classes",
             [probe("parameter_count", (2,), stand_in=stand_in()),
              probe("parameter_count", kwargs={"n_classes": 3}, stand_in=stand_in())],
             same_value(), hint="only the last Linear depends on n_classes: Linear(32, n_classes)"),
        Case("the layers, in the order forward uses them",
             [probe("layer_shapes", (5,), stand_in=stand_in())], same_layers()),
        Case("input (N, 187) or (N, 1, 187), logits (N, n_classes)",
             [probe("output_shapes", (5,), input_shapes=[(4, BEAT), (4, 1, BEAT), (1, BEAT)],
                    stand_in=stand_in()),
              probe("output_shapes", (2,), input_shapes=[(3, BEAT)], stand_in=stand_in())],
             same_shapes(),
             hint="a 2-D input gets its channel axis first (x.unsqueeze(1)); flatten the features "
                  "to (N, channels * length) before the first Linear"),
        Case("logits with the reference's weights",
             [probe("forward_with", (5,), layers=w5, x=x, stand_in=stand_in(w5, x))], forward,
             hint=("features, then flatten(1), then classifier: a ReLU after every convolution "
                   "and between the dense layers, no softmax at the end (the loss takes logits)")),
        Case(f"ECG beats as (N, 187): {label}",
             [probe("forward_with", (5,), layers=w5, x=beats,
                    stand_in=stand_in(w5, beats[:, None]))], forward),
        Case("two classes (lesson 4's MI task)",
             [probe("forward_with", (2,), layers=w2, x=x[:3], stand_in=stand_in(w2, x[:3], (2,)))],
             forward),
        Case("classifier(features(x).flatten(1)) gives the logits, as lessons 3-5 use the model",
             [probe("through_parts", (5,), layers=w5, x=x, stand_in=stand_in(w5, x))], forward,
             hint="keep the convolutional part in self.features and the dense part in "
                  "self.classifier, and make forward use exactly those two"),
        Case("gradients reach every layer and the input",
             [probe("gradients", (5,), x=x[:2], layers=w5, stand_in=stand_in())],
             reaches_all_parameters(),
             hint="every layer's output must depend on its input: no .detach(), no numpy in forward"),
    ]


@check("2.3")
def kachuee_net_cases(ctx: Context) -> list[Case]:
    return _network_cases(ctx, "KachueeNet", 55_013, blocks=True)


@check("2.4")
def simple_cnn_cases(ctx: Context) -> list[Case]:
    return _network_cases(ctx, "SimpleCNN", 126_117, blocks=False)


@check("2.5")
def count_parameters_cases(ctx: Context) -> list[Case]:
    count = value_leaving_model(same_value())
    cnn = [["Conv1d", [1, 4, 3]], ["ReLU", []], ["MaxPool1d", [2]], ["Flatten", []],
           ["Linear", [4 * 10, 3]]]
    return [
        Case("one Linear layer: weights and biases",
             [probe("call_on_model", [["Linear", [64, 32]]]),
              probe("call_on_model", [["Linear", [10, 3, False]]])], count,
             hint="sum p.numel() over model.parameters(); a layer's weight has out × in elements"),
        Case("a small CNN: every layer's parameters", [probe("call_on_model", cnn)], count,
             hint="model.parameters() goes through all submodules (recurse=True is the default)"),
        Case("batch norm: its running mean and variance are buffers, not parameters",
             [probe("call_on_model", [["Conv1d", [1, 4, 3]], ["BatchNorm1d", [4]]])], count,
             hint="count model.parameters() only, not model.state_dict() or buffers()"),
        Case("a layer used twice counts once",
             [probe("call_on_model", [["Linear", [8, 8]], ["ReLU", []], ["same", 0]])], count,
             hint="model.parameters() yields a shared parameter once; going through every "
                  "module's parameters yourself counts it twice"),
        Case("trainable_only=True skips frozen parameters",
             [probe("call_on_model", cnn, frozen=[0], trainable_only=True),
              probe("call_on_model", cnn, frozen=[0, 4], trainable_only=True)], count,
             hint="with trainable_only, count only parameters whose requires_grad is True"),
        Case("trainable_only=False (the default) counts frozen parameters too",
             [probe("call_on_model", cnn, frozen=[0], trainable_only=False),
              probe("call_on_model", cnn, frozen=[0])], count,
             hint="without trainable_only, every parameter counts, frozen or not"),
    ]
