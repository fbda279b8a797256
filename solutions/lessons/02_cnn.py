# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 2 — Building the CNN: convolutions, residual blocks, two heartbeat classifiers
#
# Lesson 1 turned an ECG into beats of 187 samples. This lesson builds the networks that will
# classify them: one-dimensional convolutional neural networks (CNNs), which slide short learnt
# filters along a beat and stack such layers until a few numbers per beat are left for a
# classifier. We build, from the bottom up:
#
# 1. how long a convolution's output is — `conv_output_length` (exercise 2.1)
# 2. the residual block of Kachuee et al.: two convolutions and a skip connection —
#    `ResidualBlock` (2.2)
# 3. their network: a convolution, five residual blocks, three dense layers — `KachueeNet` (2.3)
# 4. a plain "4 convolution + 4 fully connected layers" network to compare it with — `SimpleCNN` (2.4)
# 5. how many numbers a network learns — `count_parameters` (2.5)
#
# and then follow one beat through every layer of both networks. Nothing is trained here: the
# networks keep the random weights they start with, which is enough to see their shapes and sizes.
# Lesson 3 trains them.
#
# **How this lesson works.** You write the functions and classes in `ecglab/models.py` (open it
# next to this notebook: each docstring is its exercise sheet — what to do, the approach, an
# example, a hint). After each exercise, a **check cell** grades your code against the reference on
# many inputs, prints ✓/✗ per case and explains the first failure. A check cell also returns the
# points the exercise earned, between 0 and its points in `course.yml`: that number is how nbgrader
# reads the cell's grade, and some notebook front ends print it under the cell (`Out: 0.86`). The
# same checks grade you at the end (`python -m autograder check --lesson 2`, or nbgrader). Where a
# function or class is not written yet, the demonstration cells use the reference one and say so,
# so you can read the whole lesson first; where yours is written but raises, they say that in one
# line and go on with the reference, so that "Run All" gets to the end.

# %%
import numpy as np
import matplotlib.pyplot as plt
import torch
from torch import nn

from ecglab import architecture, data, plots
from ecglab.plots import count   # count(1, "beat") is "1 beat", count(2, "beat") "2 beats"
from autograder.notebook import exercises, grading_mode, reference_module

models = exercises("models")   # your functions and classes from ecglab/models.py (see the set-up cell)
BEAT = 187                     # samples per beat, the input length of both networks


def synthetic_label(thing) -> str:
    """The label " (synthetic ECG)" for a record or dataset made by ecglab's generator, else "".

    Every number this lesson measures on generated data carries the label: such numbers describe
    the generator, not patients, and must never be quoted as if they did.
    """
    return " (synthetic ECG)" if thing.source == "synthetic" else ""


def whose(thing) -> str:
    """"your" for a function, class or network from your ecglab/models.py, "the reference" for
    the reference's, which `models` gives where yours is not written yet."""
    owner = type(thing) if isinstance(thing, nn.Module) else thing
    return "your" if getattr(owner, "__module__", None) == "ecglab.models" else "the reference"


def not_yours(function) -> str:
    """What to add after the name of a `models` function where it is the reference's, else ""."""
    return "" if whose(function) == "your" else " (the reference's: yours is not written yet)"


def build(name: str, *args, inputs=(), parts=(), hint: str = "", **kwargs) -> nn.Module:
    """``models.<name>(*args, **kwargs)``: your block or network, or the reference's if yours fails.

    Yours fails when building it raises, when one of ``inputs`` sent through it raises, or when
    it lacks one of the modules ``parts`` that the lesson uses. The cell then says so in one line
    (and ``hint``) and goes on with the reference class, with the random weights yours would have
    had; your check cell says what to fix. While nbgrader grades, or without the reference at
    hand, the error is raised as it is.
    """
    cls = getattr(models, name)     # the reference (with a notice) where yours is not written yet
    state, problem, where = torch.get_rng_state(), "", ""
    try:
        module = cls(*args, **kwargs)
        for x in inputs:
            where = f" on an input of shape {tuple(x.shape)}"
            with torch.no_grad():
                module(x)
        where = ""
        missing = [p for p in parts if not isinstance(getattr(module, p, None), nn.Module)]
        if not missing:
            return module
        problem = f"has no {missing[0]!r} (lessons 2-5 use a network's {' and '.join(parts)})"
        raise AttributeError(f"{name} {problem}")
    except Exception as exc:
        reference = None if grading_mode() else reference_module("models")
        if reference is None or whose(cls) != "your":
            raise
        message = (str(exc) or "-").splitlines()[0][:160]
        problem = problem or f"raised {type(exc).__name__}{where}: {message}"
    print(f"✗ your {name} {problem}; this cell goes on with the reference {name} — fix yours and "
          f"run it again" + (f"\n  {hint}" if hint else ""))
    torch.set_rng_state(state)
    return getattr(reference, name)(*args, **kwargs)


