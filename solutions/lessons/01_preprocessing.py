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
# # Lesson 1 — Signal preprocessing: from a raw ECG to heartbeats
#
# An electrocardiogram (ECG) is a continuous voltage trace: about 70 heartbeats a minute, each a
# P wave, a sharp QRS complex and a T wave. A 1-D convolutional network wants something else: many
# short, equally long, comparable inputs. This lesson turns one into the other, following the
# scheme of Kachuee, Fazeli & Sarrafzadeh (2018), the paper behind the widely used Kaggle
# "heartbeat" datasets (187 samples a beat, said to be at 125 Hz; the end of the lesson shows what
# the Kaggle MIT-BIH beats really are):
#
# 1. split the signal into 10-second windows — `to_windows` (exercise 1.1)
# 2. min–max normalise each window to [0, 1] — `normalize` (1.2)
# 3. find the local maxima, where the first derivative crosses zero — `local_maxima` (1.3)
# 4. keep the maxima at or above 0.9: the R peaks — `find_r_peaks` (1.4)
# 5. the median R–R interval is the nominal heartbeat period T — `nominal_period` (1.5)
# 6. each beat is the 1.2 T samples from its R peak, zero-padded to 187 — `extract_beats` (1.6)
# 7. all of it for a whole recording — `beats_from_signal` (1.7)
#
# and label each beat with its AAMI class — `aami_class` (1.8).
#
# **How this lesson works.** You write the functions in `ecglab/preprocess.py` (open it next to this
# notebook: each function's docstring is its exercise sheet — what to do, the approach, an example,
# a hint). After each exercise, a **check cell** grades your function against the reference on many
# inputs, prints ✓/✗ per case and explains the first failure, with a picture where that helps.
# The same checks grade you at the end (`python -m autograder check --lesson 1`, or nbgrader).
# Where a function is not written yet, the demonstration cells use the reference one and say so,
# so you can read the whole lesson first.

# %%
import numpy as np
import matplotlib.pyplot as plt

from ecglab import data, plots
from ecglab.plots import count   # count(1, "beat") is "1 beat", count(2, "beat") "2 beats"
from autograder.notebook import exercises

pp = exercises("preprocess")   # your functions from ecglab/preprocess.py (see the set-up cell)
FS = 125   # Hz: lesson 1's functions and the paper's scheme work at 125 Hz (the Kaggle-exact
           # MIT-BIH beats of the last two sections are at 120 Hz: the lesson shows why)


def synthetic_label(thing) -> str:
    """The label " (synthetic ECG)" for a record or dataset made by ecglab's generator, else "".

    Every number this lesson measures on generated data carries the label: such numbers describe
    the generator, not patients, and must never be quoted as if they did.
    """
    return " (synthetic ECG)" if thing.source == "synthetic" else ""

# %% [markdown]
# ## The data: record 100 of the MIT-BIH Arrhythmia Database
#
# The MIT-BIH Arrhythmia Database holds 48 half-hour, two-lead ambulatory ECGs recorded at 360 Hz,
# every beat annotated by two cardiologists. We read the MLII lead of record 100 and resample it to
# 125 Hz. (Without the real data, the set-up cell said so and this is the *synthetic* record 100:
# every number the lesson prints from it then says "(synthetic ECG)".)

# %%
record = data.load_record("100")
SYN = synthetic_label(record)   # goes after every number measured on this record
ANNOTATORS = "the generator" if record.source == "synthetic" else "the cardiologists"
print(f"record {record.name}{SYN}: {record.seconds / 60:.1f} min, lead {record.lead}, "
      f"{record.fs:g} Hz, {len(record.r_peaks)} annotated beats")
ax = plots.ecg(record.signal[: 10 * FS], FS, record.r_peaks[record.r_peaks < 10 * FS],
               peak_label="annotated beats", title=f"The first 10 s of record {record.name}{SYN}")
plt.show()

