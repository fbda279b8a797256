"""Cut beats out of an ECG signal: the Kachuee scheme as the paper describes it, and the recipe
that actually made the Kaggle MIT-BIH CSV.

**The paper's scheme** (:func:`cut_beats`, :func:`detect_and_cut`), for a signal at 125 Hz:

1. split the signal into consecutive 10-s windows (1250 samples; the remainder is dropped),
2. the nominal heartbeat period T of a window is the median R-R interval of its R peaks,
3. each beat is the ``round(1.2 * T)`` samples starting at its R peak (clipped at the window's
   end), cut to 187 samples, min-max normalised to [0, 1] and zero-padded to 187 samples.

(The paper also min-max normalises each whole window first; a per-beat min-max makes that step
irrelevant to the result, so the builder skips it.) Lesson 1 has the students write this scheme
step by step (``ecglab.preprocess``); the tests check that both agree. It is how the Kaggle **PTB**
CSVs were made (lead ii, every 8th sample of the 1000-Hz record, R peaks from the 0.9 threshold
detector): the beats of PTB records come from here.

**The Kaggle MIT-BIH recipe** (:func:`kaggle_beats`) reproduces every row of ``mitbih_train.csv``
that we could check bit for bit (500 of 500 sample rows, all five classes). It is not the paper's
scheme: no windows, no resampling, no detector. For each annotated beat ``i`` of the record's
first signal at 360 Hz, with ``s`` the positions of *all* annotations (beats or not):

* the beat runs from ``s[i]`` to ``s[i+1] + floor(0.2 * (s[i+2] - s[i+1]))``, that is, to 20 % of
  the way into the next R-R interval (to ``s[i+1]`` when there is no ``s[i+2]``);
* every 3rd sample of it is kept (360 / 3 = **120 Hz**, not the 125 Hz the dataset is said to have),
  min-max normalised over the whole segment, then cut or zero-padded to 187 samples;
* the last annotation of a record has no next one, so the last beat of each record is left out:
  48 beats of the 109,494 annotated, hence Kaggle's 109,446.

The course's MIT-BIH datasets use the Kaggle recipe, so that a model trained on beats built here
meets the Kaggle CSVs without surprise; ``scheme="paper"`` gives the paper's version.
"""

from __future__ import annotations

import numpy as np

from ..config import BEAT_LENGTH, FS

WINDOW_SECONDS = 10.0
PERIOD_FACTOR = 1.2
THRESHOLD = 0.9
#: The Kaggle MIT-BIH recipe: keep every KAGGLE_STRIDE-th sample of the 360-Hz record (120 Hz).
KAGGLE_STRIDE = 3
#: ... and end each beat this far into the next R-R interval.
KAGGLE_EXTRA = 0.2


def minmax_rows(x: np.ndarray) -> np.ndarray:
    """Min-max normalise each row of ``x`` to [0, 1]; constant rows become 0.

    Parameters
    ----------
    x : ndarray, shape (n, m)

    Returns
    -------
    ndarray, shape (n, m), float64
    """
    span = np.ptp(x, axis=-1, keepdims=True)
    shifted = x - x.min(axis=-1, keepdims=True)
    return np.where(span > 0, shifted / np.where(span > 0, span, 1.0), 0.0)


def detect_r_peaks(window: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """R-peak candidates of one window: local maxima whose min-max normalised value is >= threshold.

    A local maximum is a sample ``i`` (0 < i < n-1) with ``x[i] > x[i-1]`` and ``x[i] >= x[i+1]``:
    where the first derivative changes sign from positive.

    Parameters
    ----------
    window : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (k,), int64 — sample indices into ``window``.
    """
    x = minmax_rows(np.asarray(window, dtype=np.float64)[None, :])[0]
    is_peak = (x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]) & (x[1:-1] >= threshold)
    return np.flatnonzero(is_peak).astype(np.int64) + 1


