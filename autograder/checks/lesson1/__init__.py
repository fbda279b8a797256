"""Checks of lesson 1 — signal preprocessing (``ecglab/preprocess.py``, exercises 1.1-1.8).

Every case compares the student's function with the reference on the same inputs. Inputs are
seeded random arrays, hand-made edge cases, synthetic ECG and, where the data is present, real
MIT-BIH windows. Case names and hints are what students read when a case fails: the first case
that a plausible mistake fails carries a hint for it. Every ECG input says where it comes from
(``call(...).on(label)``, labels from ``ecg``): synthetic or real, which record, which window.
"""

from __future__ import annotations

import numpy as np

from ...cases import Case, arrays_close, call, same_indices, same_number, same_value
from ...grader import Context, check
from .. import ecg


@check("1.1")
def to_windows_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    close = arrays_close(atol=0, rtol=0, same_dtype=True)   # windows are the signal's own samples
    return [
        Case("a signal of exactly three windows", [call(rng.normal(size=3 * 1250), 125)], close,
             hint="one row per window, consecutive samples in a row: shape (n_windows, round(seconds * fs))"),
        Case("a remainder that must be dropped",
             [call(rng.normal(size=n), 125) for n in (1250 + 1, 4 * 1250 + 517, 2 * 1250 - 1)], close,
             hint="only whole windows are kept: len(signal) // window_length of them"),
        Case("other sampling rates and window lengths",
             [call(rng.normal(size=5000), 360), call(rng.normal(size=1000), 100, seconds=2.4),
              call(rng.normal(size=700), 360, seconds=0.7)], close,
             hint="the window length is round(seconds * fs); int() would cut 251.99999 down to 251"),
        Case("a signal shorter than one window gives 0 rows",
             [call(rng.normal(size=1000), 125), call(np.zeros(0), 125)], close,
             hint="the result still has round(seconds * fs) columns: shape (0, n)"),
        Case("float32 and integer signals keep their dtype",
             [call(rng.normal(size=2600).astype(np.float32), 125),
              call(rng.integers(-500, 500, size=2600).astype(np.int16), 125)], close,
             hint="windows are the signal's samples, rearranged: reshape it, don't convert it to float"),
        Case("ECG records", [call(rec.signal, 125).on(label) for label, rec in ecg.signals(ctx.data_dir)],
             close),
    ]


@check("1.2")
def normalize_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    close = arrays_close(atol=1e-6)
    return [
        Case("1-D signals", [call(rng.normal(loc, scale, size=n))
                             for loc, scale, n in ((0, 1, 50), (3, 10, 200), (-7, 0.01, 31))], close,
             hint="(x - min) / (max - min): the minimum goes to 0 and the maximum to 1"),
        Case("2-D: every row on its own",
             [call(rng.normal(size=(4, 30)) * np.array([[1], [10], [100], [0.1]])),
              call(rng.normal(size=(3, 7)) + np.array([[0], [50], [-50]]))], close,
             hint="take min and max along the last axis only (axis=-1, keepdims=True)"),
        # exactly 0, not "close to": memory that was never written (np.divide(..., where=...)
        # without out=) often holds tiny denormal numbers, which a tolerance would let through
        Case("a constant signal gives zeros, not NaN",
             [call(np.full(20, 3.5)), call(np.array([[5.0, 5.0, 5.0], [1.0, 2.0, 3.0]])),
              call(np.array([7.0])), call(np.full((3, 64), -2.0))], arrays_close(atol=0, rtol=0),
             hint="a row whose max equals its min has no range: give exactly 0 there instead of "
                  "dividing by 0 (np.divide(..., where=...) needs out=np.zeros_like(...), or the "
                  "skipped places hold whatever was in memory)"),
        Case("negative values", [call(-np.abs(rng.normal(size=40)) - 2)], close,
             hint="subtract the minimum, which is negative here, and divide by the range max - min"),
        Case("float32 and integer input",
             [call(rng.normal(size=64).astype(np.float32)),
              # a range wider than int16 holds: x - min overflows unless it is computed in float
              call(rng.integers(-20000, 20000, size=(2, 40)).astype(np.int16))], close,
             hint="int16 overflows when you subtract (x - min can exceed 32767); convert to float first"),
        Case("ECG windows", [call(w).on(label) for label, w, _ in ecg.windows(ctx.data_dir)], close),
    ]


