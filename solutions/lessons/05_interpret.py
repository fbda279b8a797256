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
# # Lesson 5 — Interpreting the layers: what the network computes, and where it looks
#
# Lessons 2–4 built `KachueeNet`, trained it to tell five kinds of heartbeat apart and moved it to
# a new task. It works, but it is still a black box: 55,013 numbers that turn 187 samples into
# five logits. This lesson opens it, layer by layer, and shows (rather than tells) what each one
# computes:
#
# 1. the first layer's 32 filters: their shapes, and which frequencies of the ECG they pass;
# 2. every layer's output for a beat, caught with forward hooks — `capture_activations` (5.1);
#    a normal beat and a ventricular beat side by side, through the whole network;
# 3. how much of the beat one output step of each layer sees — `receptive_fields` (5.2);
# 4. the beats that excite a channel most: what a filter "looks for" — `top_activating` (5.5);
# 5. which input samples the decision is most sensitive to — `saliency` (5.3) — and where, in
#    time, a layer's channels speak for a class — Grad-CAM, `grad_cam` (5.4); Grad-CAM averaged
#    per class against the average beat of that class;
# 6. what such maps do *not* prove, measured: the same maps for a network with random weights.
#
# Three **explorers** (ready-made, in `ecglab.explorers`) let you move through beats, layers and
# channels live; in a notebook viewer without widgets they show their last figure.
#
# **How this lesson works.** You write the five functions in `ecglab/interpret.py` (each
# docstring is its exercise sheet). After each exercise a **check cell** grades your function
# against the reference, prints ✓/✗ per case and explains the first failure. The lesson also
# runs your `KachueeNet` (2.3) and, if it has to train a network, your `train_one_epoch` (3.2)
# and `predict` (3.3); where one is not written yet, the reference takes its place and says so.

# %%
import copy
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from ecglab import data, explorers, plots, training
from ecglab.plots import count   # count(1, "beat") is "1 beat", count(2, "beat") "2 beats"
from autograder.notebook import exercises, grading_mode, network

interpret = exercises("interpret")  # capture_activations (5.1) ... top_activating (5.5): this lesson
train = exercises("train")          # train_one_epoch, predict (lesson 3)
GRADING = grading_mode()            # nbgrader is running the notebook: nothing falls back
QUICK = GRADING or bool(os.environ.get("ECGLAB_QUICK"))   # short runs only (ECGLAB_QUICK=1 too)
DEVICE = training.device()          # the GPU when there is one, else the CPU
CHECKPOINT = "lesson3-kachueenet"   # the network lesson 3 trained and saved
# beats looked at (a sample of the test beats), and the fallback training when lesson 3's
# network is not there
SETTINGS = (dict(test_beats=300, per_class=60, epochs=1, cam_beats=20) if QUICK else
            dict(test_beats=3000, per_class=600, epochs=6, cam_beats=200))
print(f"device: {DEVICE}; settings: {SETTINGS}" + (" (QUICK: numbers mean nothing)" if QUICK else ""))

# %% [markdown]
# ## The data and the network
#
# The MIT-BIH beats of lesson 3 with the same beat split (a random 20 % of each class's beats on
# the test side, or the Kaggle CSVs' own split); this lesson looks at a sample of the **test**
# beats, which the network never trained on. The network is the one lesson 3 saved; when it is not
# there (lesson 3 not run on this machine), the next cell trains one briefly on a class-balanced
# subset, with your `train_one_epoch`.

# %%
ds = data.load_mitbih()
SYN = " (synthetic ECG)" if ds.source == "synthetic" else ""   # goes after every number measured
print(data.describe(ds))
if ds.test_mask is not None:
    train_idx, test_idx = np.flatnonzero(~ds.test_mask), np.flatnonzero(ds.test_mask)
else:
    train_idx, test_idx = data.stratified_split(ds.y, test_fraction=0.2, seed=0)
if SETTINGS["test_beats"] < len(test_idx):   # a seeded sample with the test side's proportions
    _, part = data.stratified_split(ds.y[test_idx], test_fraction=SETTINGS["test_beats"] / len(test_idx), seed=1)
    test_idx = test_idx[part]