def parameter_total(model: nn.Module) -> int:
    """All the parameters of ``model``, from the ready-made ``architecture.parameter_table``
    (exercise 2.5 is to write your own count)."""
    return sum(row["parameters"] for row in architecture.parameter_table(model))

# %% [markdown]
# ## The data: one beat of each class
#
# The beats of five MIT-BIH records chosen for their rhythms, cut as in lesson 1 (the Kaggle
# recipe, 187 samples a beat). We keep one beat of each AAMI class, and follow the first, a
# normal beat, through the whole lesson. (Without the real data, these are *synthetic* beats, and
# every number measured on them says "(synthetic ECG)".)

# %%
sample = data.load_mitbih(records=["100", "119", "208", "232", "107"])
SYN = synthetic_label(sample)   # goes after every number measured on these beats
present = [k for k in range(len(sample.classes)) if np.any(sample.y == k)]
examples = np.array([np.flatnonzero(sample.y == k)[0] for k in present])   # one beat per class
beat = sample.X[examples[0]].astype(np.float64)                             # shape (187,)
print(data.describe(sample))
print(f"the beat this lesson follows: beat {examples[0]}, class {sample.classes[present[0]]}, "
      f"shape {beat.shape}{SYN}")

# %% [markdown]
# ## What a 1-D convolution does to a beat
#
# A convolutional layer slides a short **kernel**, a few weights (5 in Kachuee's network), along
# the beat. At every position it multiplies the weights with the samples under them and adds the
# products, and a bias: one output sample. Moving one sample at a time gives an output *sequence*,
# a new signal that is large where the beat looks like the kernel and small where it does not.
# The same weights are used at every position (*weight sharing*): a filter that responds to a QRS
# complex at sample 10 responds to one at sample 100 as well, and it needs its `k` weights and one
# bias however long the beat is.
#
# The kernel below is made by hand: −¼ on its first four taps, +¼ on its last four, a slope
# detector, positive where the beat rises, negative where it falls, near 0 where it is flat. A
# network *learns* its kernels from data instead, 32 of them in Kachuee's first layer (lesson 3).
#
# One detail surprises many: what deep-learning libraries call a convolution is a
# *cross-correlation*, the kernel is not flipped. `nn.Conv1d` computes exactly the sums you
# would write by hand; the next cell checks that.

# %%
kernel = np.array([-1, -1, -1, -1, 0, 1, 1, 1, 1]) / 4    # a slope detector of 9 taps
pad = len(kernel) // 2                                     # 4 zeros at each end: the length stays

conv = nn.Conv1d(in_channels=1, out_channels=1, kernel_size=len(kernel), padding=pad, bias=False)
with torch.no_grad():
    conv.weight[:] = torch.tensor(kernel)                  # weight shape: (out, in, k) = (1, 1, 9)
    out = conv(torch.tensor(beat, dtype=torch.float32)[None, None])[0, 0].numpy()   # (1, 1, 187) in
by_hand = np.correlate(np.pad(beat, pad), kernel, mode="valid")   # sum of kernel x window, slid
print(f"nn.Conv1d: {beat.shape} -> {out.shape}; largest difference from the sums by hand: "
      f"{np.abs(out - by_hand).max():.1e}{SYN}")

