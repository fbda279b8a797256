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
# # Lesson 4 — Transfer learning: from arrhythmia to myocardial infarction
#
# Lesson 3 trained `KachueeNet` on the MIT-BIH Arrhythmia Database: about 100,000 labelled beats
# of five classes. Along the way its convolutions learnt what a heartbeat is made of, P waves, QRS
# complexes, T waves and how they bend. A myocardial infarction (MI, a heart attack) leaves its
# own marks on those same waves: an ST segment raised or lowered, a deep Q wave, an inverted T.
# But MI data is scarce: the PTB Diagnostic ECG Database holds 52 healthy controls and 148 MI
# patients, and the Kaggle PTB CSVs that Kachuee et al. cut from it have 14,552 beats, seven
# times fewer than MIT-BIH. Kachuee, Fazeli & Sarrafzadeh (2018) did not train an MI network from
# nothing: they took the arrhythmia network, kept what it had learnt and trained only its top
# layers on PTB. That is **transfer learning**, and this lesson measures what it buys:
#
# 1. a network trained on MIT-BIH: lesson 3's, or one trained here briefly
# 2. a new last layer with one output per MI class — `replace_head` (exercise 4.1)
# 3. freezing all but the top layers — `set_trainable` (4.2)
# 4. fine-tuning with 1, 2, ... up to all 14 layers trained, each time from the same pretrained
#    weights, beside the same network trained from scratch
# 5. the low-data curve: transfer against scratch with 10 %, 25 %, 50 % and 100 % of the MI
#    training beats, over several seeds.
#
# **How this lesson works.** You write the two functions in `ecglab/transfer.py` (open it next
# to this notebook: each docstring is its exercise sheet — what to do, the approach, an example, a
# hint). After each exercise, a **check cell** grades your function against the reference on
# many inputs, prints ✓/✗ per case and explains the first failure; it returns the points the
# exercise earned, which is how nbgrader reads the cell's grade. The same checks grade you at the
# end (`python -m autograder check --lesson 4`, or nbgrader). The lesson also runs your
# `KachueeNet` (exercise 2.3) and your `train_one_epoch`, `predict`, `confusion_matrix` and
# `classification_report` (3.2–3.5); where one of them is not written yet, the reference takes its
# place and says so, so you can read the whole lesson first.

# %%
import copy
import os
import time

import numpy as np
import matplotlib.pyplot as plt
import torch
from torch import nn

from ecglab import architecture, data, plots, training
from ecglab.data.mi import load_mi_task, mi_split
from ecglab.plots import count   # count(1, "beat") is "1 beat", count(2, "beat") "2 beats"
from autograder.notebook import exercises, grading_mode, reference_module

models = exercises("models")      # KachueeNet (exercise 2.3)
train = exercises("train")        # train_one_epoch, predict, confusion_matrix, classification_report
transfer = exercises("transfer")  # replace_head (4.1), set_trainable (4.2): this lesson
GRADING = grading_mode()          # nbgrader is running the notebook: nothing falls back
QUICK = GRADING or bool(os.environ.get("ECGLAB_QUICK"))   # short runs only (ECGLAB_QUICK=1 too)
DEVICE = training.device()        # the GPU when there is one, else the CPU
CHECKPOINT = "lesson3-kachueenet"  # the network lesson 3 trained and saved
WEIGHT_LAYERS = (nn.Conv1d, nn.Linear)


def synthetic_label(thing) -> str:
    """The label " (synthetic ECG)" for a record or dataset made by ecglab's generator, else "".

    Every number this lesson measures on generated data carries the label: such numbers describe
    the generator, not patients, and must never be quoted as if they did.
    """
    return " (synthetic ECG)" if thing.source == "synthetic" else ""


def whose(thing) -> str:
    """"your" for a function or network of your ecglab, "the reference" for the reference's,
    which the lesson uses where yours is not written yet."""
    owner = type(thing) if isinstance(thing, nn.Module) else thing
    return "your" if getattr(owner, "__module__", "").startswith("ecglab.") else "the reference"


_told = set()


def kachuee(n_classes: int) -> nn.Module:
    """A fresh ``KachueeNet``: yours, or the reference where yours fails on a batch of beats
    (the cell then says so once; lesson 2's check("2.3") says what to fix)."""
    cls = models.KachueeNet
    try:
        net = cls(n_classes=n_classes)
        shape = tuple(net(torch.zeros(2, 187)).shape)
        if shape != (2, n_classes):
            raise ValueError(f"gives logits of shape {shape} for 2 beats, expected {(2, n_classes)}")
        for part in ("features", "classifier"):
            if not isinstance(getattr(net, part, None), nn.Module):
                raise AttributeError(f"has no {part!r} (lessons 3-5 use it)")
        return net
    except Exception as exc:
        reference = None if GRADING else reference_module("models")
        if reference is None or whose(cls) != "your":
            raise
        if "KachueeNet" not in _told:
            _told.add("KachueeNet")
            problem = (str(exc) or type(exc).__name__).splitlines()[0][:160]
            print(f"✗ your KachueeNet {problem}; the lesson goes on with the reference "
                  f"KachueeNet (check 2.3 in lesson 2 says what to fix)")
        return reference.KachueeNet(n_classes=n_classes)


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The Conv1d and Linear layers of ``model`` with their names, in order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)]