# %% [markdown]
# ## Exercise 1.1 — `to_windows`: 10-second windows
#
# The scheme looks at the signal 10 seconds at a time: long enough to hold several beats, so that a
# typical heart period can be measured, short enough for the rhythm to be steady. Write
# `to_windows(signal, fs, seconds=10.0)` in `ecglab/preprocess.py`: consecutive, non-overlapping
# windows of `round(seconds * fs)` samples; the incomplete remainder is dropped.

# %%
check("1.1")

# %%
windows = pp.to_windows(record.signal, FS)
print(f"signal: {record.signal.shape} -> windows: {windows.shape}{SYN}")
fig, axes = plt.subplots(3, 1, figsize=(12, 5), sharex=True)
for i, ax in enumerate(axes):
    plots.ecg(windows[i], FS, ax=ax, title=f"window {i}{SYN}", start=0)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 1.2 — `normalize`: min–max to [0, 1]
#
# Amplitudes differ between patients, electrodes and recordings. Min–max normalisation maps each
# window's minimum to 0 and its maximum to 1, so a fixed threshold (0.9, next) means the same thing
# everywhere. It must work on one signal `(n,)` and on many at once `(m, n)`, row by row, and a
# constant row (no range) gives zeros — never NaN.

# %%
check("1.2")

# %%
window = windows[0]
x = pp.normalize(window)
fig, (a, b) = plt.subplots(1, 2, figsize=(12, 2.8))
plots.ecg(window, FS, ax=a, title=f"window 0 in mV{SYN}")
plots.ecg(x, FS, ax=b, title=f"window 0, normalised{SYN}", ylabel="")
plt.tight_layout()
plt.show()
print(f"min {x.min():.2f}, max {x.max():.2f}; all windows at once: {pp.normalize(windows).shape}{SYN}")

# %% [markdown]
# ## Exercise 1.3 — `local_maxima`: where the derivative crosses zero
#
# A local maximum, by the rule of this course, is a sample higher than the one before it and at
# least as high as the one after it: `x[i] > x[i-1]` and `x[i] >= x[i+1]`, that is, the first
# difference `x[i] - x[i-1]` is positive and the next one, `x[i+1] - x[i]`, is not. So the first
# sample of a flat stretch counts, whatever follows it: on a flat top, but also on a step on the
# way up — `local_maxima([0, 1, 1, 2, 0])` is `[1, 3]`, and index 1 is no top. (Such steps are
# rare in a noisy ECG, and below 0.9 the next exercise drops them anyway.) The end samples never
# count: one of their neighbours is missing.

# %%
check("1.3")

# %%
maxima = pp.local_maxima(x)
plots.ecg(x, FS, maxima, title=f"every local maximum{SYN}", peak_label="local maxima", ylabel="",
          mec="tab:orange", ms=5)
plt.show()
print(f"{count(len(maxima), 'local maximum', 'local maxima')} in 10 s{SYN}: most of them are "
      "noise, P and T waves, not beats")

# %% [markdown]
# ## Exercise 1.4 — `find_r_peaks`: the maxima above 0.9
#
# The R wave is the tallest, sharpest deflection of a beat. After normalisation, the maxima at or
# above 0.9 are taken as R peaks. This simple detector works on clean, upright QRS complexes; watch
# where it fails (a smaller R wave, an inverted ectopic beat, a noisy window) — that is why the
# datasets of the course use the cardiologists' annotated R peaks, and the detector serves signals
# without annotations.
#
# **What the check grades.** `find_r_peaks` calls `normalize` (1.2) and `local_maxima` (1.3). The
# check runs your `find_r_peaks` with the *reference* versions of those two in place of yours, so a
# mistake in 1.2 or 1.3 costs only their points, not these as well. The cells after the check do not
# swap anything: they run *your* functions all the way, so their results are right only once 1.2
# and 1.3 pass too.

# %%
check("1.4")

# %%
peaks = pp.find_r_peaks(window)
annotated = record.r_peaks[record.r_peaks < len(window)]
ax = plots.ecg(x, FS, peaks, title=f"R peaks: threshold detector vs. annotations{SYN}", ylabel="",
               peak_label="detector")
