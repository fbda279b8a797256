# Exercise module of lesson 2: write your code where it says YOUR CODE HERE.
# Made from solutions/ecglab/models.py by `python -m autograder generate`, which
# never replaces a copy you have edited. (fingerprint bfe75949b752)
"""Lesson 2 — building the CNN: 1-D convolutions, residual blocks and two heartbeat classifiers.

A beat is 187 samples of one ECG lead; a network sees it as a tensor of shape ``(N, 1, 187)``
(batch, channels, time). This module builds, from the bottom up:

1. the length of a convolution's output, PyTorch's formula          -> :func:`conv_output_length`
2. a residual block: conv, ReLU, conv, + input, ReLU, max-pool      -> :class:`ResidualBlock`
3. Kachuee et al.'s network: a conv and five residual blocks,
   then three dense layers (55,013 parameters for 5 classes)       -> :class:`KachueeNet`
4. a plain "4 convolution + 4 fully connected layers" network      -> :class:`SimpleCNN`
5. how many numbers a model learns                                 -> :func:`count_parameters`

Both networks keep their convolutional part in ``features`` and their dense part in
``classifier``, and accept beats as ``(N, 187)`` or ``(N, 1, 187)``: lessons 3-5 train, transfer
and open them up through those two attributes. Lengths are in samples.
"""

from __future__ import annotations

import torch
from torch import nn

BEAT_LENGTH = 187   # samples per beat, as in the Kaggle heartbeat CSVs


def conv_output_length(length: int, kernel_size: int, stride: int = 1, padding: int = 0,
                       dilation: int = 1) -> int:
    """The number of samples a ``Conv1d`` or ``MaxPool1d`` gives for an input of ``length`` samples.

    Exercise 2.1.

    TODO: Return PyTorch's output length, and refuse a layer whose output would be empty.

    APPROACH:
    1. Padding adds ``padding`` samples at each end: ``length + 2 * padding`` in all.
    2. A dilated kernel spans ``dilation * (kernel_size - 1) + 1`` samples.
    3. The kernel fits ``(padded - span) // stride + 1`` times (floor division: a last,
       incomplete step is dropped).
    4. If that is less than 1, raise ``ValueError`` (``nn.Conv1d`` refuses such an input too).

    EXAMPLE:
    >>> conv_output_length(187, kernel_size=5, padding=2)      # "same" padding keeps the length
    187
    >>> conv_output_length(187, kernel_size=5, stride=2)       # MaxPool1d(5, stride=2)
    92
    >>> conv_output_length(10, kernel_size=3, dilation=4)      # spans 9 samples
    2

    HINT: ``//`` floors towards minus infinity; ``int(a / b)`` rounds towards 0, which differs
    when the numerator is negative.

    Parameters
    ----------
    length : int
        Input length in samples.
    kernel_size, stride, padding, dilation : int
        The layer's settings, as ``nn.Conv1d`` takes them.

    Returns
    -------
    int
        Output length in samples (at least 1).
    """
    # YOUR CODE HERE
    raise NotImplementedError("exercise 2.1 (lesson 2): write conv_output_length")


class ResidualBlock(nn.Module):
    """Kachuee et al.'s residual block: conv → ReLU → conv → + input → ReLU → max-pool.

    Exercise 2.2.

    TODO: Build the layers in ``__init__`` and chain them in ``forward``.

    APPROACH:
    1. Two ``nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)``: with that
       padding a convolution keeps the length, so its output can be added to its input.
    2. ``forward``: ``y = conv2(relu(conv1(x)))``, then ``relu(y + x)`` — the skip connection
       lets the signal (and its gradient) pass the block unchanged where the convolutions
       have nothing to add.
    3. Finish with ``nn.MaxPool1d(5, stride=2)``: the length goes from L to (L - 5) // 2 + 1.

    EXAMPLE:
    >>> block = ResidualBlock(channels=32, kernel_size=5)
    >>> block(torch.zeros(8, 32, 187)).shape
    torch.Size([8, 32, 92])

    HINT: ``torch.relu(y + x)``, not ``torch.relu(y) + x``: the ReLU comes after the addition.

    Parameters
    ----------
    channels : int
        Channels in and out (the block keeps them).
    kernel_size : int
        Kernel size of both convolutions (odd, so that the padding keeps the length).

    Shapes: input ``(N, channels, L)``, output ``(N, channels, (L - 5) // 2 + 1)``.
    """

    def __init__(self, channels: int = 32, kernel_size: int = 5):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("exercise 2.2 (lesson 2): write ResidualBlock")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # YOUR CODE HERE
        raise NotImplementedError("exercise 2.2 (lesson 2): write ResidualBlock")


