"""Lesson 1 — signal preprocessing: from a raw ECG lead to fixed-length heartbeats.

Kachuee, Fazeli & Sarrafzadeh (2018) turn a continuous ECG into beats in seven steps:

1. split the signal into 10-s windows                              -> :func:`to_windows`
2. min-max normalise each window to [0, 1]                         -> :func:`normalize`
3. find all local maxima (first derivative crosses zero, + to -)   -> :func:`local_maxima`
4. keep the maxima whose normalised value is >= 0.9: the R peaks   -> :func:`find_r_peaks`
5. the median R-R interval is the nominal heartbeat period T       -> :func:`nominal_period`
6. each beat is 1.2 T samples from its R peak, padded to 187       -> :func:`extract_beats`
7. all of the above for a whole signal                             -> :func:`beats_from_signal`

and label each beat with its AAMI class (:func:`aami_class`). Signals are numpy arrays sampled at
``fs`` Hz (125 Hz in this lesson, as in the paper); indices are in samples (int64). No function
modifies its inputs.
"""

from __future__ import annotations

import numpy as np


def to_windows(signal: np.ndarray, fs: float, seconds: float = 10.0) -> np.ndarray:
    """Split a 1-D signal into consecutive, non-overlapping windows of ``seconds`` seconds.

    Exercise 1.1.

    TODO: Reshape the signal into rows of ``round(seconds * fs)`` samples each.

    APPROACH:
    1. The window length in samples is ``n = round(seconds * fs)``.
    2. Only whole windows are kept: ``len(signal) // n`` of them; the remainder is dropped.
    3. Reshape the first ``n_windows * n`` samples into ``(n_windows, n)``.

    EXAMPLE:
    >>> to_windows(np.arange(25.0), fs=1, seconds=10).shape
    (2, 10)
    >>> to_windows(np.arange(5.0), fs=1, seconds=10).shape    # too short: no window
    (0, 10)
    >>> to_windows(np.arange(25, dtype=np.int16), fs=1, seconds=10).dtype    # dtype kept
    dtype('int16')

    HINT: ``x[:k].reshape(-1, n)`` gives ``(k // n, n)`` when ``k`` is a multiple of ``n``.

    Parameters
    ----------
    signal : ndarray, shape (n_samples,)
        One ECG lead.
    fs : float
        Sampling rate in Hz.
    seconds : float
        Window length in seconds.

    Returns
    -------
    ndarray, shape (n_windows, round(seconds * fs)), same dtype as ``signal``
    """
    ### BEGIN SOLUTION
    signal = np.asarray(signal)
    n = int(round(seconds * fs))
    n_windows = len(signal) // n
    return signal[: n_windows * n].reshape(n_windows, n).copy()
    ### END SOLUTION