# %%
positions = [int(np.argmin(out)), int(np.argmax(out)), BEAT - 12]   # steepest fall, rise, the end
fig = plots.conv_slide_figure(beat, kernel, positions, padding=pad,
                              title=f"one filter sliding over one beat{SYN}")
plt.show()
print(f"the output is most negative at sample {positions[0]} ({out[positions[0]]:.2f}), most positive "
      f"at sample {positions[1]} ({out[positions[1]]:.2f}){SYN}")

# %% [markdown]
# **What to look for.** The coloured bands are the kernel's window at three positions: where the
# output is most negative, where it is most positive, and near the end. The dots beneath are the
# output samples they give, `out[j]` centred on sample `j`. The top right panel is the kernel, the
# bottom right one the nine products at the first position: their sum is that output sample. The
# output is strongly positive where the beat rises steeply, strongly negative where it falls (the
# QRS complexes), and near 0 where the beat is flat, as in the zeros that pad it at its end. At the
# very start the window reaches into the padding zeros before the R peak, and the jump from 0 to
# the peak reads as a rise: an edge effect of zero padding, which every padded convolution has.

# %% [markdown]
# ## Exercise 2.1 — `conv_output_length`: how long the output is
#
# A kernel that spans `k` samples fits `L − k + 1` times into `L` samples: without padding, a
# convolution's output is shorter than its input. Three settings change the length:
#
# * **padding** `p`: `p` zeros at each end, so the input is `L + 2p` long. `p = k // 2` keeps the
#   length of an odd kernel ("same" padding): every convolution of this lesson's networks has it.
# * **stride** `s`: the kernel moves `s` samples at a time, so the output has about `L / s`
#   samples. Max-pooling is such a window: `MaxPool1d(5, stride=2)` keeps the largest of 5
#   samples, every 2 samples, and halves the length.
# * **dilation** `d`: the kernel's taps are `d` samples apart, so it spans `d (k − 1) + 1` samples.
#
# Together, PyTorch's formula for `Conv1d` and `MaxPool1d` alike (⌊ ⌋ rounds down):
#
# $$L_\text{out} = \left\lfloor \frac{L + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1$$
#
# Write `conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1)`. When the
# kernel does not fit at all (the output would have fewer than 1 sample), raise `ValueError`, as
# `nn.Conv1d` refuses such an input.

# %%
check("2.1")

# %% [markdown]
# ### Lengths through the two networks
#
# Both networks of this lesson, layer by layer, with their settings; the lengths come from *your*
# `conv_output_length` (the reference's while yours is not written yet). Kachuee's network keeps
# the length through its convolutions and halves it in each residual block's max-pooling,
# 187 → 92 → 44 → 20 → 8 → 2; the plain network halves it with `MaxPool1d(2)` after each of its
# four convolutions.