def layer_label(name: str, model: nn.Module) -> str:
    """A readable name for a weight layer of KachueeNet: "block 5, conv 2", "dense 1", "head"."""
    names = [n for n, _ in weight_layers(model)]
    parts = name.split(".")
    if name == names[-1]:
        return "head"
    if parts[0] == "features" and len(parts) == 2:
        return "first conv" if parts[1] == "0" else f"conv {parts[1]}"
    if parts[0] == "features" and len(parts) == 3 and parts[2].startswith("conv"):
        return f"block {parts[1]}, conv {parts[2][4:]}"
    if parts[0] == "classifier":
        dense = [n for n in names if n.startswith("classifier.")]
        return f"dense {dense.index(name) + 1}" if name in dense else name
    return name


def trainable_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

# %% [markdown]
# ## The settings
#
# Every training run of this lesson is short, so that the whole notebook runs in a few minutes on
# a laptop's CPU. A fine-tuning run makes a fixed number of optimiser updates (batches of 32
# beats, Adam with learning rate 3 · 10⁻³), however many beats it is given: a run on 10 % of the
# beats sees them more often, one on all of them fewer times, and transfer and scratch always get
# the same budget (four times more updates on a GPU). While nbgrader grades (grading mode), or with
# `ECGLAB_QUICK=1`, every run is shorter still, and fewer of them run.

# %%
if QUICK:
    PRETRAIN = {"per_class": 60, "epochs": 1}   # the fallback pretraining (no lesson-3 network)
    STEPS = 8                                   # optimiser updates per fine-tuning run
    SEEDS = (0, 1)
    FRACTIONS = (0.25, 1.0)
else:
    PRETRAIN = {"per_class": 1000, "epochs": 8}
    STEPS = 100 if DEVICE.type == "cpu" else 400   # a GPU affords longer runs
    SEEDS = (0, 1, 2, 3, 4)
    FRACTIONS = (0.1, 0.25, 0.5, 1.0)
BATCH, LR = 32, 3e-3    # fine-tuning and from-scratch runs (the pretraining uses 1e-3)
TRANSFER_N = 3   # the low-data curve trains the 3 dense layers (the paper, too, trained dense ones)