ax.plot(annotated / FS, x[annotated], "x", color="tab:green", ms=9, label=f"annotated ({len(annotated)})")
ax.axhline(0.9, color="tab:red", lw=0.8, ls=":")
plots.legend_above(ax)   # above the strip: inside, it would hide the last R peaks
plt.show()
print(f"the detector found {count(len(peaks), 'R peak')} in window 0, {ANNOTATORS} annotated "
      f"{len(annotated)}{SYN}")

# %% [markdown]
# ## Exercise 1.5 — `nominal_period`: the median R–R interval
#
# The distance between consecutive R peaks is the R–R interval. Its **median** over the window is
# the nominal heartbeat period T, in samples: robust to one missed or one extra peak, where the
# mean is not. With fewer than two peaks there is no interval: raise `ValueError`.

# %%
check("1.5")

# %%
period = pp.nominal_period(peaks)
print(f"R-R intervals in samples{SYN}: {np.diff(peaks)}")
print(f"T = {period:g} samples = {period / FS:.2f} s, i.e. {60 * FS / period:.0f} beats per minute{SYN}")

# %% [markdown]
# ## Exercise 1.6 — `extract_beats`: 1.2 T from each R peak
#
# Each beat starts at its R peak and lasts `round(1.2 * T)` samples — a bit more than one period,
# so it ends in the next beat's QRS. Beats are cut to at most 187 samples (1.5 s at 125 Hz), min–max
# normalised, and zero-padded at the end to exactly 187: equally long inputs for the network.
#
# **What the check grades.** As for 1.4: the check runs your `extract_beats` with the reference
# `normalize` (1.2), so only your own code here decides these points; the cells below use your
# `normalize` too.

# %%
check("1.6")

# %%
beats = pp.extract_beats(x, peaks, period)
print(f"beats: {beats.shape}{SYN}")
ax = plots.beats(beats, title=f"{count(len(beats), 'beat')} of window 0, drawn over each other{SYN}",
                 alpha=0.6)
ax.axvline(round(1.2 * period) / FS, color="tab:red", ls=":", lw=1)
plt.show()

# %% [markdown]
# ## Exercise 1.7 — `beats_from_signal`: the whole recording
#
# Put steps 1–6 together: for every window, normalise, find the R peaks, measure T and cut the beats;
# skip windows with fewer than two peaks; stack everything into one `(n_beats, 187)` array.
#
# **What the check grades.** The check runs your `beats_from_signal` with the reference versions of
# every exercise it calls (1.1–1.6), so it grades only how you put them together: a mistake in an
# earlier exercise costs that exercise's points, not these as well. The cell below runs *your*
# functions all the way: its beats are right only once 1.1–1.6 pass too.

# %%
check("1.7")

# %%
all_beats = pp.beats_from_signal(record.signal, FS)
print(f"the detector cut {count(len(all_beats), 'beat')} from record {record.name}; "
      f"{ANNOTATORS} annotated {len(record.r_peaks):,}{SYN}")
drawn = min(len(all_beats), 200)   # plots.beats draws the first 200 at most
plots.beats(all_beats, title=f"record {record.name}{SYN}: {count(len(all_beats), 'beat')}"
            + (f" ({drawn} drawn)" if drawn < len(all_beats) else ""), alpha=0.1, max_beats=200)
plt.show()

# %% [markdown]
# ## Exercise 1.8 — `aami_class`: five classes of beats
#
# MIT-BIH annotates beats with symbols (`N` normal, `V` premature ventricular contraction, `/`
# paced...). The AAMI EC57 standard groups them into five classes, the labels of the course:
#
# | class | meaning | symbols |
# |---|---|---|
# | 0 = N | normal and bundle-branch-block beats | `N L R e j` |
# | 1 = S | supraventricular ectopic beats | `A a J S` |
# | 2 = V | ventricular ectopic beats | `V E` |
# | 3 = F | fusion of ventricular and normal | `F` |
# | 4 = Q | paced, fusion of paced and normal, unclassifiable | `/ f Q` |
#
# Every other symbol (rhythm changes `+`, noise `~`, ...) is not a beat: return `None`.