X, y = ds.X[test_idx].astype(np.float32), ds.y[test_idx]
CLASSES = list(ds.classes)
print(f"looking at {count(len(y), 'test beat')}: "
      + ", ".join(f"{c} {n}" for c, n in zip(CLASSES, np.bincount(y, minlength=5))) + SYN)

# %%
torch.manual_seed(0)
model = network("KachueeNet", n_classes=5)
meta = training.load_checkpoint(model, CHECKPOINT)
if meta is not None:
    print(f"✓ lesson 3's network: trained on {meta.get('beats', '?')} beats with {meta.get('loss', '?')}, "
          f"test accuracy {meta.get('accuracy', float('nan')):.3f}, macro-F1 "
          f"{meta.get('macro_f1', float('nan')):.3f}" + (" (synthetic ECG)" if meta.get("source") == "synthetic" else ""))
else:
    keep = training.balanced_subset(ds.y[train_idx], per_class=SETTINGS["per_class"], seed=0)
    fit_idx = train_idx[keep]
    print(f"no network of lesson 3 in {training.checkpoint_dir()}: training one here, "
          f"{SETTINGS['epochs']} epoch(s) on {count(len(fit_idx), 'balanced training beat')}{SYN}")
    training.fit(model, ds.X[fit_idx], ds.y[fit_idx], epochs=SETTINGS["epochs"],
                 epoch_fn=train.train_one_epoch, lr=3e-3, batch_size=64, seed=0, progress=not GRADING)
model.to(DEVICE).eval()
pred = train.predict(model, X)
print(f"on these test beats: accuracy {np.mean(pred == y):.3f}{SYN}")

# %% [markdown]
# ## The first layer: 32 filters of 5 samples
#
# `features.0` is `Conv1d(1, 32, 5)`: 32 filters, each 5 weights long, slid along the beat. A
# filter of 5 samples at 125 Hz spans 40 ms, about a third of a QRS complex. Each filter is a
# small FIR filter, so it has a **frequency response**: the gain it applies to a sine of each
# frequency, $|H(f)| = |\sum_k w_k e^{-2\pi i f k / f_s}|$. Filters whose weights have one sign
# are smoothers (low-pass: they keep the slow P and T waves); filters whose weights alternate in
# sign are differentiators (high-pass: they answer to the steep edges of the QRS).

# %%
first = dict(model.named_modules())["features.0"]
kernels = first.weight.detach().cpu().numpy()[:, 0, :]          # (32, 5)
freqs = np.fft.rfftfreq(256, d=1 / ds.fs)                        # Hz
gain = np.abs(np.fft.rfft(kernels, n=256, axis=1))               # (32, 129)
centroid = (gain * freqs).sum(axis=1) / gain.sum(axis=1)         # where each filter's gain sits
order = np.argsort(centroid)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), gridspec_kw={"width_ratios": [1.2, 1, 1.4]})
for k in order[:4]:
    axes[0].plot(kernels[k], marker="o", color="tab:blue", alpha=0.8)
for k in order[-4:]:
    axes[0].plot(kernels[k], marker="o", color="tab:red", alpha=0.8)
axes[0].set(title="4 lowest (blue), 4 highest (red) filters", xlabel="tap", ylabel="weight")
axes[1].imshow(kernels[order], aspect="auto", cmap="RdBu_r", vmin=-abs(kernels).max(), vmax=abs(kernels).max())
axes[1].set(title="all 32, low to high", xlabel="tap", ylabel="filter (sorted)")
axes[2].plot(freqs, (gain / gain.max(axis=1, keepdims=True))[order].T, color="grey", alpha=0.3)
axes[2].plot(freqs, gain[order[0]] / gain[order[0]].max(), color="tab:blue", label="lowest")
axes[2].plot(freqs, gain[order[-1]] / gain[order[-1]].max(), color="tab:red", label="highest")
axes[2].set(title=f"frequency responses (fs = {ds.fs:g} Hz){SYN}", xlabel="frequency (Hz)", ylabel="gain (scaled)")
axes[2].legend(fontsize="small")
fig.tight_layout()
plt.show()
low = gain[:, 0] > 2 * gain[:, -1]      # passes 0 Hz far better than the highest frequency
high = gain[:, -1] > 2 * gain[:, 0]
print(f"{int(low.sum())} smoothers (low-pass), {int(high.sum())} differentiators (high-pass), "
      f"{int(32 - low.sum() - high.sum())} in between (band-pass or flat); gain centroids from "
      f"{centroid.min():.0f} to {centroid.max():.0f} Hz{SYN}")