def epochs_for(n_beats: int) -> int:
    """Epochs that make about STEPS updates of BATCH beats (at least one pass over the beats)."""
    batches = -(-n_beats // BATCH)
    return max(1, -(-STEPS // batches))


print(f"training on {DEVICE}; {STEPS} updates of {BATCH} beats per fine-tuning run, "
      f"{len(SEEDS)} seeds, fractions {', '.join(f'{f:.0%}' for f in FRACTIONS)}")
if QUICK:
    print(f"{'grading mode' if GRADING else 'ECGLAB_QUICK'}: the lesson's runs are cut short (1 pretraining epoch on a tiny subset, "
          f"{STEPS} updates per run, 3 values of n instead of 14, {len(SEEDS)} seeds, "
          f"{len(FRACTIONS)} fractions): its numbers are not the lesson's results")

# %% [markdown]
# ## The MI task: healthy or infarction, beat by beat
#
# `load_mi_task` (ready-made, in `ecglab.data.mi`) finds the best MI data in the data folder and
# says what it found: the PTB records of PhysioNet with both classes, or the full Kaggle PTB CSVs;
# else the 100 + 100 real sample rows of those CSVs that the course ships with; else beats of
# the synthetic generator (and then every number says "(synthetic ECG)").
#
# The split matters as much as the data. Beats of one patient look alike: the same heart, the
# same electrodes, the same noise. Where the patients are known, `mi_split` puts each of them
# wholly on one side, so the test asks about people the network never saw. The Kaggle rows carry
# no patient id: there the split is by beat, and a test beat usually has near twins, beats of the
# same patient, in the training set. A network (or anything else) can then score well by
# recognising the patient rather than the infarction, so scores on a beat split are optimistic.

# %%
mi, about = load_mi_task()
SYN = synthetic_label(mi)   # goes after every number measured on these beats
train_idx, test_idx, how = mi_split(mi, test_fraction=0.3, seed=0)
X_train, y_train, X_test, y_test = mi.X[train_idx], mi.y[train_idx], mi.X[test_idx], mi.y[test_idx]
print(about, end="\n\n")


def counts(index) -> str:
    return ", ".join(f"{c} {n:,}" for c, n in zip(mi.classes, mi.per_class(index)))


print(f"split {how}:\n  train {count(len(train_idx), 'beat')} ({counts(train_idx)})\n"
      f"  test  {count(len(test_idx), 'beat')} ({counts(test_idx)}){SYN}")
if how == "by patient":
    print(f"  {len(set(mi.record[train_idx]))} patients train, {len(set(mi.record[test_idx]))} "
          f"others test: no patient is on both sides")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3), sharey=True)
plots.class_overlays(mi.X, mi.y, classes=mi.classes, per_class=60, axes=axes, fs=mi.fs)
t = np.arange(mi.X.shape[1]) / mi.fs
for k, ax in enumerate(axes):
    ax.plot(t, mi.X[mi.y == k].mean(axis=0), color="black", lw=1.5, label="mean beat")
    ax.legend(loc="upper right", fontsize="small")
fig.suptitle(f"the MI task: beats of healthy controls and of MI patients{SYN}")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What to look for.** Each panel overlays beats of one class, and the black line is their
# mean. The two classes share the same shape: an R peak at the start (each beat is cut from its
# R peak on), then the T wave and, near the end, the next beat's QRS complex, or the zeros that
# pad a short beat to 187 samples. An infarction changes the details:
# the level between the S wave and the T wave, the T wave's height and sign. Nothing in one beat
# shouts "infarction", and the beats of one class vary a lot, patient to patient.
#
# **How hard is it?** A baseline without any network: give each test beat the label of the most
# similar training beat (its nearest neighbour, by Euclidean distance). On a split by beat the
# nearest neighbour is often a beat of the same patient, so this simple rule does well there, and
# it is a good yardstick for what the networks below add.

# %%
def nearest_neighbour_labels(X_fit, y_fit, X, chunk=1024) -> np.ndarray:
    """The label of the closest beat of ``X_fit`` (Euclidean distance) for every beat of ``X``,
    ``chunk`` beats of ``X`` at a time (the distance matrix of all at once can be large)."""
    X_fit, X = torch.as_tensor(X_fit, dtype=torch.float32), torch.as_tensor(X, dtype=torch.float32)
    closest = [torch.cdist(X[i:i + chunk], X_fit).argmin(dim=1) for i in range(0, len(X), chunk)]
    return np.asarray(y_fit)[torch.cat(closest).numpy()]


nn_pred = nearest_neighbour_labels(X_train, y_train, X_test)
nn_report = train.classification_report(train.confusion_matrix(y_test, nn_pred, 2))
NN_SCORES = {"accuracy": float(np.mean(nn_pred == y_test)), "macro_f1": float(nn_report["macro_f1"])}
print(f"1-nearest neighbour, split {how.split(':')[0]}: test accuracy {NN_SCORES['accuracy']:.3f}, "
      f"macro-F1 {NN_SCORES['macro_f1']:.3f}{SYN}")
source = mi.meta.get("mi_source")
if source == "kaggle_sample":
    print(f"ℹ These are {count(len(mi), 'real beat')} ({counts(None)}), the sample rows of the "
          f"Kaggle PTB CSVs: a real but tiny experiment. The test set is {len(test_idx)} held-out "
          f"beats, split by beat: the Kaggle rows carry no patient id, so a test beat's patient may "
          f"have beats in the training set, and every score below is flattered by that. With "
          f"{len(test_idx)} test beats, one beat is {100 / len(test_idx):.1f} points of accuracy. "
          f"The real experiment needs the full Kaggle PTB CSVs (14,552 beats): in a terminal, "
          f"`python -m ecglab data fetch kaggle`, then run this lesson again.")
elif source == "kaggle":
    print("ℹ The full Kaggle PTB CSVs, split by beat (they carry no patient id): a test beat's "
          "patient may have beats in the training set, so the scores below are optimistic.")
elif mi.source == "synthetic":
    print("*** SYNTHETIC DATA *** every score of this lesson describes ecglab's generator, not "
          "patients. For real data: `python -m ecglab data fetch kaggle` in a terminal.")

# %% [markdown]
# ## A network that knows arrhythmias
#
# Transfer starts from a trained network. Lesson 3 saves the `KachueeNet` it trains on MIT-BIH
# (`training.save_checkpoint(model, "lesson3-kachueenet", ...)`); this cell loads it when it is
# there. When it is not (lesson 3 not run yet on this machine), the cell trains one here, briefly:
# a few epochs on a class-balanced subset of the MIT-BIH beats (at most 1,000 beats of each
# class), with your `train_one_epoch` and the ready-made `training.fit`. That network is weaker
# than lesson 3's, but it has learnt the shapes of beats, which is all transfer needs.

# %%
torch.manual_seed(0)             # the same starting weights every time the cell runs
pretrained = kachuee(n_classes=5)
meta = training.load_checkpoint(pretrained, CHECKPOINT)
if meta is not None:
    facts = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in meta.items() if isinstance(v, (str, int, float)))
    PRE_SYN = (" (pretrained on synthetic ECG)"
               if any("synthetic" in str(v).lower() for v in meta.values()) else "")
    print(f"✓ loaded lesson 3's network from {training.checkpoint_dir() / (CHECKPOINT + '.pt')}"
          f"{': ' + facts if facts else ''}{PRE_SYN}")
    history = None
