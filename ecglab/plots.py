"""The figures the lessons draw: ECG strips, beats, and beats per class.

Every function draws on a matplotlib ``Axes`` (a new figure when none is given) and returns it, so
lessons can combine them; nothing here calls ``plt.show()``.
"""

from __future__ import annotations

import numpy as np

from .data.aami import CLASSES, CLASS_NAMES

CLASS_COLORS = ("tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:green")


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` with its noun in the right number: ``count(1, "beat")`` is "1 beat", ``count(1061,
    "beat")`` "1,061 beats" (``plural`` for irregular nouns: ``count(2, "maximum", "maxima")``)."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _axes(ax, figsize=(12, 3)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=figsize)[1]


def legend_above(ax) -> None:
    """The legend in one row above the axes, on the right.

    R peaks are the highest points of an ECG strip, and a legend inside the axes (matplotlib's
    "best" included) ends up over some of them. Give the axes a title on the left
    (``ax.set_title(..., loc="left")``) so that the two do not meet.
    """
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(labels),
              frameon=False, fontsize="small", borderaxespad=0.2)


def ecg(signal: np.ndarray, fs: float, peaks: np.ndarray | None = None, ax=None,
        title: str = "", label: str = "ECG", peak_label: str = "R peaks", ylabel: str = "mV",
        start: float = 0.0, **peak_style):
    """An ECG strip against time in seconds, with optional markers at ``peaks`` (sample indices).

    Parameters
    ----------
    signal : ndarray, shape (n,)
    fs : float
        Sampling rate in Hz.
    peaks : ndarray of int, optional
        Samples to mark; their legend goes above the axes (see :func:`legend_above`).
    start : float
        Time of the first sample, in seconds.
    """
    ax = _axes(ax)
    t = start + np.arange(len(signal)) / fs
    ax.plot(t, signal, color="0.25", lw=0.9, label=label)
    if peaks is not None and len(peaks):
        peaks = np.asarray(peaks, dtype=int)
        style = {"marker": "o", "ls": "none", "mfc": "none", "mec": "tab:red", "ms": 8, "mew": 1.5}
        style.update(peak_style)
        ax.plot(t[peaks], signal[peaks], label=f"{peak_label} ({len(peaks)})", **style)
        legend_above(ax)
    ax.set(xlabel="time (s)", ylabel=ylabel)
    ax.set_title(title, loc="left" if ax.get_legend() else "center")
    return ax


def beats(X: np.ndarray, ax=None, title: str = "", color: str = "tab:blue", alpha: float = 0.3,
          fs: float = 125.0, max_beats: int = 200):
    """Beats drawn over each other (the first ``max_beats`` of them), time in seconds from the R peak.

    Without a ``title``, the title says how many beats there are and, when not all of them are
    drawn, how many are; with one, give that number yourself (``min(len(X), max_beats)``).

    Parameters
    ----------
    X : ndarray, shape (n_beats, length)
    """
    ax = _axes(ax, figsize=(5, 3))
    n = len(X)
    X = np.asarray(X)[:max_beats]
    t = np.arange(X.shape[1]) / fs if X.ndim == 2 else np.arange(0)
    for row in X:
        ax.plot(t, row, color=color, alpha=alpha, lw=0.8)
    default = count(n, "beat") + (f" ({len(X):,} drawn)" if len(X) < n else "")
    ax.set(xlabel="time from R peak (s)", ylabel="normalised", title=title or default)
    return ax


def class_examples(X: np.ndarray, y: np.ndarray, classes=CLASSES, names=CLASS_NAMES, axes=None,
                   fs: float = 125.0):
    """One example beat of every class, each in its own panel, titled with its label."""
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, len(classes), figsize=(3 * len(classes), 2.6), sharey=True)
    for k, ax in enumerate(np.atleast_1d(axes)):
        members = np.flatnonzero(np.asarray(y) == k)
        if len(members):
            ax.plot(np.arange(X.shape[1]) / fs, X[members[0]], color=CLASS_COLORS[k % 5])
        ax.set(title=f"{k} = {classes[k]}: {names[k]}" if len(members) else f"{classes[k]}: none",
               xlabel="time (s)")
    return axes


def class_overlays(X: np.ndarray, y: np.ndarray, classes=CLASSES, per_class: int = 60, axes=None,
                   seed: int = 0, fs: float = 125.0):
    """Up to ``per_class`` random beats of every class drawn over each other, one panel per class;
    each panel's title says how many are drawn of how many ("N (60 of 5,763 beats)")."""
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(seed)
    if axes is None:
        _, axes = plt.subplots(1, len(classes), figsize=(3 * len(classes), 2.6), sharey=True)
    for k, ax in enumerate(np.atleast_1d(axes)):
        members = np.flatnonzero(np.asarray(y) == k)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        drawn = (f"{len(chosen):,} of {count(len(members), 'beat')}" if len(chosen) < len(members)
                 else count(len(members), "beat"))
        beats(X[np.sort(chosen)], ax=ax, color=CLASS_COLORS[k % 5], alpha=0.15, fs=fs,
              title=f"{classes[k]} ({drawn})")
    return axes
