"""Cut beats out of an ECG signal the way the Kaggle heartbeat CSVs were made (Kachuee et al. 2018).

This is the ready-made, vectorised builder behind every beat dataset of the course. Lesson 1 has
the students write the same scheme step by step (``ecglab.preprocess``); the tests check that the
two agree. The scheme, for a signal at 125 Hz:

1. split the signal into consecutive 10-s windows (1250 samples; the remainder is dropped),
2. the nominal heartbeat period T of a window is the median R-R interval of its R peaks,
3. each beat is the ``round(1.2 * T)`` samples starting at its R peak (clipped at the window's
   end), cut to 187 samples, min-max normalised to [0, 1] and zero-padded to 187 samples.

(The paper also min-max normalises each whole window first; a per-beat min-max makes that step
irrelevant to the result, so the builder skips it.)

R peaks come from the annotations for labelled data (MIT-BIH), or from the threshold detector
:func:`detect_r_peaks` for signals without annotations (PTB).
"""

from __future__ import annotations

import numpy as np

from ..config import BEAT_LENGTH, FS

WINDOW_SECONDS = 10.0
PERIOD_FACTOR = 1.2
THRESHOLD = 0.9


def minmax_rows(x: np.ndarray) -> np.ndarray:
    """Min-max normalise each row of ``x`` to [0, 1]; constant rows become 0.

    Parameters
    ----------
    x : ndarray, shape (n, m)

    Returns
    -------
    ndarray, shape (n, m), float64
    """
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    return np.divide(x - lo, span, out=np.zeros(x.shape), where=span > 0)


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