# %%
check("1.8")

# %%
labels = [pp.aami_class(s) for s in record.symbols]
counts = np.bincount([k for k in labels if k is not None], minlength=5)
print(f"record {record.name}{SYN}:", ", ".join(f"{c} {n}" for c, n in zip(data.CLASSES, counts)))

# %% [markdown]
# ## Your beats against ecglab's
#
# A test of your whole chain on another record: cut record 208's beats with **your** `to_windows`,
# `normalize`, `nominal_period` and `extract_beats`, at its annotated R peaks (every beat needs a
# label, and the 0.9 detector misses many: on the 48 real records it finds about 68 thousand of
# the 109 thousand beats the cardiologists annotated). `ecglab.data.cut_beats` is a ready-made,
# vectorised version of the same scheme: the two should agree to float precision, and the cell
# says whether they do and, if not, where to look.

# %%
rec = data.load_record("208")
yours = []
for w, win in enumerate(pp.to_windows(rec.signal, FS)):
    inside = rec.r_peaks[(rec.r_peaks >= w * 10 * FS) & (rec.r_peaks < (w + 1) * 10 * FS)] - w * 10 * FS
    if len(inside) >= 2:
        yours.append(pp.extract_beats(pp.normalize(win), inside, pp.nominal_period(inside)))
yours = np.concatenate(yours)
ecglabs, _ = data.cut_beats(rec.signal, rec.r_peaks)
print(f"record {rec.name}{synthetic_label(rec)}: yours {yours.shape}, ecglab's {ecglabs.shape}")
if yours.shape != ecglabs.shape:
    print(f"✗ they differ: yours are {count(len(yours), 'beat')} of {yours.shape[-1]} samples, ecglab's "
          f"{count(len(ecglabs), 'beat')} of {ecglabs.shape[-1]} samples. Another number of beats points to "
          "to_windows (1.1: whole windows of round(10 * fs) samples), another beat length to "
          "extract_beats (1.6: `length` samples): the first of their check cells with a ✗ is where "
          "to look.")
else:
    diff = np.abs(yours - ecglabs)
    largest = diff.max(initial=0.0)
    if largest <= 1e-6:   # ecglab's beats are float32: about 1e-7 apart from float64 ones
        print(f"✓ the same to float precision (largest difference {largest:.1e})")
    else:
        beat, sample = np.argwhere(diff > 1e-6)[0]
        n_bad = int(np.sum((diff > 1e-6).any(axis=1)))
        print(f"✗ they differ, by up to {largest:.2g}, in {n_bad:,} of {count(len(yours), 'beat')}; first "
              f"in beat {beat} at sample {sample}: yours {yours[beat, sample]:.4f}, ecglab's "
              f"{ecglabs[beat, sample]:.4f}. Look at normalize (1.2), nominal_period (1.5) and "
              "extract_beats (1.6): the first of their check cells with a ✗ is where to start.")

# %% [markdown]
# ## A surprise in the Kaggle dataset
#
# The paper describes the scheme you just wrote, and the Kaggle CSVs are said to be its output at
# 125 Hz. Rebuilding them from the raw records shows otherwise: each Kaggle MIT-BIH beat keeps every
# **third** sample of the 360 Hz record (so it is at **120 Hz**), starts at its annotation, and
# runs to 20 % of the way into the *next* R–R interval, with no windows and no median period.
# `ecglab` builds the course's MIT-BIH dataset that way (`scheme="kaggle"`, the default), which
# reproduces every Kaggle row we could check bit for bit; `scheme="paper"` gives your version.
#
# Same record, two recipes. In the first 10-s window both keep every beat, so row `i` is the same
# heartbeat in both; the cell picks the beat whose two versions end furthest apart. **What to
# look for:** both start at the R peak and agree at first (time is in seconds, so 120 and 125 Hz
# line up). They part at the end. The paper's beat stops at 1.2 T, and T, the median R–R interval
# of the window, is the same for all its beats; the Kaggle beat follows its own rhythm, through
# the next R peak and 20 % into the interval after it. Before a pause (a premature beat and the
# pause that follows it) the Kaggle beat therefore holds the next QRS complex, the paper's does
# not; after a short interval it is the other way round. Each beat is min–max normalised over
# what it holds, so the same heartbeat also comes out at another height. And the network sees
# samples, not seconds: 187 samples at 120 Hz last 1.56 s, not 1.5 s.