# %% [markdown]
# **What to look for.** Count the kinds: smoothers keep the slow P and T waves (below ~10 Hz),
# differentiators answer to the QRS's steep edges (and to noise), and with only five taps most
# filters are broad, in between. The first layer is not the network's "understanding" of a beat:
# it is a bank of 32 crude filters, and the layers above combine their outputs. A first layer
# with random weights looks much the same in this figure — its meaning shows only in what the
# later layers do with it.
#
# ## Exercise 5.1 — `capture_activations`: every layer's output, with forward hooks
#
# `model(x)` gives only the last layer's output. To see the others, PyTorch lets you attach a
# **forward hook** to any module: `module.register_forward_hook(hook)` makes torch call
# `hook(module, inputs, output)` right after that module's forward pass. The hook stores the
# output (detached: we only look at it), and `register_forward_hook` returns a handle whose
# `.remove()` takes the hook off again. Hooks that are not removed stay on the model and run at
# every later call — a slow, silent leak — so remove them in a `finally:` block, which runs even
# when the forward pass raises. The model runs in eval mode (a looking tool must not change what
# it looks at), and its mode is put back afterwards.

# %%
check("5.1")

# %%
pair = [int(np.flatnonzero(y == c)[0]) if np.any(y == c) else 0 for c in (0, 2)]   # an N and a V beat
acts = interpret.capture_activations(model, X[pair])
for name, a in acts.items():
    print(f"{name:14s} {str(model.get_submodule(name).__class__.__name__):14s} output {tuple(a.shape)}")

# %%
conv_layers = [n for n in acts if n.startswith("features.")]
fig, axes = plt.subplots(len(conv_layers) + 1, 2, figsize=(12, 1.6 * (len(conv_layers) + 1)), sharex=True)
t = np.arange(187) / ds.fs
for col, (i, what) in enumerate(zip(pair, ("a normal (N) beat", "a ventricular (V) beat"))):
    axes[0, col].plot(t, X[i], color=plots.CLASS_COLORS[0 if col == 0 else 2])
    axes[0, col].set_title(f"{what}, predicted {CLASSES[pred[i]]}{SYN}", loc="left")
    for row, name in enumerate(conv_layers, start=1):
        a = acts[name][col].cpu().numpy()                               # (channels, steps)
        axes[row, col].imshow(a, aspect="auto", cmap="magma", extent=[0, 187 / ds.fs, a.shape[0], 0],
                              interpolation="nearest")
        axes[row, col].set_ylabel(f"{name}\n{a.shape[1]} steps", fontsize="small")