@check("1.3")
def local_maxima_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    idx = same_indices()
    return [
        Case("a small example", [call(np.array([0.0, 2.0, 1.0, 3.0, 2.5, 0.0]))], idx,
             hint="return the indices i themselves (int64; not the values, not a mask): x[1:-1] and "
                  "np.diff(x) start one sample later than x, so add 1 to the positions you find there"),
        Case("flat tops: the first sample of a plateau counts",
             [call(np.array([0.0, 1.0, 1.0, 1.0, 0.0])), call(np.array([0.0, 2.0, 2.0, 1.0, 3.0, 3.0])),
              call(np.array([1.0, 1.0, 2.0, 2.0, 0.0])), call(np.array([0.0, 1.0, 1.0, 2.0, 0.0]))], idx,
             hint="x[i] > x[i-1] (strictly) and x[i] >= x[i+1] (or equal): the first sample of a flat "
                  "stretch counts, even on the way up"),
        Case("the first and last samples never count",
             [call(np.array([5.0, 1.0, 5.0])), call(np.array([3.0, 2.0, 1.0, 0.0])),
              call(np.array([0.0, 1.0, 2.0]))], idx,
             hint="only 0 < i < len(x) - 1 can be a local maximum"),
        Case("very short signals",
             [call(np.zeros(0)), call(np.array([1.0])), call(np.array([1.0, 2.0]))], idx,
             hint="fewer than 3 samples have no inner sample: return an empty int64 array, no error"),
        Case("random signals", [call(rng.normal(size=n)) for n in (10, 100, 1000)]
             + [call(rng.integers(0, 4, size=200))], idx),
        Case("ECG windows", [call(w).on(label) for label, w, _ in ecg.windows(ctx.data_dir)], idx),
    ]


@check("1.4")
def find_r_peaks_cases(ctx: Context) -> list[Case]:
    idx = same_indices()
    windows = ecg.windows(ctx.data_dir)
    (first_label, first, _), (second_label, second, _) = windows[:2]
    last_label, last, _ = windows[-1]
    return [
        Case("ECG windows at the default threshold", [call(w).on(label) for label, w, _ in windows], idx,
             hint="normalise the window first: the threshold applies to values in [0, 1]",
             figure="peaks"),
        Case("other thresholds",
             [call(first, threshold=t).on(first_label) for t in (0.5, 0.75, 0.95)]
             + [call(second, 0.3).on(second_label)], idx,
             hint="keep the peaks at or above the `threshold` argument, not a fixed 0.9", figure="peaks"),
        Case("the threshold is inclusive (>=)",
             [call(np.array([0.0, 10.0, 0.0, 9.0, 0.0, 8.0, 0.0]))], idx,
             hint="a peak whose normalised value equals the threshold is an R peak"),
        Case("a window that is not normalised yet",
             [call(first * 1000 - 300).on(f"{first_label}, times 1000, minus 300"),
              call(-last).on(f"{last_label}, upside down (negated)")], idx,
             hint="normalise inside find_r_peaks: its window may come in any units, even upside down",
             figure="peaks"),
        Case("a flat window has no peaks", [call(np.full(1250, 0.7))], idx,
             hint="a constant window normalises to zeros, which have no local maxima"),
        Case("a window with a single R peak",
             [call(np.r_[np.zeros(600), 3.0, np.zeros(649)]),
              call(np.r_[np.linspace(0, 1, 50), np.linspace(1, 0, 50)] + 0.01 * np.sin(np.arange(100)))],
             idx, hint="one R peak is a result like any other: an int64 array of one index",
             figure="peaks"),
        Case("a peak at either end is not a local maximum",
             [call(np.array([10.0, 1.0, 2.0, 1.0, 9.5])), call(np.array([1.0, 2.0, 1.0, 3.0]))], idx,
             hint="R peaks are local maxima, so never the first or last sample, however high"),
    ]