class KachueeNet(nn.Module):
    """The network of Kachuee, Fazeli & Sarrafzadeh (2018), Fig. 2.

    Exercise 2.3.

    TODO: Build ``features`` (the convolutional part) and ``classifier`` (the dense part).

    APPROACH:
    1. ``features``: ``nn.Conv1d(1, 32, 5, padding=2)``, then five ``ResidualBlock(32, 5)``.
       Each block halves the length: 187 → 92 → 44 → 20 → 8 → 2, so 32 channels × 2 samples
       = 64 numbers come out per beat.
    2. ``classifier``: ``Linear(64, 32)`` → ReLU → ``Linear(32, 32)`` → ReLU →
       ``Linear(32, n_classes)``. No softmax: the network returns logits, and the loss
       (``nn.CrossEntropyLoss``) applies the softmax itself.
    3. ``forward``: a beat batch of shape ``(N, 187)`` gets its channel axis first
       (``x.unsqueeze(1)``); then ``features``, flatten to ``(N, 64)``, ``classifier``.

    EXAMPLE:
    >>> net = KachueeNet(n_classes=5)
    >>> net(torch.zeros(4, 187)).shape
    torch.Size([4, 5])
    >>> count_parameters(net)          # exercise 2.5
    55013

    HINT: ``nn.Sequential(*[ResidualBlock(32, 5) for _ in range(5)])`` makes five *different*
    blocks; ``[block] * 5`` would repeat one block, with one set of weights.

    Parameters
    ----------
    n_classes : int
        Number of classes (5 for the AAMI classes N, S, V, F, Q; 2 for MI).

    Shapes: input ``(N, 187)`` or ``(N, 1, 187)``, output logits ``(N, n_classes)``.
    """

    def __init__(self, n_classes: int = 5):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("exercise 2.3 (lesson 2): write KachueeNet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # YOUR CODE HERE
        raise NotImplementedError("exercise 2.3 (lesson 2): write KachueeNet")


class SimpleCNN(nn.Module):
    """A plain "4 convolution + 4 fully connected layers" network, no skip connections.

    Exercise 2.4.

    TODO: Build ``features`` and ``classifier`` as below, and chain them in ``forward``.

    APPROACH:
    1. ``features``: four blocks of ``Conv1d`` → ReLU → ``MaxPool1d(2)``, with channels
       1 → 16 (kernel 7, padding 3), 16 → 32 (5, padding 2), 32 → 64 (5, padding 2) and
       64 → 64 (3, padding 1). Each pooling halves the length: 187 → 93 → 46 → 23 → 11.
    2. ``classifier``: ``Linear(704, 128)`` → ReLU → ``Linear(128, 64)`` → ReLU →
       ``Linear(64, 32)`` → ReLU → ``Linear(32, n_classes)`` (704 = 64 channels × 11 samples).
    3. ``forward`` as in ``KachueeNet``: add the channel axis to ``(N, 187)`` input, then
       ``features``, flatten, ``classifier``; return logits.

    EXAMPLE:
    >>> net = SimpleCNN(n_classes=5)
    >>> net(torch.zeros(4, 1, 187)).shape
    torch.Size([4, 5])
    >>> count_parameters(net)          # exercise 2.5
    126117

    HINT: ``conv_output_length`` (exercise 2.1) tells you each length: a conv with "same"
    padding keeps it, ``MaxPool1d(2)`` floors it to half.

    Parameters
    ----------
    n_classes : int
        Number of classes.

    Shapes: input ``(N, 187)`` or ``(N, 1, 187)``, output logits ``(N, n_classes)``.
    """

    def __init__(self, n_classes: int = 5):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError("exercise 2.4 (lesson 2): write SimpleCNN")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # YOUR CODE HERE
        raise NotImplementedError("exercise 2.4 (lesson 2): write SimpleCNN")


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """The number of numbers a model learns: the elements of all its parameters.

    Exercise 2.5.

    TODO: Sum ``p.numel()`` over the model's parameters (only those with ``requires_grad``
    when ``trainable_only``).

    APPROACH:
    1. ``model.parameters()`` yields every parameter once, also one shared by two layers.
    2. Buffers (a batch norm's running mean and variance) are not parameters: they are not
       learnt by gradient descent, and ``parameters()`` does not yield them.
    3. With ``trainable_only``, skip parameters whose ``requires_grad`` is False (frozen ones,
       lesson 4).

    EXAMPLE:
    >>> count_parameters(nn.Linear(64, 32))          # 64 * 32 weights + 32 biases
    2080
    >>> frozen = nn.Linear(64, 32).requires_grad_(False)
    >>> count_parameters(frozen, trainable_only=True)
    0

    Parameters
    ----------
    model : nn.Module
    trainable_only : bool
        Count only parameters that ``requires_grad``.

    Returns
    -------
    int
    """
    # YOUR CODE HERE
    raise NotImplementedError("exercise 2.5 (lesson 2): write count_parameters")