def cut_beats(signal: np.ndarray, r_peaks: np.ndarray, fs: float = FS,
              window_seconds: float = WINDOW_SECONDS, factor: float = PERIOD_FACTOR,
              length: int = BEAT_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Cut one beat per R peak, following the scheme in the module docstring.

    Parameters
    ----------
    signal : ndarray, shape (n_samples,)
        One ECG lead at ``fs`` Hz (125 Hz for the course's datasets).
    r_peaks : ndarray, shape (n_peaks,), int
        R-peak sample indices into ``signal``, sorted.
    fs, window_seconds, factor, length
        Sampling rate (Hz), window length (s), beat length as a multiple of T, samples per beat.

    Returns
    -------
    beats : ndarray, shape (n_beats, length), float32, values in [0, 1]
    kept : ndarray, shape (n_beats,), int64
        Index into ``r_peaks`` of each beat. Peaks in the dropped remainder, or in a window with
        fewer than two peaks (no R-R interval, so no period), give no beat.
    """
    signal = np.asarray(signal, dtype=np.float64)
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    win = int(round(window_seconds * fs))
    n_windows = len(signal) // win
    windows = signal[: n_windows * win].reshape(n_windows, win)

    in_range = (r_peaks >= 0) & (r_peaks < n_windows * win)
    peak_index = np.flatnonzero(in_range)
    window_of = r_peaks[peak_index] // win

    # Nominal period per window: the median R-R interval of the peaks inside it.
    period = np.full(n_windows, np.nan)
    bounds = np.searchsorted(window_of, np.arange(n_windows + 1))
    for w in np.flatnonzero(np.diff(bounds) >= 2):
        period[w] = np.median(np.diff(r_peaks[peak_index[bounds[w]: bounds[w + 1]]]))
    has_period = ~np.isnan(period[window_of])
    peak_index, window_of = peak_index[has_period], window_of[has_period]

    start = r_peaks[peak_index] - window_of * win  # position inside the window
    span = np.rint(factor * period[window_of]).astype(np.int64)
    n_valid = np.minimum(np.minimum(span, win - start), length)  # clipped at window end, cut to length

    offsets = np.arange(length)
    valid = offsets[None, :] < n_valid[:, None]
    samples = windows[window_of[:, None], np.minimum(start[:, None] + offsets, win - 1)]
    lo = np.where(valid, samples, np.inf).min(axis=1, keepdims=True)
    hi = np.where(valid, samples, -np.inf).max(axis=1, keepdims=True)
    scale = hi - lo
    beats = np.divide(samples - lo, scale, out=np.zeros(samples.shape), where=valid & (scale > 0))
    return beats.astype(np.float32), peak_index


def detect_and_cut(signal: np.ndarray, fs: float = FS, threshold: float = THRESHOLD,
                   window_seconds: float = WINDOW_SECONDS, length: int = BEAT_LENGTH) -> np.ndarray:
    """Beats of an unannotated signal: the threshold detector in every window, then :func:`cut_beats`.

    Returns
    -------
    ndarray, shape (n_beats, length), float32
    """
    signal = np.asarray(signal, dtype=np.float64)
    win = int(round(window_seconds * fs))
    peaks = [w * win + detect_r_peaks(signal[w * win:(w + 1) * win], threshold)
             for w in range(len(signal) // win)]
    r_peaks = np.concatenate(peaks) if peaks else np.zeros(0, dtype=np.int64)
    beats, _ = cut_beats(signal, r_peaks, fs=fs, window_seconds=window_seconds, length=length)
    return beats


def kaggle_beats(signal: np.ndarray, ann_samples: np.ndarray, beat_index: np.ndarray,
                 stride: int = KAGGLE_STRIDE, extra: float = KAGGLE_EXTRA,
                 length: int = BEAT_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Beats cut by the recipe of the Kaggle MIT-BIH CSV (see the module docstring).

    Parameters
    ----------
    signal : ndarray, shape (n_samples,)
        The record's first signal at its own rate (360 Hz for MIT-BIH), not resampled.
    ann_samples : ndarray, shape (n_annotations,), int
        Positions of all annotations, beats and others, increasing.
    beat_index : ndarray, shape (n_beats,), int
        Which of them are beats (indices into ``ann_samples``).
    stride : int
        Keep every ``stride``-th sample from the R peak on (3: 360 -> 120 Hz).
    extra : float
        How far into the next R-R interval the beat ends.

    Returns
    -------
    beats : ndarray, shape (n, length), float32, values in [0, 1]
    kept : ndarray, shape (n,), int64
        The entries of ``beat_index`` that gave a beat (all but a beat whose annotation is the
        record's last).
    """
    signal = np.asarray(signal, dtype=np.float64)
    s = np.asarray(ann_samples, dtype=np.int64)
    beat_index = np.asarray(beat_index, dtype=np.int64)
    kept = beat_index[beat_index + 1 < len(s)]
    start, following = s[kept], s[kept + 1]
    after = s[np.minimum(kept + 2, len(s) - 1)]
    # int(0.2 * interval) as a float product, exactly as the CSVs were made.
    reach = np.where(kept + 2 < len(s), np.floor(extra * (after - following)).astype(np.int64), 0)
    end = np.minimum(following + reach, len(signal))
    n = np.maximum(-(-(end - start) // stride), 1)    # samples kept per beat: ceil(span / stride)

    # All beats' samples in one flat array; beat j owns positions first[j] : first[j] + n[j].
    owner = np.repeat(np.arange(len(kept)), n)
    first = np.cumsum(n) - n
    step = np.arange(n.sum()) - first[owner]
    values = signal[np.minimum(start[owner] + stride * step, len(signal) - 1)]
    lo = np.minimum.reduceat(values, first) if len(kept) else np.zeros(0)
    hi = np.maximum.reduceat(values, first) if len(kept) else np.zeros(0)
    span = hi - lo
    scaled = np.where(span[owner] > 0, (values - lo[owner]) / np.where(span > 0, span, 1.0)[owner], 0.0)

    beats = np.zeros((len(kept), length), dtype=np.float32)
    inside = step < length
    beats[owner[inside], step[inside]] = scaled[inside]
    return beats, kept