# %%
raw = data.load_record("208", fs=360)         # the Kaggle recipe works on the record's own 360 Hz
kaggle_style = data.mitbih_from_records([raw])                  # scheme="kaggle", the default
paper_style = data.mitbih_from_records([raw], scheme="paper")


def duration(beat, fs):
    """Seconds from the R peak to the beat's last sample before the zero padding."""
    inside = np.flatnonzero(beat)
    return (inside[-1] + 1) / fs if len(inside) else 0.0


# The window's last beat is left out: the paper clips it at the window's end, a third difference.
n_first = int(np.sum(raw.r_peaks < 10 * raw.fs)) - 1
ends = np.array([[duration(ds.X[i], ds.fs) for ds in (kaggle_style, paper_style)]
                 for i in range(n_first)])
i = int(np.argmax(np.abs(ends[:, 0] - ends[:, 1])))
fig, ax = plt.subplots(figsize=(10, 3))
for ds, end, style, color in zip((kaggle_style, paper_style), ends[i], ("-", "--"),
                                 ("tab:blue", "tab:orange")):
    ax.plot(np.arange(187) / ds.fs, ds.X[i], style, color=color,
            label=f"{ds.meta['scheme']} ({ds.fs:g} Hz): ends at {end:.2f} s")
    ax.axvline(end, color=color, ls=":", lw=1)
ax.set(xlabel="time from R peak (s)", ylabel="normalised",
       title=f"beat {i} ({raw.symbols[i]}) of record 208, cut two ways{synthetic_label(raw)}")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")   # beside: hides nothing
plt.tight_layout()
plt.show()
print(f"in the first window, the two recipes' beats end more than 0.1 s apart for "
      f"{int(np.sum(np.abs(ends[:, 0] - ends[:, 1]) > 0.1))} of {count(n_first, 'beat')}"
      f"{synthetic_label(raw)}")
if raw.source == "synthetic":
    print("These are generated beats: the generator makes premature beats and pauses, so the\n"
          "difference shows, but how often and how much the recipes disagree on patients only the\n"
          "real records tell (record 208 is full of premature ventricular beats). Fetch them (see the\n"
          "set-up cell) and run this cell again.")

# %% [markdown]
# ## The dataset: beats of every class
#
# Beats of five records chosen for their rhythms: one example of each class (as in the original
# project), then many beats of each class drawn over each other. Look at how the classes differ:
# the wide, tall ventricular beats, the early supraventricular ones, the paced beats.
# `data.load_mitbih` cuts them the Kaggle way (`scheme="kaggle"`, its default), so these beats are
# at 120 Hz, not 125: `sample.fs` says so, and the plots take it to get their time axes right.

# %%
sample = data.load_mitbih(records=["100", "119", "208", "232", "107"])
print(data.describe(sample))
print(f"beats of {sample.X.shape[1]} samples at {sample.fs:g} Hz ({sample.meta.get('scheme', 'kaggle')} "
      f"scheme): {sample.X.shape[1] / sample.fs:.2f} s each{synthetic_label(sample)}")
plots.class_examples(sample.X, sample.y, fs=sample.fs)
plt.suptitle(f"one beat of each class{synthetic_label(sample)}")
plt.tight_layout()
plt.show()
plots.class_overlays(sample.X, sample.y, fs=sample.fs)
plt.suptitle(f"beats of each class, drawn over each other{synthetic_label(sample)}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What you built, and what comes next
#
# From a raw ECG you now get labelled, equally long, normalised beats: the input of every model in
# this course. Lesson 2 builds the 1-D CNN of Kachuee et al. that classifies them.
#
# Grade the whole lesson any time with `python -m autograder check --lesson 1` (or `pytest
# autograder -m lesson1`) from the course folder.