# %%
def same(c_in: int, c_out: int, k: int) -> nn.Conv1d:
    """A convolution with "same" padding, as all of these networks' convolutions are."""
    return nn.Conv1d(c_in, c_out, k, padding=k // 2)


kachuee_layers = [("first convolution", same(1, 32, 5))]
for b in range(1, 6):
    kachuee_layers += [(f"block {b}: convolution 1", same(32, 32, 5)),
                       (f"block {b}: convolution 2", same(32, 32, 5)),
                       (f"block {b}: max-pool", nn.MaxPool1d(kernel_size=5, stride=2))]
simple_layers = []
for i, (c_in, c_out, k) in enumerate([(1, 16, 7), (16, 32, 5), (32, 64, 5), (64, 64, 3)], start=1):
    simple_layers += [(f"convolution {i}", same(c_in, c_out, k)), (f"max-pool {i}", nn.MaxPool1d(2))]

COLUMNS = ["name", "type", "kernel_size", "stride", "padding", "length_in", "length_out"]
HEADERS = ["layer", "type", "kernel", "stride", "padding", "length in", "length out"]
for name, layers in [("KachueeNet", kachuee_layers), ("SimpleCNN", simple_layers)]:
    rows = architecture.lengths_through(layers, BEAT, models.conv_output_length)
    chain = " → ".join(str(n) for n in [BEAT] + [r["length_out"] for r in rows
                                                 if r["length_out"] != r["length_in"]])
    print(f"{name}, lengths from conv_output_length{not_yours(models.conv_output_length)}: {chain}")
    print(architecture.format_table(rows, COLUMNS, HEADERS), end="\n\n")

# %% [markdown]
# ### Your formula against PyTorch's layers
#
# PyTorch is the oracle here: the cell builds `nn.Conv1d` and `nn.MaxPool1d` layers with random
# settings, sends a signal through each and compares the length that comes out with your
# function's. Where PyTorch refuses the input (the kernel does not fit), yours should raise
# `ValueError`; where PyTorch refuses the settings themselves (a pooling window may be padded by at
# most half its size), the shape is skipped.

# %%
length_fn = getattr(models.conv_output_length, "__wrapped__", models.conv_output_length)
# (your function itself, where it is written: the lesson's safety net, which goes on with the
# reference when yours raises, would hide a mistake from this comparison)
who = whose(length_fn)
rng = np.random.default_rng(0)
results = {"Conv1d": [0, 0], "MaxPool1d": [0, 0]}   # [agree, compared]
first_miss = None
for trial in range(1200):
    kind = "Conv1d" if trial % 3 else "MaxPool1d"
    L, k, s, p, d = (int(v) for v in (rng.integers(1, 120), rng.integers(1, 12), rng.integers(1, 5),
                                      rng.integers(0, 6), rng.integers(1, 4)))
    layer = (nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d) if kind == "Conv1d"
             else nn.MaxPool1d(k, stride=s, padding=p, dilation=d))
    if kind == "MaxPool1d" and p > k // 2:
        continue                                      # PyTorch refuses such a pooling layer
    try:
        with torch.no_grad():
            expected = layer(torch.zeros(1, 1, L)).shape[-1]
    except RuntimeError:
        expected = "ValueError"                       # the kernel does not fit
    try:
        got = length_fn(L, k, stride=s, padding=p, dilation=d)
    except ValueError:
        got = "ValueError"
    except Exception as exc:
        got = f"{type(exc).__name__}: {exc}"
    results[kind][1] += 1
    results[kind][0] += got == expected
    if got != expected and first_miss is None:
        settings = {"length": L, "kernel_size": k, "stride": s, "padding": p, "dilation": d}
        first_miss = (kind, settings, expected, got)
for kind, (agree, compared) in results.items():
    print(f"{'✓' if agree == compared else '✗'} nn.{kind}: {who} conv_output_length agrees on "
          f"{agree:,} of {count(compared, 'shape')}")
if first_miss:
    kind, settings, expected, got = first_miss
    print(f"  first difference: {settings}: nn.{kind} gives {expected}, yours {got}")
if who != "your":
    print("ℹ that was the reference's: yours is not written yet. Write conv_output_length in "
          "ecglab/models.py and run this cell again to compare yours.")

# %% [markdown]
# ## Exercise 2.2 — `ResidualBlock`: two convolutions and a skip connection
#
# Kachuee's network is made of five copies of one block (with weights of their own):
#
# ```
# x ──► conv ──► ReLU ──► conv ──► (+) ──► ReLU ──► max-pool (5, stride 2) ──►
# │                                 ▲
# └──────────── skip ───────────────┘
# ```
#
# The two convolutions have 32 channels in and out and "same" padding, so their output `F(x)` has
# the shape of the block's input `x` and the two can be added. The block computes
# `pool(relu(x + F(x)))`: the convolutions learn what to *add* to their input, a correction,
# rather than a whole new signal.
#
# **Why the skip connection helps.** A network learns by gradient descent, and backpropagation
# computes the gradient of the first layers as a product of one factor per layer after them. In a
# plain stack, when those factors are smaller than one, the product shrinks geometrically with
# depth and the first layers barely learn: the *vanishing gradient*. The derivative of
# `x + F(x)` with respect to `x` is `1 + F′(x)` (for tensors: the identity plus the Jacobian of
# `F`). So the gradient at a block's output reaches its input along two paths, which add up:
# through the convolutions, scaled by their weights, and along the skip, unchanged. The skip path
# has no weights on it, so it does not fade however many blocks there are. (In Kachuee's block a
# ReLU and the max-pool come after the addition: the gradient passes the ReLU where its input is
# positive, and each pooling window passes it on to the sample it picked.)
#
# Write `ResidualBlock(channels=32, kernel_size=5)`: the layers in `__init__`, the order of
# operations in `forward`.