else:
    mitbih = data.load_mitbih()
    MSYN = synthetic_label(mitbih)
    PRE_SYN = " (pretrained on synthetic ECG)" if MSYN else ""
    keep = training.balanced_subset(mitbih.y, per_class=PRETRAIN["per_class"], seed=0)
    fit_part, val_part = data.stratified_split(mitbih.y[keep], test_fraction=0.2, seed=0)
    fit_idx, val_idx = keep[fit_part], keep[val_part]
    print(f"no network of lesson 3 in {training.checkpoint_dir()}: training {whose(pretrained)} "
          f"KachueeNet here, {PRETRAIN['epochs']} epoch(s) on {count(len(fit_idx), 'MIT-BIH beat')} "
          f"({', '.join(f'{c} {n}' for c, n in zip(mitbih.classes, mitbih.per_class(fit_idx)))})"
          f"{MSYN}")
    history = training.fit(
        pretrained, mitbih.X[fit_idx], mitbih.y[fit_idx], epochs=PRETRAIN["epochs"],
        epoch_fn=train.train_one_epoch, lr=1e-3, batch_size=64, seed=0, progress=not GRADING,
        evaluate=training.scorer(mitbih.X[val_idx], mitbih.y[val_idx], train.predict,
                                 train.classification_report, train.confusion_matrix, n_classes=5),
        live=None if GRADING else training.LiveCurves(f"KachueeNet on MIT-BIH{MSYN}"))
    last = history.epochs[-1]
    print(f"pretrained in {history.seconds:.0f} s on {history.device}: on "
          f"{count(len(val_idx), 'held-out beat')} of the balanced subset, accuracy "
          f"{last['accuracy']:.3f}, macro-F1 {last['macro_f1']:.3f}{MSYN}")
pretrained.to(DEVICE).eval()
TAG = SYN or PRE_SYN   # after every number of the MI task: synthetic beats, or a synthetic start
N_LAYERS = len(weight_layers(pretrained))
print(f"{whose(pretrained)} KachueeNet: {N_LAYERS} layers with weights, "
      f"{sum(p.numel() for p in pretrained.parameters()):,} parameters")

# %% [markdown]
# ## Exercise 4.1 — `replace_head`: a new last layer for a new task
#
# The pretrained network ends in `Linear(32, 5)`: five logits, one per arrhythmia class. The MI
# task has two classes, so that layer has to go. Everything below it stays: the convolutions turn
# a beat into 64 numbers, the first two dense layers turn those into 32 *features*, and a new
# `Linear(32, 2)` with fresh random weights learns to read healthy or MI off them.
#
# Write `replace_head(model, n_classes)`: find the model's last `nn.Linear` (walk
# `model.named_modules()`), and put a fresh `nn.Linear(in_features, n_classes)` in its place on
# its parent module (`setattr`), on the old layer's device. Return the model, changed in place.

# %%
check("4.1")

# %%
examples = [int(np.flatnonzero(mi.y == k)[0]) for k in range(2)]   # a normal and an MI beat
beats = torch.as_tensor(mi.X[examples], dtype=torch.float32, device=DEVICE)
net = copy.deepcopy(pretrained)
old_p = torch.softmax(net(beats), dim=1).detach().cpu().numpy()   # probabilities of 5 classes
old_head = weight_layers(net)[-1]
torch.manual_seed(0)
returned = transfer.replace_head(net, 2)
new_head = weight_layers(net)[-1]
new_p = torch.softmax(net(beats), dim=1).detach().cpu().numpy()   # ... and of 2
kept = [n for n, p in pretrained.state_dict().items() if n in net.state_dict()
        and net.state_dict()[n].shape == p.shape and torch.equal(net.state_dict()[n], p)]
print(f"before: {old_head[0]} = {old_head[1]}\nafter:  {new_head[0]} = {new_head[1]}")
ok = returned is net and new_p.shape == (2, 2) and len(kept) == len(pretrained.state_dict()) - 2
print(f"{'✓' if ok else '✗'} {whose(transfer.replace_head)} replace_head: logits "
      f"{old_p.shape} -> {new_p.shape}; {len(kept)} of the {len(pretrained.state_dict())} weight "
      f"and bias tensors are the pretrained ones (all but the head's two)")