@check("1.5")
def nominal_period_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    number = same_number(atol=1e-9)
    annotated = [(label, peaks) for label, _, peaks in ecg.windows(ctx.data_dir) if len(peaks) >= 2]
    median_hint = ("T is np.median of the R-R intervals np.diff(r_peaks): not their mean (one long "
                   "pause would move it), and not the median of the peak positions themselves")
    return [
        Case("an odd number of intervals", [call(np.array([10, 110, 190, 300]))], number,
             hint=median_hint),
        Case("an even number of intervals: the median averages the middle two",
             # intervals 100, 150, 51, 119: the median 109.5 is neither the mean nor an int
             [call(np.array([0, 100, 250, 301, 420])), call(np.array([3, 10]))], number,
             hint="np.median of the R-R intervals (the mean of the middle two when their number is "
                  "even); not the mean of all of them, and not rounded to an int"),
        Case("an irregular rhythm", [call(np.cumsum(rng.integers(60, 160, size=n))) for n in (5, 12, 31)],
             number, hint=median_hint),
        Case("fewer than two peaks raise ValueError",
             [call(np.array([], dtype=np.int64)), call(np.array([42]))], number,
             hint="raise ValueError('...') when there is no R-R interval to measure"),
        Case("annotated R peaks of ECG windows",
             [call(p).on(f"the annotated R peaks of {label}") for label, p in annotated], number,
             hint=median_hint),
    ]


@check("1.6")
def extract_beats_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    close = arrays_close(atol=1e-6)
    windows = ecg.windows(ctx.data_dir)
    label, w, peaks = windows[0]

    def on_w(*args, **kwargs):
        return call(w, *args, **kwargs).on(label)

    return [
        Case("beats in the middle of a window", [on_w(peaks[1:-1], 100.0)], close,
             hint="beat = normalize(window[r : r + round(factor * period)]), from the R peak r itself, "
                  "zero-padded at its end to `length` samples", figure="beats"),
        Case("a beat clipped at the end of the window",
             [on_w(np.array([1200, 1249]), 100.0), on_w(np.array([1100]), 150.0)], close,
             hint="window[r : r + span] simply stops at the window's end; pad the rest with zeros",
             figure="beats"),
        Case("a long period: the beat is cut to `length` samples",
             [on_w(peaks[:3], 200.0), on_w(peaks[:2], 160.0)], close,
             hint="take at most `length` samples (187) before normalising", figure="beats"),
        Case("a short period: zero-padded at the end", [on_w(peaks, 50.0)], close,
             hint="the normalised segment fills the start of the row; the zeros come after it",
             figure="beats"),
        Case("round(factor * period) samples per beat",
             [on_w(peaks[:4], 109.0), on_w(peaks[:4], 104.1667)], close,
             hint="round(1.2 * 109) = 131 samples: round, don't truncate to 130", figure="beats"),
        Case("other lengths and factors",
             [on_w(peaks[:3], 90.0, length=100), on_w(peaks[:3], 90.0, factor=1.0),
              on_w(peaks[:2], 120.0, 60, 2.0)], close,
             hint="use the `length` and `factor` arguments, not 187 and 1.2", figure="beats"),
        Case("no R peaks gives an empty (0, length) array",
             [on_w(np.array([], dtype=np.int64), 100.0)], close,
             hint="np.array([]) has shape (0,): start from np.zeros((len(r_peaks), length)) and "
                  "fill its rows"),
        Case("ECG windows with their annotated R peaks",
             [call(win, p, float(np.median(np.diff(p)))).on(f"{lab} and its annotated R peaks")
              for lab, win, p in windows[1:] if len(p) >= 2]
             + [call(rng.normal(size=400), np.array([5, 150, 320]), 60.0).on(
                 "seeded random numbers, not an ECG")],
             close, figure="beats"),
    ]