# %%
check("2.2")

# %%
x = torch.randn(8, 32, BEAT)            # 8 random inputs with 32 channels of 187 samples
ORDER = ("look at the order of the addition, the ReLU and the pooling in your forward, and at the "
         "pooling's settings: relu(x + F(x)), then MaxPool1d(5, stride=2)")
block = build("ResidualBlock", channels=32, kernel_size=5, inputs=[x], hint=ORDER)
with torch.no_grad():
    y = block(x)
print(f"{whose(block)} ResidualBlock: input {tuple(x.shape)} -> output {tuple(y.shape)}; "
      f"{parameter_total(block):,} parameters")

# With every weight and bias at zero, F(x) = 0: a residual block then passes its input on
# (the ReLU and the max-pool of it), where a block without the skip would give zeros.
zeroed = type(block)(channels=32, kernel_size=5)
with torch.no_grad():
    for p in zeroed.parameters():
        p.zero_()
    got, expected = zeroed(x), nn.functional.max_pool1d(torch.relu(x), 5, stride=2)
if got.shape == expected.shape and torch.allclose(got, expected):
    print(f"✓ with all its weights at zero, {whose(block)} block passes its input on: relu, then "
          f"max-pool")
else:
    yours = "other values" if got.shape == expected.shape else f"shape {tuple(got.shape)}"
    print(f"✗ with all its weights at zero, the block should give max-pool(relu(x)), of shape "
          f"{tuple(expected.shape)}; yours gives {yours}: {ORDER}")

# %% [markdown]
# ### Measured: the gradient at the first layer, with and without skips
#
# A toy, not Kachuee's block: stacks of `depth` layers, each a convolution and a ReLU, with or
# without a skip connection around it (`x + relu(conv(x))`), fed random input. The cell measures
# how large the gradient of the first layer's weights is compared with the last layer's. It runs
# in well under a second.

# %%
class Layer(nn.Module):
    """conv → ReLU, with or without a skip connection around it (16 channels, length kept)."""

    def __init__(self, channels: int, skip: bool):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 5, padding=2)
        self.skip = skip

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return x + y if self.skip else y


def gradient_ratio(depth: int, skip: bool, channels: int = 16) -> float:
    """|gradient of the first layer's weights| / |gradient of the last layer's|, random input."""
    torch.manual_seed(0)
    stack = nn.Sequential(*[Layer(channels, skip) for _ in range(depth)])
    stack(torch.randn(8, channels, BEAT)).mean().backward()
    return (stack[0].conv.weight.grad.norm() / stack[-1].conv.weight.grad.norm()).item()


depths = [1, 2, 4, 8, 12, 16, 24, 32]
plain = [gradient_ratio(n, skip=False) for n in depths]
residual = [gradient_ratio(n, skip=True) for n in depths]
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.semilogy(depths, plain, "o-", label="plain: relu(conv(x))")
ax.semilogy(depths, residual, "s-", label="with skip: x + relu(conv(x))")
ax.set(xlabel="layers in the stack", ylabel="first layer's gradient / last's",
       title="how much gradient reaches the first layer (random input)")
ax.legend()
plt.tight_layout()
plt.show()
print(f"at {depths[-1]} layers the first layer gets {plain[-1]:.1e} of the last layer's gradient "
      f"without skips, {residual[-1]:.2f} with them (random input)")

# %% [markdown]
# Without skips, the first layer's share of the gradient falls by orders of magnitude with every
# few layers; with them it stays about the same at any depth. (The absolute size is another
# matter: each toy layer adds a non-negative term to its input, so activations and gradients grow
# with depth. Very deep residual networks keep that in check with normalisation layers or a careful
# initialisation; Kachuee's network, with five blocks, has neither.)

