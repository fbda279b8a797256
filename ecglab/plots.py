"""The figures the lessons draw: ECG strips, beats, and beats per class.

Every function draws on a matplotlib ``Axes`` (a new figure when none is given) and returns it, so
lessons can combine them; nothing here calls ``plt.show()``. The figures of lesson 2 (a filter
sliding over a beat, a shape trace, parameters per layer) fill a figure of their own and return
the ``Figure``.
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


# --- lesson 2: inside a network (these return the Figure they draw) --------------------------------

_SLIDE_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:cyan")


def conv_slide_figure(beat: np.ndarray, kernel: np.ndarray, positions, padding: int | None = None,
                      bias: float = 0.0, title: str = ""):
    """One filter sliding over one beat: the beat with the kernel's window at a few ``positions``,
    the kernel's weights, the products at the first position, and the output sequence beneath.

    The output is what ``nn.Conv1d(1, 1, len(kernel), padding=padding)`` with these weights
    computes, a cross-correlation (the kernel is not flipped)::

        out[j] = bias + sum_i kernel[i] * padded[j + i]

    where ``padded`` is the beat with ``padding`` zeros at each end. With the default padding,
    ``len(kernel) // 2`` ("same" for an odd kernel), ``out`` is as long as the beat and
    ``out[j]`` is centred on sample ``j``.

    Parameters
    ----------
    beat : ndarray, shape (L,)
    kernel : ndarray, shape (k,)
    positions : sequence of int
        Output indices ``j`` to show (at most six), each in its own colour.
    padding : int, optional
        Zeros added at each end (default ``len(kernel) // 2``).
    bias : float
        Added to every output sample.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    beat = np.asarray(beat, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    k = len(kernel)
    padding = k // 2 if padding is None else int(padding)
    padded = np.pad(beat, padding)
    out = np.correlate(padded, kernel, mode="valid") + bias
    positions = [int(j) for j in positions][: len(_SLIDE_COLORS)]
    bad = [j for j in positions if not 0 <= j < len(out)]
    if bad:
        raise ValueError(f"positions {bad} outside the output's {len(out)} samples")

    fig = plt.figure(figsize=(12, 5.2))
    grid = fig.add_gridspec(2, 2, width_ratios=(4, 1), height_ratios=(1.6, 1), hspace=0.5,
                            wspace=0.25)
    ax_beat = fig.add_subplot(grid[0, 0])
    ax_out = fig.add_subplot(grid[1, 0], sharex=ax_beat)
    ax_kernel = fig.add_subplot(grid[0, 1])
    ax_products = fig.add_subplot(grid[1, 1])

    n = np.arange(len(beat))
    ax_beat.plot(n, beat, color="0.3", lw=1, label="beat")
    for j, color in zip(positions, _SLIDE_COLORS):
        under = np.arange(j - padding, j - padding + k)     # input samples under the window
        inside = (under >= 0) & (under < len(beat))
        ax_beat.axvspan(under[0] - 0.5, under[-1] + 0.5, color=color, alpha=0.18, lw=0)
        ax_beat.plot(under[inside], beat[under[inside]], "o", color=color, ms=3)
    ax_beat.set(ylabel="beat", title=f"the kernel's window at {count(len(positions), 'position')}")
    ax_beat.tick_params(labelbottom=False)

    ax_out.plot(np.arange(len(out)), out, color="0.15", lw=1)
    ax_out.axhline(0, color="0.7", lw=0.6)
    for j, color in zip(positions, _SLIDE_COLORS):
        ax_out.plot(j, out[j], "o", color=color, ms=7)
        ax_out.annotate(f"{out[j]:.2f}", (j, out[j]), textcoords="offset points", xytext=(4, 4),
                        color=color, fontsize="small")
    ax_out.margins(y=0.3)                                   # room for the values' labels
    ax_out.set(xlabel="sample", ylabel="output",
               title=f"output: {len(out)} samples (input {len(beat)}, kernel {k}, padding {padding})")

    ax_kernel.stem(np.arange(k), kernel, basefmt="0.6")
    ax_kernel.axhline(0, color="0.7", lw=0.6)
    ax_kernel.set(title=f"kernel: {count(k, 'weight')}", xlabel="tap i", xticks=np.arange(k))

    j, color = positions[0], _SLIDE_COLORS[0]
    window = padded[j: j + k]
    ax_products.bar(np.arange(k), kernel * window, color=color, alpha=0.8)
    ax_products.axhline(0, color="0.7", lw=0.6)
    ax_products.set(title=f"kernel × window at {j}: sum {out[j] - bias:.2f}", xlabel="tap i",
                    xticks=np.arange(k))
    if title:
        fig.suptitle(title)
    return fig


def shape_trace_figure(trace: list[dict], title: str = "", cmap: str = "viridis",
                       row_height: float = 0.8):
    """The activations of one beat after every layer, one row per entry of a shape trace.

    A one-channel signal (the input) is drawn as a curve; ``(channels, length)`` activations as
    a heat map (channels up, samples across); a dense layer's ``(features,)`` output as a strip.
    Only the first item of the batch is drawn. Each row has its own colour scale: its range is
    written on the right, the layer's name, type and output shape on the left.

    Parameters
    ----------
    trace : list of dict
        Rows of :func:`ecglab.architecture.shape_trace` (``name``, ``type``, ``shape``,
        ``activation``); rows without an activation are left out.
    title : str
    cmap : str
        Matplotlib colour map of the heat maps.
    row_height : float
        Inches per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    rows = [r for r in trace if r.get("activation") is not None]
    if not rows:
        raise ValueError("the trace holds no activations")
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 0.6 + row_height * len(rows)), squeeze=False)
    for ax, row in zip(axes[:, 0], rows):
        a = np.asarray(row["activation"], dtype=float)
        a = a[0] if a.ndim >= 2 else a            # the first beat of the batch
        label = f"{row['name']}  {row['type']}  {tuple(row['shape'])}"
        if a.ndim == 2 and a.shape[0] == 1:       # one channel: a curve
            ax.plot(np.arange(a.shape[1]), a[0], color="0.25", lw=1)
            ax.set_xlim(-0.5, a.shape[1] - 0.5)
        else:
            image = a if a.ndim == 2 else a.reshape(1, -1)
            ax.imshow(image, aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_yticks([])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize="x-small", length=2)
        ax.set_title(label, loc="left", fontsize="small", pad=2)
        ax.set_title(f"{a.min():.3g} … {a.max():.3g}", loc="right", fontsize="x-small", pad=2,
                     color="0.4")
    axes[-1, 0].set_xlabel("sample (or feature) index of each layer's output")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def parameter_bars(tables: dict, title: str = ""):
    """Parameters per layer as horizontal bars, one panel per model, each bar labelled with its
    count and share; frozen layers (``trainable`` False) in grey.

    Parameters
    ----------
    tables : dict of str to list of dict
        ``{model name: rows of ecglab.architecture.parameter_table}``.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    tables = dict(tables)
    height = 0.8 + 0.28 * max(len(rows) for rows in tables.values())
    fig, axes = plt.subplots(1, len(tables), figsize=(6 * len(tables), height), squeeze=False)
    for ax, (name, rows) in zip(axes[0], tables.items()):
        counts = np.array([r["parameters"] for r in rows])
        labels = [f"{r['name']} ({r['type']})" for r in rows]
        y = np.arange(len(rows))
        colors = ["tab:blue" if r.get("trainable", True) else "0.65" for r in rows]
        ax.barh(y, counts, color=colors)
        ax.set_yticks(y, labels, fontsize="small")
        ax.invert_yaxis()
        total = int(counts.sum())
        for yi, c in zip(y, counts):
            ax.annotate(f"{c:,} ({100 * c / max(total, 1):.1f} %)", (c, yi), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize="x-small")
        ax.set_xlim(0, counts.max() * 1.35 if len(counts) else 1)
        ax.set(xlabel="parameters", title=f"{name}: {total:,} parameters")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --- lesson 3: what a trained classifier gets right and wrong ---------------------------------------

def confusion(cm: np.ndarray, classes=CLASSES, ax=None, title: str = ""):
    """A confusion matrix: colour = share of each true class (row), text = the counts.

    Parameters
    ----------
    cm : ndarray, shape (n_classes, n_classes), int
        Rows true, columns predicted.
    """
    ax = _axes(ax, figsize=(4.2, 3.8))
    cm = np.asarray(cm)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(cm):
        ax.text(j, i, f"{n:,}", ha="center", va="center", fontsize=8,
                color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    return ax


def per_class_bars(values: dict, classes=CLASSES, ylabel: str = "", ax=None, title: str = "",
                   anchors: dict | None = None):
    """Grouped bars: one group per class, one bar per entry of ``values`` (``{name: [v per
    class]}``); ``anchors`` (``{label: [v per class]}``) are drawn as markers beside them."""
    ax = _axes(ax, figsize=(8, 3))
    names = list(values)
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(classes))
    for k, name in enumerate(names):
        ax.bar(x - 0.4 + width * (k + 0.5), values[name], width, label=name)
    for label, marks in (anchors or {}).items():
        ax.plot(x, marks, "k_", markersize=18, markeredgewidth=2, label=label, linestyle="none")
    ax.set_xticks(x, classes)
    ax.set(ylabel=ylabel, ylim=(0, 1.05), title=title)
    legend_above(ax)
    return ax
