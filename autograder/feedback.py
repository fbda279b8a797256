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
    """The beats where yours and the expected ones differ most, with the differing samples marked."""
    expected, actual = figure["expected"], figure["actual"]
    if not isinstance(expected, np.ndarray) or expected.ndim != 2 or len(expected) == 0:
        return
    comparable = (isinstance(actual, np.ndarray) and actual.shape == expected.shape
                  and actual.dtype.kind in "biuf")
    if comparable:
        diff = np.nan_to_num(np.abs(actual.astype(float) - expected), nan=1.0)
        rows = [int(r) for r in np.argsort(-diff.max(axis=1), kind="stable")[:3]]
    else:
        rows = list(range(min(3, len(expected))))
    for panel, row in enumerate(rows):
        ax = fig.add_subplot(1, len(rows), panel + 1)
        ax.plot(expected[row], color="tab:green", lw=2, label="expected")
        title = f"beat {row}"
        if comparable:
            ax.plot(actual[row], color="tab:red", lw=1, ls="--", label="yours")
            wrong = np.flatnonzero(diff[row] > 1e-6)
            if len(wrong):
                ax.plot(wrong, np.nan_to_num(actual[row][wrong].astype(float)), "o", ms=4,
                        mfc="none", mec="tab:red", label="differs")
                title += f": differs at {len(wrong)} sample(s) from {wrong[0]}"
        elif isinstance(actual, np.ndarray) and actual.ndim == 2 and row < len(actual):
            ax.plot(actual[row], color="tab:red", lw=1, ls="--", label="yours")
            title += f" (your array: {actual.shape}, expected {expected.shape})"
        ax.set(title=title, xlabel="sample")
        if panel == 0:
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