# %% [markdown]
# ## Exercise 2.3 — `KachueeNet`: the network of Kachuee et al. (2018)
#
# The network of the paper, shape by shape for a batch of `N` beats:
#
# | part | layers | output shape |
# |---|---|---|
# | input | a beat, with a channel axis added when it comes as `(N, 187)` | `(N, 1, 187)` |
# | `features` | `Conv1d(1, 32, 5, padding=2)` | `(N, 32, 187)` |
# | | 5 × `ResidualBlock(32, 5)` | `(N, 32, 92)` → 44 → 20 → 8 → `(N, 32, 2)` |
# | flatten | 32 channels × 2 samples | `(N, 64)` |
# | `classifier` | `Linear(64, 32)` → ReLU → `Linear(32, 32)` → ReLU → `Linear(32, n_classes)` | `(N, n_classes)` |
#
# The output is **logits**, one score per class, not probabilities: the softmax that turns them
# into probabilities is part of the loss in lesson 3 (`nn.CrossEntropyLoss`). With 5 classes the
# network has **55,013 parameters**. Keep the convolutional part in the attribute `features` and
# the dense part in `classifier`: lessons 3–5 train, transfer and open up the network through those
# two names. The network accepts beats as `(N, 187)` or `(N, 1, 187)`.

# %%
check("2.3")

# %%
X = torch.tensor(sample.X[examples], dtype=torch.float32)     # one beat of each class: (5, 187)
NETWORK = {"inputs": [X, X.unsqueeze(1), X[:1].unsqueeze(1)],  # the shapes this lesson sends in
           "parts": ("features", "classifier")}
torch.manual_seed(0)                    # the same random weights every time the cell runs
net = build("KachueeNet", n_classes=5, **NETWORK,
            hint='(your KachueeNet is made of your ResidualBlock: if check("2.2") fails, start '
                 'there)')
print(net)
print(f"{whose(net)} KachueeNet: {parameter_total(net):,} parameters")

# %%
with torch.no_grad():
    logits = net(X)
    same_either_way = torch.allclose(logits, net(X.unsqueeze(1)))   # (5, 1, 187) in
probabilities = torch.softmax(logits, dim=1).numpy()
print(f"beats {tuple(X.shape)} -> logits {tuple(logits.shape)}; (N, 1, 187) gives the same logits: "
      f"{'yes' if same_either_way else 'NO'}")
print(f"class probabilities from the untrained network{SYN}:")
print(architecture.format_table(
    [{"beat": sample.classes[k], **{c: float(q) for c, q in zip(sample.classes, row)}}
     for k, row in zip(present, probabilities)], ["beat", *sample.classes]))

# %% [markdown]
# Untrained, the network gives every beat roughly the same probabilities, close to 1/5 each: its
# random weights know nothing about heartbeats yet. Its answers are as good as a guess; training
# (lesson 3) is what changes that.

# %% [markdown]
# ## Exercise 2.4 — `SimpleCNN`: four convolutions, four dense layers
#
# A plain network without skip connections, in the "4 convolution + 4 fully connected layers"
# design of the original project, made smaller: four blocks of convolution → ReLU →
# `MaxPool1d(2)`, with 16, 32, 64 and 64 channels (kernels 7, 5, 5 and 3, "same" padding), which
# take the length 187 → 93 → 46 → 23 → 11; then the 64 × 11 = 704 numbers go through dense layers
# of 128, 64 and 32 units to the `n_classes` logits. It keeps the same two attributes, `features`
# and `classifier`, and the same input shapes.
#
# With 5 classes it has **126,117 parameters**, more than twice Kachuee's network, with 8 weight
# layers against 14, and most of them sit in one layer: the first dense layer has
# 704 × 128 + 128 = 90,240. A first dense layer holds (channels × length after the last pooling)
# × its width of weights, and that is where plain CNNs grow. The original project's version of
# this network has batch normalisation, 32 → 64 → 128 → 256 channels and convolutions without
# padding (kernels 5, 5, 3, 3), so each one shortens the beat by its kernel size − 1, and it pools
# twice, with windows of 3 that move 3 samples: 187 → 183 → 179, max-pool → 59, → 57 → 55,
# average-pool → 18 samples (the cell after the check computes these with your
# `conv_output_length`). It flattens 18 × 256 = 4,608 numbers into dense layers of 1,024, 256 and
# 32 units and has 5,125,125 parameters, 4,608 × 1,024 + 1,024 = 4,719,616 of them in its first
# dense layer. Ours, which pools more and starts its dense part narrower, has about 2.5 % of that.

