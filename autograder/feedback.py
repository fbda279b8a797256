"""Pictures that explain a failed case, drawn in the notebook under the check's ✓/✗ lines.

A number like "found 12 peaks, expected 13" says that something is wrong; the ECG window with both
sets of peaks on it shows where and often why. None of the comparable course tools draws its
feedback; the cases that benefit name a figure kind (``Case.figure``) and this module draws it:

``peaks``
    the input window with the expected R peaks and the student's (``find_r_peaks``);
``beats``
    the beats where the student's and the expected ones differ most (``extract_beats``);
``signal``
    the input signal cut into its 10-s windows, above the beats as for ``beats``
    (``beats_from_signal``, whose input is a whole signal and whose result may have no beats).

A drawer returns whether it drew anything; a figure with nothing in it is never shown. Nothing is
drawn when the student's call returned no value (it raised, or is not written yet): the message
says all there is to say, and a figure of the expected result alone would give the answer away.
The figure's title names the case and, where the failure message says where the input comes from
(its ``input:`` line, from ``Call.about``), that too: synthetic or real, which record, which window.
"""

from __future__ import annotations

import numpy as np

WINDOW_SECONDS = 10.0   # the windows of lesson 1 (to_windows' default)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _first_array(values):
    return next((v for v in values if isinstance(v, np.ndarray) and v.ndim == 1 and v.size > 3), None)


def _legend_outside(ax) -> None:
    """The legend to the right of the axes, where it hides no data (R peaks sit at the top)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8)


def draw_peaks(fig, figure: dict) -> bool:
    """The ECG window with the expected R peaks and the ones the student's code found."""
    window = _first_array(figure["args"])
    if window is None:
        return False
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
    _legend_outside(ax)
    return True


def _beat_rows(expected, actual, most: int = 3) -> list[int]:
    """The rows to draw: up to ``most`` beats where yours and the expected differ most (only beats
    that differ, at least one); the first ones when the two cannot be compared row by row."""
    if not isinstance(expected, np.ndarray) or expected.ndim != 2 or len(expected) == 0:
        return []
    if _comparable(expected, actual):
        diff = np.nan_to_num(np.abs(actual.astype(float) - expected), nan=1.0)
        worst = [int(r) for r in np.argsort(-diff.max(axis=1), kind="stable")[:most]]
        return [r for r in worst if diff[r].max() > 1e-6] or worst[:1]
    return list(range(min(most, len(expected))))


def _comparable(expected, actual) -> bool:
    return (isinstance(actual, np.ndarray) and actual.shape == expected.shape
            and actual.dtype.kind in "biuf")


def _beat_panels(fig, cells, rows, expected, actual) -> bool:
    """The beats ``rows`` of yours and the expected ones, one per grid cell of ``cells``."""
    if not rows:
        return False
    comparable = _comparable(expected, actual)
    if comparable:
        diff = np.nan_to_num(np.abs(actual.astype(float) - expected), nan=1.0)
    for panel, row in enumerate(rows):
        ax = fig.add_subplot(cells[panel])
        ax.plot(expected[row], color="tab:green", lw=2, label="expected")
        title = f"beat {row}"
        if comparable:
            ax.plot(actual[row], color="tab:red", lw=1, ls="--", label="yours")
            wrong = np.flatnonzero(diff[row] > 1e-6)
            if len(wrong):
                ax.plot(wrong, np.nan_to_num(actual[row][wrong].astype(float)), "o", ms=4,
                        mfc="none", mec="tab:red", label="differs")
                title += f": differs at {_plural(len(wrong), 'sample')} from {wrong[0]}"
        elif isinstance(actual, np.ndarray) and actual.ndim == 2 and row < len(actual):
            ax.plot(actual[row], color="tab:red", lw=1, ls="--", label="yours")
            title += f" (your array: {actual.shape}, expected {expected.shape})"
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="sample")
        if panel == 0:
            ax.legend(loc="upper right", fontsize=8)
    return True


def draw_beats(fig, figure: dict) -> bool:
    """The beats where yours and the expected ones differ most, with the differing samples marked.

    One panel per beat drawn (at most three), the grid as wide as the panels it holds.
    """
    expected, actual = figure["expected"], figure["actual"]
    rows = _beat_rows(expected, actual)
    if not rows:
        return False
    fig.set_size_inches(11 if len(rows) == 3 else 3.5 + 3.5 * len(rows), 3)
    grid = fig.add_gridspec(1, len(rows))
    return _beat_panels(fig, [grid[0, i] for i in range(len(rows))], rows, expected, actual)


def _shape_text(value) -> str:
    if isinstance(value, np.ndarray):
        return _plural(len(value), "beat") if value.ndim == 2 else f"an array of shape {value.shape}"
    return type(value).__name__


def draw_signal(fig, figure: dict) -> bool:
    """The input signal in its 10-s windows, and below it the beats that differ most.

    The signal panel says how many beats were expected and how many came back, which is all there
    is to see when the expected result is empty (no window with two R peaks).
    """
    signal = _first_array(figure["args"])
    if signal is None:
        return False
    args, kwargs = figure["args"], figure["kwargs"]
    fs = float(kwargs.get("fs", args[1] if len(args) > 1 else 125))
    expected, actual = figure["expected"], figure["actual"]
    rows = _beat_rows(expected, actual)
    fig.set_size_inches(11, 5.5 if rows else 3)
    grid = fig.add_gridspec(2 if rows else 1, max(1, len(rows)))
    ax = fig.add_subplot(grid[0, :])
    t = np.arange(len(signal)) / fs
    ax.plot(t, signal, color="0.3", lw=0.8)
    n_windows = int(len(signal) // round(WINDOW_SECONDS * fs))
    for w in range(1, n_windows + 1):
        ax.axvline(w * WINDOW_SECONDS, color="tab:blue", ls=":", lw=1)
    if n_windows * WINDOW_SECONDS < t[-1]:   # the remainder that to_windows drops
        ax.axvspan(n_windows * WINDOW_SECONDS, t[-1], color="0.85", zorder=0)
    ax.set(xlabel="time (s)", ylabel="amplitude",
           title=f"the signal: {_plural(n_windows, 'whole window')} of {WINDOW_SECONDS:g} s (dotted lines); "
                 f"expected {_shape_text(expected)}, yours {_shape_text(actual)}")
    ax.title.set_fontsize(9)
    if rows:
        _beat_panels(fig, [grid[1, i] for i in range(len(rows))], rows, expected, actual)
    return True


DRAWERS = {"peaks": draw_peaks, "beats": draw_beats, "signal": draw_signal}


def draw(case) -> None:
    """Show the figure of a failed case (``CaseResult``) in the notebook; silently nothing if none.

    Nothing either when the student's call gave no value (an error, not implemented): there is
    nothing of theirs to show.
    """
    figure = case.figure or {}
    drawer = DRAWERS.get(figure.get("kind"))
    if drawer is None or figure.get("actual") is None:
        return
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(11, 3))
    if not drawer(fig, figure):
        plt.close(fig)
        return
    about = input_label(getattr(case, "message", ""))
    fig.suptitle(f"✗ {case.name}" + (f"\ninput: {about}" if about else ""), fontsize=10)
    fig.tight_layout()
    plt.show()


def input_label(message: str) -> str:
    """Where the failing call's input comes from: the ``input:`` line of the failure message
    (the grader writes it from ``Call.about``), or "" when the message has none."""
    for line in (message or "").splitlines():
        if line.strip().startswith("input: "):
            return line.strip()[len("input: "):]
    return ""