fig, (a, b) = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [5, 2]})
for i, (k, colour) in enumerate(zip(range(2), ("tab:blue", "tab:orange"))):
    a.bar(np.arange(5) + 0.4 * i - 0.2, old_p[i], width=0.4, color=colour,
          label=f"the {mi.classes[k]} beat")
    b.bar(np.arange(2) + 0.4 * i - 0.2, new_p[i], width=0.4, color=colour)
a.set(xticks=range(5), xticklabels=data.CLASSES, ylim=(0, 1), ylabel="probability",
      title=f"the MIT-BIH head: 5 arrhythmia classes{TAG}")
b.set(xticks=range(2), xticklabels=mi.classes, ylim=(0, 1), title="the new head, untrained")
a.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# **What to look for.** Left: what the arrhythmia network says about a normal and an MI beat of
# PTB. It knows only N, S, V, F and Q, so whatever it answers is an arrhythmia class: an
# infarction is not one of them, and the old head has no way to say it. Right: the new head, with
# random weights, gives the two classes arbitrary probabilities, about the same for any beat. It
# knows nothing yet; the layers beneath it know a lot. Fine-tuning teaches the head to read them.

# %% [markdown]
# ## Exercise 4.2 — `set_trainable`: freeze all but the top `n` layers
#
# A parameter with `requires_grad = False` gets no gradient, and an optimiser that is not given
# it never changes it: it is **frozen**. Freezing the bottom of the network keeps the pretrained
# features exactly as they are, trains fewer numbers (which needs fewer examples and less time),
# and cannot forget what MIT-BIH taught.
#
# Write `set_trainable(model, n_trainable)`: list the layers with weights (`nn.Conv1d` and
# `nn.Linear`, in the order of `model.modules()`), freeze every parameter of the model, then
# unfreeze the last `n_trainable` of those layers. `0` freezes everything; a number below 0 or
# above the number of layers raises `ValueError`. `KachueeNet` has 14 such layers: 1 + 5 × 2
# convolutions and 3 dense layers.

# %%
check("4.2")

# %%
net = transfer.replace_head(copy.deepcopy(pretrained), 2)
rows = []
for n in range(N_LAYERS + 1):
    transfer.set_trainable(net, n)
    trained = [name for name, layer in weight_layers(net) if layer.weight.requires_grad]
    rows.append({"n": n, "lowest": layer_label(trained[0], net) if trained else "(none)",
                 "layers": len(trained), "trainable": trainable_count(net),
                 "frozen": sum(p.numel() for p in net.parameters() if not p.requires_grad)})
print(f"{whose(transfer.set_trainable)} set_trainable(net, n) on the network with its new head:")
print(architecture.format_table(
    rows, ["n", "lowest", "layers", "trainable", "frozen"],
    ["n", "lowest trained layer", "layers trained", "trainable", "frozen"]))
wrong = [r["n"] for r in rows if r["layers"] != r["n"]]
print(f"✗ for n = {wrong}, the number of layers trained is not n (check 4.2 says why)" if wrong
      else "✓ every n trains exactly the top n layers")

transfer.set_trainable(net, 0)
try:
    training.fine_tune(net, X_train[:8], y_train[:8], epochs=1, epoch_fn=train.train_one_epoch,
                       progress=False)
except ValueError as exc:
    print(f"n = 0: training.fine_tune refuses to start: {exc}")
else:
    print("✗ after set_trainable(net, 0) some parameters are still trainable, and fine_tune "
          "trained them: n = 0 must freeze everything")

tables = {}
for n in (TRANSFER_N, 8):
    transfer.set_trainable(net, n)
    tables[f"set_trainable(net, {n})"] = architecture.parameter_table(net)
fig = plots.parameter_bars(tables, title="trainable (blue) and frozen (grey) parameters")
plt.show()

# %% [markdown]
# The dense part is small: training the top 3 layers trains 3,202 of the network's 54,914
# parameters. Each residual block adds two convolutions of 5,152 parameters each. Note the
# order: the layers are frozen from the *bottom*, the first convolution first. The bottom layers
# compute the most general things (slopes, peaks), the top ones the most task-specific, so the top
# is where a new task needs change most.
#
# ## Fine-tuning: how many layers to train?
#
# For every `n` from 1 (the new head only) to 14 (all layers), the cell takes a *fresh copy* of
# the pretrained network, replaces its head, keeps the top `n` layers trainable and trains them on
# the MI training beats with `training.fine_tune`. That ready-made loop gives the optimiser only
# the trainable parameters, and keeps frozen normalisation layers in evaluation mode: a frozen
# batch-norm layer would otherwise still update its running statistics in `model.train()` mode
# (`KachueeNet` has none, but many networks do). Beside them, the same `KachueeNet` trained from
# random weights with the same budget: **from scratch**. Each run is scored on the same test beats
# with your `predict`, `confusion_matrix` and `classification_report`. This is the longest cell
# of the lesson but one (under a minute on a laptop's CPU).