for ax in axes[-1]:
    ax.set_xlabel("time (s)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to look for.** Each heat map is one layer: 32 rows (channels) and one column per output
# step, stretched to the beat's duration. The first layer is still a picture of the beat —
# channels light up at the R peak and the T wave. Each residual block halves the length
# (187 → 92 → 44 → 20 → 8 → 2), and the activations stop looking like the signal and start
# looking like a code: for the V beat, a different set of channels is on than for the N beat.
# The last layer, 2 steps of 32 channels, is the 64 numbers the classifier reads.
#
# ## Exercise 5.2 — `receptive_fields`: how much of the beat a layer sees
#
# One output step of `Conv1d(k=5)` sees 5 input samples: its **receptive field** is 5. Stack a
# second one and a step sees 5 steps of the first, each 5 samples wide, overlapping: 9 samples.
# A stride (or a max-pool of stride 2) makes neighbouring steps of the next layer lie 2 samples
# apart (the **jump** $j$), so each kernel tap further up spans more input. Layer by layer:
#
# $$ r \leftarrow r + (k - 1)\, d\, j, \qquad j \leftarrow j\, s $$
#
# with kernel size $k$, dilation $d$ and stride $s$, starting from $r = j = 1$.

# %%
check("5.2")

# %%
fields = interpret.receptive_fields(model)
steps = {name: acts[name].shape[-1] for name in fields}
print(f"{'layer':12s} {'steps':>6s} {'receptive field':>16s}")
for name, r in fields.items():
    print(f"{name:12s} {steps[name]:6d} {r:10d} samples = {1000 * r / ds.fs:5.0f} ms")

fig, ax = plt.subplots(figsize=(11, 3.2))
ax.plot(np.arange(187), X[pair[0]], color="black", lw=1)
middle = 93
for k, (name, r) in enumerate(fields.items()):
    lo, hi = max(0, middle - r // 2), min(186, middle + r // 2)
    ax.plot([lo, hi], [-0.15 - 0.1 * k] * 2, lw=6, solid_capstyle="butt", label=f"{name}: {r}")
ax.set(xlabel="sample", yticks=[], title=f"one output step's view of the beat, layer by layer{SYN}")
ax.legend(fontsize="small", ncol=3, loc="upper right")
plt.show()

# %% [markdown]
# **Measured, not only computed.** The formula can be tested: change one input sample and see
# which output steps move. With every weight made positive (and biases 0) nothing can cancel, so
# an output step moves exactly when the changed sample lies in its receptive field. The cell
# measures the first three layers of a copy of the network that way.

# %%
probe_net = copy.deepcopy(model).cpu().double().eval()   # a copy: the network is left alone
with torch.no_grad():
    for m in probe_net.modules():
        if isinstance(m, torch.nn.Conv1d):
            m.weight.fill_(1.0 / m.weight[0].numel())
            m.bias.zero_()
    ones = torch.eye(187, dtype=torch.float64)[:, None, :]    # beat k: sample k is 1, the rest 0
    h = ones
    for name, layer in list(probe_net.features.named_children())[:4]:
        h = layer(h)
        moved = torch.nonzero(h[:, :, h.shape[-1] // 2].amax(dim=1) > 0).flatten()
        print(f"features.{name}: the middle step moves for samples {int(moved.min())}..{int(moved.max())}: "
              f"{int(moved.max() - moved.min() + 1)} samples (computed: {fields['features.' + name]})")

# %% [markdown]
# The last block's receptive field, 377 samples, is twice the beat: each of the two final steps
# sees the whole beat, padding included. The network has no "local" features at the end — it has
# a summary. The middle blocks (41 to 185 samples, a third of a second to a whole beat) are where
# waves are seen whole: a QRS is about 12 samples, a T wave about 25.
#
# ## The activation explorer
#
# Choose a class, a beat, a layer and a channel: on top the beat, beneath it the layer's
# activations for all channels aligned with the beat in time, and the chosen channel as a curve;
# the shaded band on the beat is the receptive field of the channel's strongest step.

# %%
explorers.activation_explorer(model, X, y, capture=interpret.capture_activations,
                              receptive_fields=interpret.receptive_fields, class_names=CLASSES,
                              source=SYN.strip(" ()"))

# %% [markdown]
# ## Exercise 5.5 — `top_activating`: what a channel looks for
#
# A channel of a middle layer answers to some pattern. Which one? Run all the test beats through
# the network, average the channel over time for each beat, and look at the beats where it is
# largest. If they share a shape (and a class), that shape is what the channel detects.

# %%
check("5.5")

# %%
LAYER = "features.3"                                    # 20 steps; each sees 89 samples
layer_acts = interpret.capture_activations(model, X, layers=[LAYER])[LAYER].cpu().numpy()
class_share = []
for channel in range(layer_acts.shape[1]):
    top = interpret.top_activating(layer_acts, channel, k=20)
    class_share.append(np.bincount(y[top], minlength=5) / len(top))
class_share = np.array(class_share)                     # (channels, classes)
fig, ax = plt.subplots(figsize=(12, 2.8))
bottom = np.zeros(len(class_share))
for c, name in enumerate(CLASSES):
    ax.bar(np.arange(len(class_share)), class_share[:, c], bottom=bottom, color=plots.CLASS_COLORS[c], label=name)
    bottom += class_share[:, c]
ax.set(xlabel=f"channel of {LAYER}", ylabel="share of its top 20 beats",
       title=f"whose beats excite each channel most{SYN}")
ax.legend(ncol=5, fontsize="small", loc="upper right")
plt.show()
base = np.bincount(y, minlength=5) / len(y)
for c, name in enumerate(CLASSES[1:], start=1):
    best = int(np.argmax(class_share[:, c]))
    print(f"{name}: {base[c]:.0%} of the beats, but {class_share[best, c]:.0%} of channel {best}'s top 20{SYN}")

# %% [markdown]
# **What to look for.** Without any label, some channels' favourite beats are mostly of one rare
# class: the network has grown detectors for what makes those beats different. Pick such a
# channel in the gallery below and look at its beats.

# %%
explorers.channel_gallery(model, X, y, capture=interpret.capture_activations,
                          top_activating=interpret.top_activating, class_names=CLASSES,
                          source=SYN.strip(" ()"))

# %% [markdown]
# ## Exercise 5.3 — `saliency`: which samples move the decision
#
# The gradient of the target class's logit with respect to the input, $\partial z_c / \partial
# x_t$, says how much the logit would change per unit change of sample $t$: its absolute value is
# the **saliency map** (Simonyan et al. 2014). It needs one backward pass, to the input only —
# `torch.autograd.grad(logit, x)` — not `.backward()`, which would also fill (and add to) every
# parameter's `.grad` and spoil a training run in progress.

# %%
check("5.3")

# %% [markdown]
# ## Exercise 5.4 — `grad_cam`: where a layer's channels speak for a class
#
# Saliency is noisy: one sample at a time. **Grad-CAM** (Selvaraju et al. 2017) asks a layer
# instead. With $A$ the layer's output (channels × steps) and $G = \partial z_c / \partial A$:
# each channel's weight is its mean gradient, $\alpha_k = \frac{1}{L}\sum_t G_{k,t}$; the map is
# $\mathrm{ReLU}(\sum_k \alpha_k A_k)$ — the steps where channels that raise $z_c$ are active —
# stretched to the beat's 187 samples and scaled to [0, 1]. A deep layer gives a coarse map
# (features.5: 2 steps) about abstract features; a shallow one a sharp map about local shapes.

# %%
check("5.4")

# %%
examples = [int(np.flatnonzero(y == c)[0]) for c in range(5) if np.any(y == c)]
sal = interpret.saliency(model, X[examples])
cams = interpret.grad_cam(model, X[examples], LAYER)
explorers.attribution_figure(X[examples], y[examples], pred[examples], sal, cams,
                             class_names=CLASSES, source=SYN.strip(" ()"))

# %% [markdown]
# ## Where the network looks, class by class
#
# One beat's map can be an accident. The cell averages Grad-CAM over up to 200 test beats of
# each class (20 in a quick run), explaining the true class, and draws it under that class's
# average beat.

# %%
fig, axes = plt.subplots(2, 5, figsize=(15, 4.2), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
mean_cams = {}
for c, name in enumerate(CLASSES):
    idx = np.flatnonzero(y == c)[:SETTINGS["cam_beats"]]
    if len(idx) == 0:
        axes[0, c].set_title(f"{name}: no beats")
        continue
    cam = interpret.grad_cam(model, X[idx], LAYER, target=c)
    mean_cams[c] = cam.mean(axis=0)
    axes[0, c].plot(X[idx].mean(axis=0), color=plots.CLASS_COLORS[c])
    axes[0, c].set_title(f"{name}: mean of {len(idx)} beats{SYN}", fontsize="small")
    axes[1, c].fill_between(np.arange(187), mean_cams[c], color=plots.CLASS_COLORS[c], alpha=0.5)
    axes[1, c].set(ylim=(0, 1), xlabel="sample")
axes[1, 0].set_ylabel(f"mean Grad-CAM\n({LAYER})")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to look for.** Each beat starts at its R peak, and the next beat's R peak, where the
# window reaches it, is the second spike of the mean beat: an S beat's next R peak comes early,
# an N beat's on time, and a V beat is one wide complex. Ask of each class's map: does it sit on
# the beat's own QRS (the first samples), on the stretch between the beats, on the next R peak
# (that is, on the *timing*), or nowhere in particular? Maps of features.3 are coarse (20 steps,
# each seeing 89 samples) and averages of many beats spread out, so only broad differences mean
# anything; the last section measures how much of such a map is the network's at all. Your
# network may differ from your neighbour's: these are its reasons, not the cardiologist's.
#
# ## The attribution explorer
#
# Saliency and Grad-CAM of one example per class, for the prediction or for a class you choose,
# and for any layer.

# %%
explorers.attribution_explorer(model, X, y, saliency=interpret.saliency, grad_cam=interpret.grad_cam,
                               layer=LAYER, class_names=CLASSES, source=SYN.strip(" ()"))

# %% [markdown]
# ## What saliency maps do not prove
#
# A map that looks sensible is not evidence that the network uses what it shows. Adebayo et al.
# (2018, "Sanity checks for saliency maps") proposed a simple test: compute the same maps for the
# same network with **random weights**. A method whose maps barely change is showing the input's
# own structure (its edges, its peaks), not what training put into the network. The cell does it
# for both methods: the rank correlation between the trained network's map and a random
# network's, beat by beat (1: the same ranking of the samples, 0: unrelated).

# %%
def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's correlation of each row of ``a`` with the same row of ``b``, shapes (N, L)."""
    ra, rb = a.argsort(axis=1).argsort(axis=1), b.argsort(axis=1).argsort(axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    return (ra * rb).sum(axis=1) / np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1) + 1e-12)


torch.manual_seed(123)
random_net = type(model)(n_classes=5).to(DEVICE).eval()          # the same network, untrained
idx = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(5)])
targets = y[idx]
rows = []
for method, fn in (("saliency", lambda m: interpret.saliency(m, X[idx], target=targets)),
                   ("Grad-CAM", lambda m: interpret.grad_cam(m, X[idx], LAYER, target=targets))):
    trained_map, random_map = fn(model), fn(random_net)
    rho = rank_correlation(trained_map, random_map)
    rows.append((method, float(np.nanmean(rho))))
    print(f"{method:9s}: trained vs random weights, mean rank correlation {np.nanmean(rho):+.2f} "
          f"over {count(len(idx), 'beat')}{SYN}")
beat_vs_saliency = float(np.nanmean(rank_correlation(np.abs(np.gradient(X[idx], axis=1)),
                                                     interpret.saliency(random_net, X[idx], target=targets))))
print(f"and the random network's saliency against the beat's own slope |dx/dt|: {beat_vs_saliency:+.2f}{SYN}")

# %% [markdown]
# **Reading the numbers.** A correlation far from 0 between the trained and the random network
# means much of the map comes from the beat and the architecture, not from learning — an
# untrained network's saliency often follows the beat's own steep slopes. What is left is the part
# training changed. So: a saliency map is a *hypothesis* about what the network uses. It is
# evidence only when it passes such checks, and stronger evidence comes from interventions —
# change the part of the beat the map points at and see whether the prediction changes. The maps
# also say nothing about *why* a region matters, and they differ between methods and layers (try
# another layer in the explorer). Use them to ask questions about your network, not to answer a
# clinician's.
#
# ## What you built
#
# Hooks that see inside any PyTorch model and leave it as they found it; receptive fields,
# computed and measured; saliency and Grad-CAM without side effects on training; a way to find
# what a channel answers to. The same five functions work on any 1-D CNN — try them on the
# network lesson 4 transferred to myocardial infarction.