# %%
check("2.4")

# %%
torch.manual_seed(0)
simple = build("SimpleCNN", n_classes=5, **NETWORK)
print(simple)
with torch.no_grad():
    print(f"beats {tuple(X.shape)} -> logits {tuple(simple(X).shape)}")

# The original project's network (its dropout left out: it has no parameters)
original_features = nn.Sequential(
    nn.Conv1d(1, 32, 5), nn.BatchNorm1d(32), nn.ReLU(),
    nn.Conv1d(32, 64, 5), nn.BatchNorm1d(64), nn.ReLU(), nn.MaxPool1d(3),
    nn.Conv1d(64, 128, 3), nn.BatchNorm1d(128), nn.ReLU(),
    nn.Conv1d(128, 256, 3), nn.BatchNorm1d(256), nn.ReLU(), nn.AvgPool1d(3))
original = nn.Sequential(original_features, nn.Flatten(),
                         nn.Linear(18 * 256, 1024), nn.ReLU(), nn.Linear(1024, 256), nn.ReLU(),
                         nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 5))
rows = architecture.lengths_through(original_features, BEAT, models.conv_output_length)
lengths = [BEAT] + [row["length_out"] for row in rows if row["kernel_size"]]
with torch.no_grad():
    flat = original_features.eval()(torch.zeros(1, 1, BEAT)).shape[-1]   # PyTorch's length
print(f"the original project's network: lengths {' → '.join(map(str, lengths))} from "
      f"conv_output_length{not_yours(models.conv_output_length)}; PyTorch ends at {flat}, so "
      f"{flat} × 256 = {flat * 256:,} numbers are flattened")
n_simple, n_original = parameter_total(simple), parameter_total(original)
print(f"{whose(simple)} SimpleCNN: {n_simple:,} parameters, {n_simple / n_original:.1%} of the "
      f"original project's {n_original:,}; {whose(net)} KachueeNet: {parameter_total(net):,}")

# %% [markdown]
# ## One beat through every layer
#
# `architecture.shape_trace` sends one beat through a network with a *forward hook* on every layer
# of `features` and `classifier`: a function PyTorch calls with the layer's output, which records
# it (the hooks are removed afterwards; lesson 5 writes its own). The table lists what comes out
# of each layer; the figure draws it, one row per layer: the beat as a curve, a convolutional
# layer's output as a heat map (its 32 channels up, its samples across), a dense layer's as a
# strip.
#
# **What to look for.** The time axis shrinks, 187 → 92 → 44 → 20 → 8 → 2, while the channels
# stay 32: the network trades *where* for *what*. After the flattening, 64 numbers describe the
# whole beat; the dense layers bring them down to 5 logits. The ReLUs set every negative value to 0
# (the dark cells). The weights are random, so the maps show what random filters do: the beat's
# shape is still visible in the first layers and gets mixed away further on.

# %%
trace = architecture.shape_trace(net, beat)
print(f"{whose(net)} KachueeNet, one beat of class {sample.classes[present[0]]}:")
print(architecture.format_table(trace, ["name", "type", "shape", "parameters"],
                                ["layer", "type", "output shape", "parameters"]))
fig = plots.shape_trace_figure(
    trace, title=f"one {sample.classes[present[0]]} beat through the untrained KachueeNet{SYN}")
plt.show()

# %% [markdown]
# The same beat through `SimpleCNN`: its ReLU and pooling layers are layers of `features` of
# their own, so they have rows of their own, and the flattening gives 704 numbers.

# %%
simple_trace = architecture.shape_trace(simple, beat)
print(f"{whose(simple)} SimpleCNN, the same beat:")
print(architecture.format_table(simple_trace, ["name", "type", "shape", "parameters"],
                                ["layer", "type", "output shape", "parameters"]))