# %%
evaluate = training.scorer(X_test, y_test, train.predict, train.classification_report,
                           train.confusion_matrix, n_classes=2)


def transferred(n_trainable: int, seed: int = 0) -> nn.Module:
    """A fresh copy of the pretrained network, with a new 2-class head and the top
    ``n_trainable`` layers trainable (``seed`` sets the new head's random weights)."""
    net = copy.deepcopy(pretrained)
    torch.manual_seed(seed)
    transfer.replace_head(net, 2)
    return transfer.set_trainable(net, n_trainable)


def from_scratch(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return kachuee(n_classes=2)


def train_and_score(net: nn.Module, X, y, seed: int = 0) -> dict:
    """Train ``net`` for about STEPS updates (``fine_tune`` where part of it is frozen); return
    its test scores."""
    if not any(p.requires_grad for p in net.parameters()):
        print("✗ set_trainable left nothing trainable: this run is skipped (check 4.2 says why)")
        return {"accuracy": float("nan"), "macro_f1": float("nan"), "seconds": 0.0}
    frozen = any(not p.requires_grad for p in net.parameters())
    run = training.fine_tune if frozen else training.fit
    history = run(net, X, y, epochs=epochs_for(len(y)), epoch_fn=train.train_one_epoch, lr=LR,
                  batch_size=BATCH, seed=seed, progress=False)
    return {**evaluate(net), "seconds": history.seconds}


SWEEP = (1, TRANSFER_N, N_LAYERS) if QUICK else tuple(range(1, N_LAYERS + 1))
started = time.perf_counter()
sweep, nets = [], {}
for n in SWEEP:
    net = transferred(n)
    scores = train_and_score(net, X_train, y_train)
    nets[n] = net
    trained = [name for name, layer in weight_layers(net) if layer.weight.requires_grad]
    sweep.append({"run": f"transfer, n = {n}", "n": n,
                  "from": layer_label(trained[0], net) if trained else "(none)",
                  "trainable": trainable_count(net), **scores})
scratch = from_scratch()
sweep.append({"run": "from scratch", "n": N_LAYERS, "from": "(random weights)",
              "trainable": trainable_count(scratch), **train_and_score(scratch, X_train, y_train)})
sweep.append({"run": "1-nearest neighbour", "from": "(no network)", **NN_SCORES})
print(f"{len(SWEEP) + 1} networks trained in {time.perf_counter() - started:.0f} s on {DEVICE}, "
      f"{epochs_for(len(y_train))} epoch(s) of {count(len(y_train), 'beat')} each; test: "
      f"{count(len(y_test), 'beat')}, split {how.split(':')[0]}{TAG}")
shown = [{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()} for row in sweep]
print(architecture.format_table(
    shown, ["run", "from", "trainable", "accuracy", "macro_f1", "seconds"],
    ["run", "lowest trained layer", "trainable", "test accuracy", "test macro-F1", "seconds"]))

# %%
ns = [r["n"] for r in sweep[:len(SWEEP)]]
fig, ax = plt.subplots(figsize=(9, 3.6))
for key, marker, colour in (("accuracy", "o", "tab:blue"), ("macro_f1", "s", "tab:orange")):
    ax.plot(ns, [r[key] for r in sweep[:len(SWEEP)]], marker=marker, color=colour,
            label=f"transfer: {key.replace('_', '-')}")
    ax.axhline(sweep[len(SWEEP)][key], color=colour, ls="--", lw=1,
               label=f"from scratch: {key.replace('_', '-')}")
ax.axhline(NN_SCORES["accuracy"], color="0.5", ls=":", lw=1, label="1-nearest neighbour: accuracy")
se = np.sqrt(0.25 / len(y_test))   # the largest standard error of an accuracy on these test beats
ax.set(xlabel="layers trained, from the top (1 = the new head only, 3 = the dense part, "
              f"{N_LAYERS} = all)", ylabel="on the test beats", xticks=ns,
       title=f"fine-tuning the MIT-BIH network on MI, one seed each{TAG}")
ax.legend(fontsize="small", loc="lower right", ncol=2)
plt.tight_layout()
plt.show()
best = max(sweep[:len(SWEEP)], key=lambda r: r["accuracy"])
print(f"best transfer run: n = {best['n']}, accuracy {best['accuracy']:.3f}; from scratch "
      f"{sweep[len(SWEEP)]['accuracy']:.3f}; with {len(y_test)} test beats an accuracy has a "
      f"standard error of up to ±{se:.3f}: differences smaller than about twice that are noise{TAG}")

# %% [markdown]
# **What to look for.** With `n = 1` only the new head learns, on features made for arrhythmias:
# how high that gets shows how much of MI the arrhythmia features already see (a single linear
# layer also learns slowly: within the same budget of updates it may stay near chance). Training
# more layers lets the features adapt to MI, but each adds parameters to fit on the same few
# beats. In general, with a small training set the curve flattens or dips as `n` grows, and with
# many beats training everything catches up; whether it does here, the table says. The points are
# single runs: read the overall shape (and the standard error printed under the plot), not the
# ups and downs between neighbours. Picking the best `n` by these test scores would be tuning on
# the test set; the low-data curve below uses `n = 3`, the dense part, chosen beforehand.
#
# ### Frozen means frozen
#
# Fine-tuning with the top 3 layers trainable must leave every other weight bit-for-bit as the
# pretrained network had it. The cell compares the trained copy with the pretrained network,
# tensor by tensor.

# %%
tuned = nets[TRANSFER_N]
before = dict(pretrained.named_parameters())
frozen = [name for name, p in tuned.named_parameters() if not p.requires_grad]
after = dict(tuned.named_parameters())
changed = [name for name in frozen if not torch.equal(after[name], before[name])]
moved = [name for name, p in tuned.named_parameters() if p.requires_grad and name in before
         and p.shape == before[name].shape and not torch.equal(p, before[name])]
n_frozen = sum(before[name].numel() for name in frozen)
if not changed and frozen:
    print(f"✓ all {len(frozen)} frozen tensors ({n_frozen:,} parameters) are exactly the "
          f"pretrained ones after fine-tuning; {len(moved)} trained tensors below the new head "
          f"have moved")
elif not frozen:
    print(f"✗ nothing was frozen: set_trainable(net, {TRANSFER_N}) left every layer trainable "
          f"(check 4.2 says why)")
else:
    print(f"✗ {len(changed)} of the {len(frozen)} frozen tensors changed during fine-tuning "
          f"({', '.join(changed[:3])}...): their parameters still have requires_grad, or the "
          f"optimiser was given them (check 4.2 says more)")

# %% [markdown]
# ## The low-data curve: where transfer should help most
#
# Transfer learning earns its keep when the new task has few examples. The cell trains, for each
# share of the MI training set (10 %, 25 %, 50 %, 100 %, drawn with the same class proportions),
# the transferred network (new head, top `n = 3` layers trained) and the network from scratch,
# each with the same budget of updates, for several seeds. A seed picks the subset of beats, the
# new head's (or the whole scratch network's) random weights and the order of the batches, so the
# spread over seeds shows how much a result depends on luck. The test beats stay the same.

# %%
def subset(fraction: float, seed: int) -> np.ndarray:
    """A share of the training beats, with the class proportions of the whole."""
    if fraction >= 1.0:
        return np.arange(len(y_train))
    return data.stratified_split(y_train, test_fraction=fraction, seed=seed)[1]


started = time.perf_counter()
curve = {"transfer": {f: [] for f in FRACTIONS}, "scratch": {f: [] for f in FRACTIONS}}
for fraction in FRACTIONS:
    for seed in SEEDS:
        part = subset(fraction, seed)
        for kind, net in (("transfer", transferred(TRANSFER_N, seed)),
                          ("scratch", from_scratch(seed))):
            curve[kind][fraction].append(train_and_score(net, X_train[part], y_train[part], seed))
runs = 2 * len(FRACTIONS) * len(SEEDS)
print(f"{runs} networks trained in {time.perf_counter() - started:.0f} s on {DEVICE}{TAG}")


def spread(kind: str, fraction: float, key: str = "accuracy") -> tuple[float, float, float]:
    values = [r[key] for r in curve[kind][fraction]]
    return float(np.mean(values)), float(np.min(values)), float(np.max(values))


table = []
for fraction in FRACTIONS:
    row = {"share": f"{fraction:.0%}", "beats": len(subset(fraction, 0))}
    for kind in curve:
        mean, low, high = spread(kind, fraction)
        row[kind] = f"{mean:.3f} ({low:.3f}–{high:.3f})"
        row[kind + "_f1"] = f"{spread(kind, fraction, 'macro_f1')[0]:.3f}"
    row["difference"] = round(spread("transfer", fraction)[0] - spread("scratch", fraction)[0], 3)
    table.append(row)
print(f"test accuracy, mean (min–max) over {len(SEEDS)} seeds, and mean macro-F1{TAG}:")
print(architecture.format_table(
    table, ["share", "beats", "transfer", "transfer_f1", "scratch", "scratch_f1", "difference"],
    ["share", "training beats", f"transfer (n = {TRANSFER_N})", "macro-F1", "from scratch",
     "macro-F1", "transfer − scratch"]))

# %%
sizes = [len(subset(f, 0)) for f in FRACTIONS]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, key in zip(axes, ("accuracy", "macro_f1")):
    for kind, colour, shift in (("transfer", "tab:blue", 0.97), ("scratch", "tab:red", 1.03)):
        mean, low, high = np.array([spread(kind, f, key) for f in FRACTIONS]).T
        label = f"transfer (n = {TRANSFER_N})" if kind == "transfer" else "from scratch"
        ax.errorbar(np.array(sizes) * shift, mean, yerr=[mean - low, high - mean], marker="o",
                    capsize=4, color=colour, label=label)
    ax.axhline(0.5, color="0.6", ls=":", lw=1)
    ax.set(xscale="log", xticks=sizes,
           xticklabels=[f"{n}\n({f:.0%})" for n, f in zip(sizes, FRACTIONS)],
           xlabel="MI training beats (share of the training set)",
           title=f"test {key.replace('_', '-')}")
    ax.minorticks_off()
axes[0].set_ylabel("on the test beats")
axes[0].legend(loc="lower right")
fig.suptitle(f"transfer against scratch: mean and min–max over {len(SEEDS)} seeds{TAG}")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What the numbers show.** The cell below reads the curve for you, and says only what the
# numbers support: a difference counts as clear when the min–max ranges of the two methods over
# the seeds do not overlap; otherwise it is within the luck of the draw. On the 200 real sample
# beats (60 of them for testing) or on synthetic beats, expect small and noisy differences; the
# full Kaggle PTB CSVs give the real experiment.

# %%
readings = []
for fraction, size in zip(FRACTIONS, sizes):
    t_mean, t_low, t_high = spread("transfer", fraction)
    s_mean, s_low, s_high = spread("scratch", fraction)
    text = (f"{fraction:.0%} ({count(size, 'beat')}): transfer {t_mean:.3f}, scratch {s_mean:.3f}, "
            f"difference {t_mean - s_mean:+.3f}")
    if t_low > s_high:
        readings.append(f"{text}: transfer is ahead on every seed")
    elif s_low > t_high:
        readings.append(f"{text}: scratch is ahead on every seed")
    else:
        readings.append(f"{text}: the ranges overlap, the difference is within the spread over seeds")
print(f"Read off the curve{TAG}:")
for line in readings:
    print("  " + line)
gaps = [spread("transfer", f)[0] - spread("scratch", f)[0] for f in FRACTIONS]
largest = FRACTIONS[int(np.argmax(np.abs(gaps)))]
print(f"The largest gap in mean accuracy is at {largest:.0%} of the training beats "
      f"({max(gaps, key=abs):+.3f}).", end=" ")
smallest = spread("transfer", FRACTIONS[0])[1] > spread("scratch", FRACTIONS[0])[2]
if gaps[0] > max(gaps[-1], 0) and smallest:
    print("Transfer is ahead on every seed with the fewest beats, and by more than with all of "
          "them: the effect transfer learning predicts.")
elif gaps[0] > max(gaps[-1], 0):
    print("The means point the way transfer learning predicts (a larger lead with fewer beats), "
          "but with the fewest beats the ranges overlap: not a clear result.")
else:
    print("Transfer's lead does not grow as the beats get fewer: on this data the curve does not "
          "show the effect transfer learning predicts.")
if mi.meta.get("mi_source") == "kaggle_sample" or mi.source == "synthetic":
    print(f"({'Synthetic beats' if mi.source == 'synthetic' else f'{len(mi)} real sample beats'}, "
          f"{len(y_test)} test beats, {len(SEEDS)} seeds: treat these as an exercise in measuring, "
          f"not as a result about MI.)")
if QUICK:
    print("(short runs: these numbers are not the lesson's results)")

# %% [markdown]
# ## What you built, and what comes next
#
# You took a network trained for one task and made it work on another: a new head for the new
# classes (`replace_head`), frozen layers that keep what was learnt (`set_trainable`), and a
# fine-tuning loop that trains only what is meant to change. You measured how much to unfreeze
# and where transfer pays: when the new task has few examples, features learnt elsewhere can stand
# in for data you do not have. Be as careful with the claims as with the code: a split by beat
# flatters every score, a handful of test beats makes every difference noisy, and synthetic beats
# say nothing about patients.
#
# Lesson 5 opens the trained network up: what its layers respond to, and which samples of a beat
# drive its decision. Grade this lesson any time with `python -m autograder check --lesson 4` (or
# `pytest autograder -m lesson4`) from the course folder.