def normalize(x: np.ndarray) -> np.ndarray:
    """Min-max normalise to [0, 1] along the last axis.

    Exercise 1.2.

    TODO: Map each row's minimum to 0 and its maximum to 1, linearly.

    APPROACH:
    1. ``lo`` = the minimum along the last axis (keep the axis so it broadcasts).
    2. ``span`` = maximum minus minimum along the last axis.
    3. Return ``(x - lo) / span``, but 0 wherever ``span`` is 0 (a constant row has no range,
       and dividing by 0 would give NaN).

    EXAMPLE:
    >>> normalize(np.array([2.0, 4.0, 3.0]))
    array([0. , 1. , 0.5])
    >>> normalize(np.array([[1.0, 3.0], [5.0, 5.0]]))
    array([[0., 1.],
           [0., 0.]])

    HINT: ``np.divide(a, b, out=np.zeros(...), where=b > 0)`` divides only where allowed.

    Parameters
    ----------
    x : ndarray, shape (n,) or (m, n)

    Returns
    -------
    ndarray, same shape as ``x``, float, values in [0, 1]
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    return np.divide(x - lo, span, out=np.zeros_like(x), where=span > 0)
    ### END SOLUTION


def local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices where the first derivative crosses zero from positive: the local maxima.

    Exercise 1.3.

    TODO: Return every ``i`` with ``0 < i < len(x) - 1``, ``x[i] > x[i-1]`` and ``x[i] >= x[i+1]``.

    APPROACH:
    1. Compare each inner sample with its left neighbour (strictly greater) and with its right
       neighbour (greater or equal: the first sample of a flat stretch counts, on a flat top and
       also on a step on the way up).
    2. Both conditions true -> a maximum. Shift the indices by one, because the comparisons
       start at ``x[1]``.

    EXAMPLE:
    >>> local_maxima(np.array([0.0, 2.0, 1.0, 3.0, 3.0, 0.0]))    # 3.0, 3.0: a flat top
    array([1, 3])
    >>> local_maxima(np.array([0.0, 1.0, 1.0, 2.0, 0.0]))         # 1.0, 1.0: a step on the way up
    array([1, 3])

    HINT: ``x[1:-1] > x[:-2]`` compares every inner sample with its left neighbour at once.
    ``np.flatnonzero`` gives indices of the platform's integer type (int32 on some systems):
    ``.astype(np.int64)`` makes them the course's int64 everywhere.

    Parameters
    ----------
    x : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (k,), int64, increasing indices into ``x``
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    inner = x[1:-1]
    is_max = (inner > x[:-2]) & (inner >= x[2:])
    return (np.flatnonzero(is_max) + 1).astype(np.int64)
    ### END SOLUTION


def find_r_peaks(window: np.ndarray, threshold: float = 0.9) -> np.ndarray:
    """R-peak candidates: local maxima whose normalised value reaches ``threshold``.

    Exercise 1.4.

    TODO: Normalise the window, find its local maxima, keep those at or above the threshold.

    APPROACH:
    1. ``x = normalize(window)`` (exercise 1.2).
    2. ``peaks = local_maxima(x)`` (exercise 1.3).
    3. Keep the peaks with ``x[peak] >= threshold``.

    EXAMPLE:
    >>> find_r_peaks(np.array([0.0, 10.0, 2.0, 5.0, 1.0, 9.5, 0.0]))
    array([1, 5])

    HINT: Index an array with a boolean mask: ``peaks[x[peaks] >= threshold]``.

    Parameters
    ----------
    window : ndarray, shape (n,)
        One window of an ECG lead (any units: it is normalised first).
    threshold : float
        Minimum normalised amplitude of an R peak, in [0, 1].

    Returns
    -------
    ndarray, shape (k,), int64, increasing sample indices into ``window``
    """
    ### BEGIN SOLUTION
    x = normalize(window)
    peaks = local_maxima(x)
    return peaks[x[peaks] >= threshold]
    ### END SOLUTION


def nominal_period(r_peaks: np.ndarray) -> float:
    """The nominal heartbeat period T: the median R-R interval, in samples.

    Exercise 1.5.

    TODO: Take the intervals between consecutive R peaks and return their median.

    APPROACH:
    1. With fewer than two peaks there is no interval: raise ``ValueError``.
    2. ``np.diff`` gives the R-R intervals; ``np.median`` their median, as a Python float.

    EXAMPLE:
    >>> nominal_period(np.array([10, 110, 190, 300]))    # intervals 100, 80, 110
    100.0
    >>> nominal_period(np.array([0, 100, 201]))          # intervals 100, 101
    100.5

    With an even number of intervals, the median is halfway between the middle two.

    HINT: The median is robust: one missed or extra beat hardly moves it, unlike the mean.

    Parameters
    ----------
    r_peaks : ndarray, shape (k,), int
        Increasing R-peak sample indices.

    Returns
    -------
    float, samples

    Raises
    ------
    ValueError
        Fewer than two peaks.
    """
    ### BEGIN SOLUTION
    r_peaks = np.asarray(r_peaks)
    if len(r_peaks) < 2:
        raise ValueError(f"need at least two R peaks to measure a period, got {len(r_peaks)}")
    return float(np.median(np.diff(r_peaks)))
    ### END SOLUTION


def extract_beats(window: np.ndarray, r_peaks: np.ndarray, period: float, length: int = 187,
                  factor: float = 1.2) -> np.ndarray:
    """Cut one fixed-length beat per R peak.

    Exercise 1.6.

    TODO: For each R peak ``r``, take ``window[r : r + round(factor * period)]``, keep at most
    ``length`` samples, min-max normalise them, and zero-pad at the end to ``length`` samples.

    APPROACH:
    1. ``span = round(factor * period)`` samples per beat.
    2. For each peak: ``segment = window[r : r + span][:length]`` (slicing stops at the end of
       the window by itself).
    3. ``normalize(segment)`` (exercise 1.2), then write it into a row of zeros of ``length``.
    4. Stack the rows: ``(len(r_peaks), length)``; no peaks gives ``(0, length)``.

    EXAMPLE:
    >>> w = np.array([0.0, 4.0, 2.0, 0.0, 4.0, 1.0, 0.0, 0.0])
    >>> extract_beats(w, np.array([1, 4]), period=3, length=5)    # round(1.2 * 3) = 4 samples
    array([[1.  , 0.5 , 0.  , 1.  , 0.  ],
           [1.  , 0.25, 0.  , 0.  , 0.  ]])

    The first beat, ``w[1:5]``, ends on the next R peak (``w[4]``): 1.2 T reaches into the
    next beat. The second, ``w[4:8]``, is the last 4 samples of the window. Both are padded to 5.

    HINT: ``np.zeros((len(r_peaks), length))`` is already zero-padded; fill each row's start.

    Parameters
    ----------
    window : ndarray, shape (n,)
    r_peaks : ndarray, shape (k,), int
        R-peak sample indices into ``window``.
    period : float
        Nominal heartbeat period T in samples.
    length : int
        Samples per beat (187 = 1.5 s at 125 Hz).
    factor : float
        Beat length as a multiple of T.

    Returns
    -------
    ndarray, shape (k, length), float, values in [0, 1]
    """
    ### BEGIN SOLUTION
    window = np.asarray(window, dtype=np.float64)
    span = int(round(factor * period))
    beats = np.zeros((len(r_peaks), length))
    for row, r in enumerate(np.asarray(r_peaks, dtype=np.int64)):
        segment = window[r: r + span][:length]
        beats[row, : len(segment)] = normalize(segment)
    return beats
    ### END SOLUTION


def beats_from_signal(signal: np.ndarray, fs: float = 125, threshold: float = 0.9) -> np.ndarray:
    """All beats of a signal, found with the threshold detector: steps 1-6 put together.

    Exercise 1.7.

    TODO: Windows -> normalise -> R peaks -> period -> beats, for every window; stack the beats.

    APPROACH:
    1. ``to_windows(signal, fs)`` gives the 10-s windows.
    2. For each window: ``x = normalize(window)``, ``peaks = find_r_peaks(x, threshold)``.
    3. A window with fewer than two peaks has no period: skip it.
    4. ``extract_beats(x, peaks, nominal_period(peaks))`` and collect the rows.
    5. Stack everything into one array; no beats at all gives shape ``(0, 187)``.

    EXAMPLE:
    >>> ecg = np.tile(np.r_[1.0, np.zeros(99)], 30)    # 24 s at 125 Hz, an R peak every 0.8 s
    >>> beats = beats_from_signal(ecg)        # 2 whole windows (4 s dropped), 12 R peaks in each
    >>> beats.shape
    (24, 187)
    >>> beats[0, [0, 100, 119, 120]]          # T = 100: 120 samples, with the next R peak at 100
    array([1., 1., 0., 0.])

    (The spike at sample 0 is no R peak: the first sample of a window is never a local maximum.)

    HINT: Collect the per-window arrays in a list and ``np.concatenate`` them once at the end;
    ``np.concatenate`` needs at least one array, so start the list with ``np.zeros((0, 187))``.

    Parameters
    ----------
    signal : ndarray, shape (n_samples,)
        One ECG lead at ``fs`` Hz.
    fs : float
        Sampling rate in Hz.
    threshold : float
        R-peak threshold of :func:`find_r_peaks`.

    Returns
    -------
    ndarray, shape (n_beats, 187), float, values in [0, 1]
    """
    ### BEGIN SOLUTION
    beats = [np.zeros((0, 187))]
    for window in to_windows(signal, fs):
        x = normalize(window)
        peaks = find_r_peaks(x, threshold)
        if len(peaks) >= 2:
            beats.append(extract_beats(x, peaks, nominal_period(peaks)))
    return np.concatenate(beats)
    ### END SOLUTION


def aami_class(symbol: str) -> int | None:
    """The AAMI class (0..4 = N, S, V, F, Q) of a MIT-BIH beat annotation symbol.

    Exercise 1.8.

    TODO: Map the beat symbols onto the five AAMI classes; anything else is not a beat.

    APPROACH:
    1. The classes and their symbols:
       N (0): ``N L R e j``;  S (1): ``A a J S``;  V (2): ``V E``;  F (3): ``F``;  Q (4): ``/ f Q``.
    2. Return the class index of ``symbol``, or ``None`` when it is not a beat symbol
       (rhythm changes ``+``, noise ``~``, ``|``, ``!``, ``x`` ...).

    EXAMPLE:
    >>> aami_class("V"), aami_class("/"), aami_class("+")
    (2, 4, None)

    HINT: A dict from symbol to class, built once, makes this one lookup: ``table.get(symbol)``.

    Parameters
    ----------
    symbol : str
        One annotation symbol.

    Returns
    -------
    int in 0..4, or None
    """
    ### BEGIN SOLUTION
    for index, symbols in enumerate(("NLRej", "AaJS", "VE", "F", "/fQ")):
        if len(symbol) == 1 and symbol in symbols:
            return index
    return None
    ### END SOLUTION
