"""Pictures that explain a failed case, drawn in the notebook under the check's ✓/✗ lines.

A number like "found 12 peaks, expected 13" says that something is wrong; the ECG window with both
sets of peaks on it shows where and often why. None of the comparable course tools draws its
feedback; the cases that benefit name a figure kind (``Case.figure``) and this module draws it.
"""

from __future__ import annotations

import numpy as np


def _first_array(values):
    return next((v for v in values if isinstance(v, np.ndarray) and v.ndim == 1 and v.size > 3), None)


def draw_peaks(fig, figure: dict) -> None:
    """The ECG window with the expected R peaks and the ones the student's code found."""
    window = _first_array(figure["args"])
    if window is None:
        return
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(window, color="0.3", lw=1, label="input window")
    expected = np.asarray(figure["expected"], dtype=int) if isinstance(figure["expected"], np.ndarray) else []
    ax.plot(expected, window[expected], "o", mfc="none", mec="tab:green", ms=11, mew=2,
            label=f"expected ({len(expected)})")
    actual = figure["actual"]
    if isinstance(actual, np.ndarray) and actual.dtype.kind in "iu" and actual.ndim == 1:
        inside = actual[(actual >= 0) & (actual < len(window))]
        ax.plot(inside, window[inside], "x", color="tab:red", ms=9, mew=2,
                label=f"yours ({len(actual)})")
    ax.set(xlabel="sample", ylabel="amplitude", title="R peaks: expected vs. yours")
    ax.legend(loc="upper right")


def draw_beats(fig, figure: dict) -> None:
    """The first beats as expected and as the student's code cut them, one panel per beat."""
    expected, actual = figure["expected"], figure["actual"]
    if not isinstance(expected, np.ndarray) or expected.ndim != 2 or len(expected) == 0:
        return
    n = min(3, len(expected))
    for i in range(n):
        ax = fig.add_subplot(1, n, i + 1)
        ax.plot(expected[i], color="tab:green", lw=2, label="expected")
        if isinstance(actual, np.ndarray) and actual.ndim == 2 and i < len(actual):
            ax.plot(actual[i], color="tab:red", lw=1, ls="--", label="yours")
        ax.set(title=f"beat {i}", xlabel="sample")
        if i == 0:
            ax.legend(loc="upper right")


DRAWERS = {"peaks": draw_peaks, "beats": draw_beats}


def draw(case) -> None:
    """Show the figure of a failed case (``CaseResult``) in the notebook; silently nothing if none."""
    figure = case.figure or {}
    drawer = DRAWERS.get(figure.get("kind"))
    if drawer is None:
        return
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(11, 3))
    drawer(fig, figure)
    fig.suptitle(f"✗ {case.name}", fontsize=10)
    fig.tight_layout()
    plt.show()