# %% [markdown]
# ## Exercise 2.5 — `count_parameters`: how many numbers a network learns
#
# A layer's parameters are its weights and biases:
#
# * `Conv1d(c_in, c_out, k)`: each of its `c_out` filters has a weight for each of the `c_in`
#   input channels at each of its `k` taps, plus a bias: `c_out × c_in × k + c_out`; a residual
#   block's convolution has 32 × 32 × 5 + 32 = 5,152;
# * `Linear(n_in, n_out)`: `n_out × n_in + n_out`, the first dense layer of Kachuee's network
#   32 × 64 + 32 = 2,080;
# * ReLU, max-pooling and flattening have none.
#
# Write `count_parameters(model, trainable_only=False)`: the number of elements of all the
# model's parameters; with `trainable_only`, only of those that are trained (`requires_grad`).
# Frozen parameters are how lesson 4 transfers a network to a new task: it keeps the learnt
# features and trains only the rest.

# %%
check("2.5")

# %%
for name, model in [("KachueeNet", net), ("SimpleCNN", simple)]:
    table = architecture.parameter_table(model)
    counted, total = models.count_parameters(model), sum(row["parameters"] for row in table)
    print(f"{'✓' if counted == total else '✗'} {name}: count_parameters"
          f"{not_yours(models.count_parameters)} gives {counted:,}; the rows below sum to "
          f"{total:,}")
    print(architecture.format_table(table, ["name", "type", "weight", "bias", "parameters"],
                                    ["layer", "type", "weight shape", "bias shape", "parameters"]),
          end="\n\n")
fig = plots.parameter_bars({"KachueeNet": architecture.parameter_table(net),
                            "SimpleCNN": architecture.parameter_table(simple)},
                           title="where the parameters are")
plt.show()

# %% [markdown]
# ### Trainable and frozen
#
# Freezing a part of a network (`requires_grad_(False)`) keeps its parameters as they are during
# training. Here the whole convolutional part of a fresh `KachueeNet` is frozen, as lesson 4 will
# do with a trained one: only the classifier would still learn.

# %%
frozen = build("KachueeNet", n_classes=5, **NETWORK)
frozen.features.requires_grad_(False)
table = architecture.parameter_table(frozen)
total = sum(row["parameters"] for row in table)
trainable = sum(row["trainable_parameters"] for row in table)
counted = models.count_parameters(frozen), models.count_parameters(frozen, trainable_only=True)
print(f"count_parameters{not_yours(models.count_parameters)} gives {counted[0]:,}, and "
      f"{counted[1]:,} with trainable_only=True; the table below: {total:,} parameters, "
      f"{trainable:,} of them trainable"
      + (" (the classifier's)" if trainable == parameter_total(frozen.classifier) else ""))
if counted == (total, trainable):
    print(f"✓ they agree: only {trainable:,} of the {total:,} parameters would still learn")
else:
    wrong = ([f"count_parameters(model) should count every parameter ({total:,} here)"]
             if counted[0] != total else [])
    wrong += ([f"count_parameters(model, trainable_only=True) should count only those with "
               f"requires_grad ({trainable:,} here)"] if counted[1] != trainable else [])
    print(f"✗ they differ: {'; '.join(wrong)}")
print(architecture.format_table(table,
                                ["name", "type", "parameters", "trainable_parameters", "trainable"],
                                ["layer", "type", "parameters", "trainable parameters", "trained"]))

# %% [markdown]
# ## What you built, and what comes next
#
# You have the two networks of the course and the tools to look inside them: how the length of a
# beat changes layer by layer, what each layer gives, where the parameters are. Untrained, both
# networks turn a beat into five arbitrary logits. Lesson 3 trains them on the MIT-BIH beats and
# measures how well they classify; your `KachueeNet` and `SimpleCNN` plug in as they are, since the
# training, transfer (lesson 4) and interpretation (lesson 5) code reaches into a network only
# through its `features` and `classifier`.
#
# Grade the whole lesson any time with `python -m autograder check --lesson 2` (or `pytest
# autograder -m lesson2`) from the course folder.