@check("1.7")
def beats_from_signal_cases(ctx: Context) -> list[Case]:
    close = arrays_close(atol=1e-6)
    signals = [(label, rec.signal) for label, rec in ecg.signals(ctx.data_dir, seconds=40.0)]
    # ECGs in which the detector finds no two R peaks in any window (a paced record can be one)
    # belong with the other empty results: their failure needs the hint about (0, 187).
    n_beats = [len(ctx.reference("preprocess.beats_from_signal")(s)) for _, s in signals]
    with_beats = [call(s).on(label) for (label, s), n in zip(signals, n_beats) if n]
    without_beats = [call(s).on(label) for (label, s), n in zip(signals, n_beats) if not n]
    label, first = next((label, s) for (label, s), n in zip(signals, n_beats) if n)
    flat_middle = first.copy()
    flat_middle[1250:2500] = flat_middle[1250]
    one_spike = np.concatenate([first[:1250], np.r_[np.zeros(600), 5.0, np.zeros(649)]])
    two_spikes = np.r_[np.zeros(300), 5.0, np.zeros(499), 5.0, np.zeros(449)]   # one 10-s window
    one_spike_each = np.tile(np.r_[np.zeros(600), 5.0, np.zeros(649)], 3)
    empty_hint = ("start from np.zeros((0, 187)) so that an empty result has 187 columns: "
                  "np.concatenate([]) raises ValueError, and np.array([]) has shape (0,)")
    stacked_hint = ("for every window in turn: normalise it, find its R peaks, skip it if it has fewer "
                    "than two, else cut its beats; all of them stacked into one (n_beats, 187) numpy array")
    cases = [Case("ECG signals", with_beats[:3], close, hint=stacked_hint, figure="signal")]
    if with_beats[3:]:
        cases.append(Case("more ECG signals", with_beats[3:], close, hint=stacked_hint, figure="signal"))
    return cases + [
        Case("a window without two peaks is skipped",
             [call(flat_middle).on(f"{label}, its second 10-s window made flat"),
              call(one_spike).on(f"the first 10 s of {label}, then a hand-made window with one spike")],
             close, hint="a window with fewer than two R peaks has no period: leave it out",
             figure="signal"),
        Case("a window with exactly two R peaks gives two beats",
             [call(np.concatenate([first[:1250], two_spikes])).on(
                 f"the first 10 s of {label}, then a hand-made window with two spikes"),
              call(two_spikes).on("a hand-made 10-s window with two spikes")], close,
             hint="two R peaks make one R-R interval, enough for a period: keep the window",
             figure="signal"),
        Case("no window with two R peaks gives an empty (0, 187) array",
             [call(one_spike_each).on("hand-made: three 10-s windows of one spike each")] + without_beats,
             close, hint=empty_hint, figure="signal"),
        Case("a signal shorter than 10 s gives an empty (0, 187) array",
             [call(first[:1000]).on(f"the first 8 s of {label}"), call(first[:0])], close,
             hint="there is no whole window: " + empty_hint),
        Case("another threshold and sampling rate",
             [call(first, threshold=0.6).on(label),
              call(np.repeat(first[:2500], 2), fs=250).on(
                  f"the first 20 s of {label}, every sample twice (250 Hz)")], close,
             hint="pass `fs` on to to_windows and `threshold` on to find_r_peaks", figure="signal"),
    ]


@check("1.8")
def aami_class_cases(ctx: Context) -> list[Case]:
    value = same_value()
    groups = [("normal and bundle-branch beats (N)", "NLRej"), ("supraventricular ectopic (S)", "AaJS"),
              ("ventricular ectopic (V)", "VE"), ("fusion (F)", "F"), ("paced and unknown (Q)", "/fQ")]
    cases = [Case(f"{name}: {' '.join(symbols)}", [call(s) for s in symbols], value,
                  hint="N: N L R e j; S: A a J S; V: V E; F: F; Q: / f Q")
             for name, symbols in groups]
    not_beats = ["+", "~", "|", "!", "x", "[", "]", '"', "Z", "", "NL", "n"]
    cases.append(Case("annotations that are not beats give None", [call(s) for s in not_beats],
                      value, hint="rhythm, noise and comment annotations are not beats: return None"))
    return cases
