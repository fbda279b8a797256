"""Lesson 5 — the ready-made explorers: a trained network's layers, opened up with a few controls.

Three figures, each a pure function of arrays (headless, no pyplot: a ``matplotlib.figure.Figure``
that no global figure list knows about, so ``plt.get_fignums()`` never grows; show one as a
cell's value or with ``display(fig)`` — ``plt.show()`` does not know it):

* :func:`activation_figure`   one beat and one layer's activations: every channel as a heat map
                              in time under the beat, one channel as a curve, and the receptive
                              field of that channel's strongest step shaded on the beat
* :func:`attribution_figure`  one beat per class with its saliency and Grad-CAM
* :func:`gallery_figure`      the beats that excite one channel most, coloured by class

and three explorers that wire them to core ipywidgets (``Dropdown``, ``IntSlider``,
``ToggleButtons``, ``Button``, ``Output``, ``HBox``/``VBox``; ipywidgets 7.7.1, Colab's, and 8):
:func:`activation_explorer`, :func:`attribution_explorer`, :func:`channel_gallery`. The lesson
passes in the functions to draw with (``capture=``, ``saliency=`` ...): the student's exercises
of :mod:`ecglab.interpret` or the reference's.

Every explorer is an :class:`Explorer`. A control change redraws into its ``Output``: the
Output's ``outputs`` are replaced, in one assignment, by the new figure as one PNG (rendered here,
so it does not depend on the matplotlib backend or on ``%matplotlib inline``), and nothing else
stays open. The kernel sets the outputs itself rather than capturing them with ``with output:``:
a captured output makes a front end send the widget's state back while a cell runs, which
nbclient (nbconvert, nbgrader) does on the channel where it waits for the cell's reply, and now
and then that wait never ends (jupyter/nbclient#312); one assignment also never shows an empty
Output between two figures. An exception in a callback becomes one line in the Output ("✗ capture_activations raised
ValueError: ..."); the next control change draws again.

Without a widget front end (nbconvert HTML, GitHub, CI logs) an explorer still shows its figure:
its display is ONE output whose bundle holds the widget view *and* a PNG of the current figure
(``image/png``). A front end with widgets shows the widget view (it ranks that mimetype first);
everything else falls back to the PNG (nbconvert does so whenever the widget state is not saved;
with it saved, the Output's saved content is the last figure too). A redraw
started by code in a cell (``explorer.controls["layer"].value = "features.3"``, as an executed
notebook does) also updates that PNG, so the executed notebook shows the explorer's last figure;
a redraw started by a person moving a control (a comm message) leaves the display alone, so the
widget is never re-rendered under the mouse.

Numbers and figures from the synthetic ECG generator must say so: give ``source="synthetic ECG"``
and every figure's title carries it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import sys
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from .data.aami import CLASSES
from .architecture import layer_names
from .plots import CLASS_COLORS, count

BEAT_LENGTH = 187   # samples per beat (1.5 s at 125 Hz, 1.56 s at 120 Hz)
DPI = 80            # small PNGs that draw fast; the figures are sized for it
_CACHE = 64         # beats (or example sets) kept per explorer


class CallbackError(RuntimeError):
    """A function handed to an explorer (``capture``, ``saliency`` ...) raised or returned
    something unusable; the message is the one line the explorer shows."""


# --- helpers -----------------------------------------------------------------------------------

def _numpy(a) -> np.ndarray:
    """An array or tensor as a numpy array (a tensor detached and on the CPU)."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _blamed(fn: Callable, name: str | None = None) -> Callable:
    """``fn``, whose exceptions become a :class:`CallbackError` that names it."""
    name = name or getattr(fn, "__name__", None) or type(fn).__name__

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise CallbackError(f"{name} raised {type(exc).__name__}: {_first_line(exc)}") from exc

    call.blame = name
    return call


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, CallbackError):
        return f"✗ {_first_line(exc)}"
    return f"✗ drawing the figure raised {type(exc).__name__}: {_first_line(exc)}"


def _titled(text: str, source: str) -> str:
    return f"{text} ({source})" if source else text


def _name(class_names, k: int) -> str:
    k = int(k)
    return str(class_names[k]) if 0 <= k < len(class_names) else str(k)


def _color(k: int) -> str:
    return CLASS_COLORS[int(k) % len(CLASS_COLORS)]


class ExplorerFigure(Figure):
    """A matplotlib ``Figure`` made without pyplot, so nothing is left open and nothing leaks;
    it shows itself as a PNG (``_repr_png_``) as a cell's value or through ``display(fig)``, with
    any backend. ``plt.show()`` does not know it."""

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def _figure(figsize) -> ExplorerFigure:
    return ExplorerFigure(figsize=figsize, dpi=DPI)


def _title(ax, text: str, **kwargs) -> None:
    # a fixed position (y=1): matplotlib's automatic title placement measures every tick label
    # of the axes, which costs more than the rest of the drawing
    ax.set_title(text, y=1.0, **kwargs)


def _sparse_ticks(ax, x=None, y: int = 3) -> None:
    """Few ticks (each tick is a costly artist): ``x`` fixed positions, at most ``y`` on y."""
    from matplotlib.ticker import FixedLocator, MaxNLocator
    if x is not None:
        ax.xaxis.set_major_locator(FixedLocator(x))
    ax.yaxis.set_major_locator(MaxNLocator(y))
    ax.tick_params(labelsize="small")


def _beat_ticks(n: int) -> list[int]:
    return list(range(0, n, 50))


def figure_png(fig) -> bytes:
    """The figure as PNG bytes at its own dpi, as the inline backend would send it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, facecolor="white")
    return buffer.getvalue()


def _beats(X, name: str = "X") -> np.ndarray:
    """Beats as a float32 array of shape ``(N, L)`` (a ``(N, 1, L)`` batch is accepted)."""
    X = _numpy(X).astype(np.float32, copy=False)
    if X.ndim == 3 and X.shape[1] == 1:
        X = X[:, 0]
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{name}: expected beats of shape (N, {BEAT_LENGTH}), got {X.shape}")
    return X


def _labels(y, n: int, name: str = "y") -> np.ndarray:
    y = _numpy(y).reshape(-1)
    if len(y) != n:
        raise ValueError(f"{name}: expected {n} labels (one per beat), got {len(y)}")
    return y.astype(np.int64)


def step_positions(model, length: int = BEAT_LENGTH) -> dict[str, tuple[float, float, int]]:
    """Where the output steps of each layer of ``model.features`` sit on the input beat.

    ``{name: (first, jump, steps)}``: step ``t`` of the layer is centred on input sample
    ``first + t * jump``, and the layer has ``steps`` steps for an input of ``length`` samples.
    Walked like the receptive field (kernel ``k``, stride ``s``, dilation ``d``, padding ``p`` of
    every ``Conv1d``/``MaxPool1d``/``AvgPool1d``, in the order of ``children()``)::

        first += ((k - 1) * d / 2 - p) * jump
        jump *= s
        steps = (steps + 2 * p - d * (k - 1) - 1) // s + 1

    For KachueeNet: ``features.0`` (0, 1, 187), ``features.1`` (2, 2, 92) ... ``features.5``
    (62, 32, 2): the pools without padding pull the deep steps towards the middle of the beat.
    """

    def first(value):
        return value[0] if isinstance(value, (tuple, list)) else value

    def walk(module, start, jump, steps):
        if hasattr(module, "kernel_size") and hasattr(module, "stride") and \
                type(module).__name__ in ("Conv1d", "MaxPool1d", "AvgPool1d"):
            k, s = first(module.kernel_size), first(module.stride) or first(module.kernel_size)
            d, p = first(getattr(module, "dilation", 1)), first(module.padding)
            if p == "same":
                return start, jump, steps
            p = 0 if p == "valid" else int(p)
            span = d * (k - 1)
            extra = s - 1 if getattr(module, "ceil_mode", False) else 0
            steps = (steps + 2 * p - span - 1 + extra) // s + 1
            return start + (span / 2 - p) * jump, jump * s, steps
        for part in module.children():
            start, jump, steps = walk(part, start, jump, steps)
        return start, jump, steps

    positions, state = {}, (0.0, 1.0, int(length))
    for name, layer in model.features.named_children():
        state = walk(layer, *state)
        positions[f"features.{name}"] = state
    return positions


def _png_bundle(png: bytes, text: str) -> dict:
    return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text}


def _stream(text: str) -> dict:
    """An Output widget's output entry for one line of text (as ``print`` would make it)."""
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


def _widget_view(widget) -> dict:
    """The display bundle of a widget: ipywidgets 8 has ``_repr_mimebundle_``, 7.x only
    ``_ipython_display_`` (protocol 2.0 in both)."""
    if hasattr(widget, "_repr_mimebundle_"):
        bundle = widget._repr_mimebundle_()
        if bundle:
            return dict(bundle)
    return {"text/plain": repr(widget)[:110],
            "application/vnd.jupyter.widget-view+json":
                {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}}


def _running_a_cell() -> bool:
    """Whether the kernel is executing a cell now (not answering a widget's comm message)."""
    try:
        from IPython import get_ipython
        kernel = get_ipython().kernel
        parent = kernel.get_parent() if hasattr(kernel, "get_parent") else kernel._parent_header
        return parent["header"]["msg_type"] == "execute_request"
    except Exception:
        return False


@contextlib.contextmanager
def _one_torch_thread():
    """Torch in one thread while an explorer computes, then as it was. The work is small (one
    beat, five examples, one layer of a few hundred beats): on a 2-core machine that is busy
    with anything else, two threads can take ten times longer than one."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _predict(model, X: np.ndarray) -> np.ndarray:
    """Logits of ``X`` ``(N, L)``, shape ``(N, classes)``; the model's train/eval modes are put
    back afterwards."""
    import torch
    modes = [(m, m.training) for m in model.modules()]
    p = next(model.parameters())
    try:
        model.eval()
        with torch.inference_mode():
            out = model(torch.as_tensor(X[:, None, :], dtype=p.dtype, device=p.device))
    finally:
        for module, training in modes:
            module.training = training
    return _numpy(out).reshape(len(X), -1)


class _Cache(OrderedDict):
    """The ``size`` most recently used entries."""

    def __init__(self, size: int = _CACHE):
        super().__init__()
        self.size = size

    def get_or(self, key, make: Callable):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        while len(self) > self.size:
            self.popitem(last=False)
        return value


# --- the figures -------------------------------------------------------------------------------

def activation_figure(beat, activations: dict, layer: str, channel: int, fields: dict | None = None,
                      label: str = "", source: str = "", *, positions: dict | None = None,
                      into=None):
    """One beat and the activations of one layer for it.

    Top: the input beat. Beneath, for a convolutional layer (activations of shape ``(C, L)``):
    all ``C`` channels as a heat map (channels down, time across, on the beat's time axis), the
    chosen channel outlined; under it that channel as a curve, its strongest step marked. For a
    dense layer (``(units,)``): the units as bars, the chosen one in red.

    Alignment: step ``t`` of a layer of ``L`` steps is centred on input sample ``first + t *
    jump``. With ``positions`` (from :func:`step_positions`, the model's true geometry) those are
    exact; without, or when the length does not match, ``jump = len(beat) / L`` and ``first =
    jump / 2 - 0.5`` (the ``L`` steps spread evenly over the beat). Each heat-map cell is ``jump``
    samples wide around its centre. With ``fields`` (``{layer: receptive field in samples}``, from
    ``interpret.receptive_fields``) the samples the strongest step sees — ``fields[layer]`` samples
    centred on it, cut to the beat — are shaded on the beat.

    Parameters
    ----------
    beat : array, shape (187,)
        One beat (normalised to [0, 1]).
    activations : dict
        ``{layer name: activations of this ONE beat}``: ``(C, L)`` for a convolutional layer,
        ``(units,)`` for a dense one (arrays or tensors; a leading batch axis of 1 is dropped).
    layer : str
        Which entry to draw.
    channel : int
        The channel (or unit) to follow, ``0 .. C-1``.
    fields : dict, optional
        Receptive fields in input samples.
    label : str
        What the beat is (e.g. "beat 3 of 80 V beats, predicted V"); the beat's title.
    source : str
        Where the beat comes from (e.g. "synthetic ECG"); in the figure's title.
    positions : dict, optional
        ``{layer: (first, jump, steps)}``.
    into : Figure or list of Figure, optional
        Figures this function drew before: one whose layout fits (same kind of layer, as many
        channels and steps) is redrawn in place and returned — no new axes, ticks or artists,
        which is what makes an explorer's redraw fast; when none fits, a new figure is made.

    Returns
    -------
    matplotlib.figure.Figure
        Conv layer: 3 axes (beat, heat map, channel curve); dense layer: 2 axes (beat, bars).
    """
    beat = _numpy(beat).astype(float)
    if beat.ndim == 2 and beat.shape[0] == 1:
        beat = beat[0]
    if beat.ndim != 1:
        raise ValueError(f"beat: expected one beat of shape ({BEAT_LENGTH},), got {beat.shape}")
    if layer not in activations:
        raise ValueError(f"layer {layer!r} is not in activations (it holds {list(activations)})")
    a = _numpy(activations[layer]).astype(float)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]                                # (1, C, L): a batch of one beat
    if a.ndim not in (1, 2):
        raise ValueError(f"activations[{layer!r}]: expected (channels, steps) or (units,) of one "
                         f"beat, got shape {a.shape}")
    if not 0 <= int(channel) < a.shape[0]:
        raise ValueError(f"channel must lie in 0..{a.shape[0] - 1} for {layer}, got {channel}")
    channel = int(channel)

    key = ("activation", len(beat)) + a.shape
    drawn = [into] if into is not None and not isinstance(into, (list, tuple)) else (into or [])
    state = next((f._ecglab_state for f in drawn
                  if getattr(f, "_ecglab_state", {}).get("key") == key), None)
    if state is None:
        state = (_build_dense if a.ndim == 1 else _build_conv)(key)
    fig = state["figure"]
    beat_title = label or "the input beat"
    state["beat"].set_ydata(beat)
    state["ax_beat"].set_ylim(*_padded(beat.min(), beat.max()))
    if a.ndim == 1:
        _fill_dense(state, a, layer, channel)
    else:
        beat_title = _fill_conv(state, a, len(beat), layer, channel, fields, positions, beat_title)
    _title(state["ax_beat"], beat_title, loc="left", fontsize="medium")
    fig.suptitle(_titled(f"{layer}, {'unit' if a.ndim == 1 else 'channel'} {channel}", source))
    return fig


def _padded(low: float, high: float, margin: float = 0.05) -> tuple[float, float]:
    """Axis limits with matplotlib's default 5 % margins."""
    pad = margin * (high - low) if high > low else 0.5
    return low - pad, high + pad


def _build_conv(key) -> dict:
    """The axes and artists of a conv-layer activation figure, filled by :func:`_fill_conv`."""
    from matplotlib.ticker import FixedLocator
    _, n, n_channels, steps = key
    fig = _figure((8.6, 5.4))
    grid = fig.add_gridspec(3, 1, height_ratios=(1.1, 1.4, 0.9), hspace=0.5, left=0.08,
                            right=0.98, top=0.88, bottom=0.09)
    ax_beat, ax_map, ax_curve = (fig.add_subplot(grid[i]) for i in range(3))
    (beat,) = ax_beat.plot(np.arange(n), np.zeros(n), color="0.2", lw=1)
    ax_beat.set_ylabel("beat")
    image = ax_map.imshow(np.zeros((n_channels, steps)), aspect="auto", cmap="viridis",
                          interpolation="nearest")
    ax_map.set_ylabel("channel")
    (curve,) = ax_curve.plot(np.zeros(steps), np.zeros(steps), "-o" if steps <= 60 else "-",
                             color="tab:red", lw=1, ms=3)
    (star,) = ax_curve.plot([0], [0], "*", color="k", ms=10)
    ax_curve.set_xlabel("sample of the input beat")
    # one time axis for all three (same limits, same width); the ticks, labelled once, at the
    # bottom: every tick is a costly artist
    _sparse_ticks(ax_curve, x=_beat_ticks(n))
    _sparse_ticks(ax_beat, x=[])
    _sparse_ticks(ax_map, x=[])
    ax_map.yaxis.set_major_locator(FixedLocator(sorted({0, n_channels // 2, n_channels - 1})))
    for ax in (ax_beat, ax_map, ax_curve):
        ax.set_xlim(-0.5, n - 0.5)
    state = {"key": key, "figure": fig, "ax_beat": ax_beat, "ax_map": ax_map,
             "ax_curve": ax_curve, "beat": beat, "image": image, "curve": curve, "star": star,
             "shade": None, "outline": None}
    fig._ecglab_state = state
    return state


def _fill_conv(state, a, n, layer, channel, fields, positions, beat_title) -> str:
    n_channels, steps = a.shape
    start, jump = n / steps / 2 - 0.5, n / steps
    if positions and layer in positions and int(positions[layer][2]) == steps:
        start, jump = float(positions[layer][0]), float(positions[layer][1])
    centres = start + jump * np.arange(steps)
    ax_beat, ax_map, ax_curve = state["ax_beat"], state["ax_map"], state["ax_curve"]
    for name in ("shade", "outline"):   # two spans, made anew (cheap) rather than moved
        if state[name] is not None:
            state[name].remove()
            state[name] = None

    image = state["image"]
    image.set_data(a)
    image.set_clim(a.min(), a.max())
    image.set_extent((centres[0] - jump / 2, centres[-1] + jump / 2, n_channels - 0.5, -0.5))
    ax_map.set_xlim(-0.5, n - 0.5)
    ax_map.set_ylim(n_channels - 0.5, -0.5)
    state["outline"] = ax_map.axhspan(channel - 0.5, channel + 0.5, fill=False, ec="tab:red",
                                      lw=1.2)
    _title(ax_map, f"{layer}: {n_channels} channels × {count(steps, 'step')} (one step = "
                   f"{count(jump, 'sample') if float(jump).is_integer() else f'{jump:.3g} samples'}); range {a.min():.3g} … {a.max():.3g}", fontsize="medium")

    row = a[channel]
    best = int(np.argmax(row))
    state["curve"].set_data(centres, row)
    state["star"].set_data([centres[best]], [row[best]])
    ax_curve.set_ylim(*_padded(row.min(), row.max(), 0.1))
    ax_curve.set_ylabel(f"channel {channel}")
    _title(ax_curve, f"channel {channel}: strongest at step {best} (value {row[best]:.3g})",
           fontsize="medium")

    if fields and layer in fields and fields[layer] is not None:
        width = float(fields[layer])
        centre = centres[best]
        low, high = max(centre - width / 2, -0.5), min(centre + width / 2, n - 0.5)
        state["shade"] = ax_beat.axvspan(low, high, color="tab:red", alpha=0.15, lw=0)
        seen = "more than the whole beat" if width > n else f"{width:g} samples around {centre:.0f}"
        beat_title += f"; shaded: what step {best} sees ({seen})"
    return beat_title


def _build_dense(key) -> dict:
    """The axes and artists of a dense-layer activation figure, filled by :func:`_fill_dense`."""
    _, n, units = key
    fig = _figure((8.6, 4.2))
    grid = fig.add_gridspec(2, 1, height_ratios=(1, 1), hspace=0.55, left=0.08, right=0.98,
                            top=0.86, bottom=0.12)
    ax_beat, ax_bars = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    (beat,) = ax_beat.plot(np.arange(n), np.zeros(n), color="0.2", lw=1)
    ax_beat.set(xlim=(-0.5, n - 0.5), ylabel="beat", xlabel="sample")
    _sparse_ticks(ax_beat, x=_beat_ticks(n))
    bars = ax_bars.bar(np.arange(units), np.zeros(units), color="0.65")
    ax_bars.axhline(0, color="0.5", lw=0.6)
    ax_bars.set(xlabel="unit", ylabel="activation", xlim=(-0.7, units - 0.3))
    _sparse_ticks(ax_bars, x=list(range(0, units, max(1, units // 8))), y=4)
    state = {"key": key, "figure": fig, "ax_beat": ax_beat, "ax_bars": ax_bars, "beat": beat,
             "bars": list(bars)}
    fig._ecglab_state = state
    return state


def _fill_dense(state, a, layer, channel) -> None:
    for i, bar in enumerate(state["bars"]):
        bar.set_height(a[i])
        bar.set_color("tab:red" if i == channel else "0.65")
    state["ax_bars"].set_ylim(*_padded(min(a.min(), 0.0), max(a.max(), 0.0)))
    _title(state["ax_bars"], f"{layer}: {count(len(a), 'unit')}; unit {channel} = "
                             f"{a[channel]:.3g} (a dense unit sees the whole beat)",
           fontsize="medium")


def attribution_figure(beats, labels, predictions, saliency_maps, cam_maps, class_names=CLASSES,
                       target=None, source: str = "", *, layer: str = ""):
    """One example per panel: the beat over its Grad-CAM (an orange band, darker = more), with its
    saliency as a blue curve on a second axis (right).

    Parameters
    ----------
    beats : array, shape (K, 187)
    labels, predictions : array of int, shape (K,)
        True and predicted classes.
    saliency_maps : array, shape (K, 187)
        ``|∂ logit / ∂ input|`` (any non-negative scale; each panel has its own).
    cam_maps : array, shape (K, 187), in [0, 1]
        Grad-CAM, stretched to the beat.
    class_names : sequence of str
    target : int or sequence of int, optional
        The class each map explains; default each beat's prediction.
    source : str
        E.g. "synthetic ECG"; in the figure's title.
    layer : str
        The Grad-CAM layer, for the title.

    Returns
    -------
    matplotlib.figure.Figure
        ``2 K`` axes: each panel's axes (one image: the Grad-CAM band; one line: the beat), then
        its twin (one line: the saliency). Titles: true, predicted and explained class.
    """
    X = _beats(beats, "beats")
    k, n = X.shape
    labels, predictions = _labels(labels, k, "labels"), _labels(predictions, k, "predictions")
    maps = {}
    for name, value in (("saliency_maps", saliency_maps), ("cam_maps", cam_maps)):
        maps[name] = _numpy(value).astype(float)
        if maps[name].shape != (k, n):
            raise ValueError(f"{name}: expected shape {(k, n)} like beats, got {maps[name].shape}")
    explained = predictions if target is None else (
        np.full(k, int(target)) if np.ndim(target) == 0 else _labels(target, k, "target"))

    from matplotlib.ticker import MaxNLocator
    fig = _figure((2.5 * k + 0.6, 3.1))
    fig.subplots_adjust(left=0.05, right=0.96, top=0.72, bottom=0.14, wspace=0.45)
    low, high = float(X.min()), float(X.max())
    pad = 0.08 * (high - low or 1.0)
    for i in range(k):
        ax = fig.add_subplot(1, k, i + 1)
        ax.imshow(maps["cam_maps"][i][None, :], aspect="auto", cmap="Oranges", vmin=0, vmax=1,
                  alpha=0.7, interpolation="nearest",
                  extent=(-0.5, n - 0.5, low - pad, high + pad))
        ax.plot(np.arange(n), X[i], color="0.15", lw=1)
        ax.set(xlim=(-0.5, n - 0.5), ylim=(low - pad, high + pad), xlabel="sample")
        _sparse_ticks(ax, x=_beat_ticks(n))
        ax.tick_params(labelsize="x-small")
        right = labels[i] == predictions[i]
        _title(ax, f"true {_name(class_names, labels[i])} · predicted "
                     f"{_name(class_names, predictions[i])}\nexplains "
                     f"{_name(class_names, explained[i])}", fontsize="small",
                     color="black" if right else "tab:red")
        twin = ax.twinx()
        s = maps["saliency_maps"][i]
        twin.plot(np.arange(n), s, color="tab:blue", lw=0.8, alpha=0.9)
        twin.set_ylim(0, float(s.max()) * 1.05 if s.max() > 0 else 1.0)
        twin.yaxis.set_major_locator(MaxNLocator(3))
        twin.tick_params(labelsize="x-small", colors="tab:blue")
    what = f"Grad-CAM of {layer}" if layer else "Grad-CAM"
    fig.suptitle(_titled(f"where the network looks: {what} (orange), saliency (blue)", source))
    return fig


def gallery_figure(beats, labels, indices, layer: str, channel: int, class_names=CLASSES,
                   means=None, source: str = ""):
    """The beats that excite one channel most, drawn over each other in their classes' colours.

    Parameters
    ----------
    beats : array, shape (N, 187)
        All the beats the indices point into.
    labels : array of int, shape (N,)
    indices : array of int, shape (k,)
        The chosen beats, strongest first (``interpret.top_activating``).
    layer : str
    channel : int
    class_names : sequence of str
    means : array, shape (k,), optional
        The channel's mean activation of each chosen beat (same order as ``indices``); drawn as
        bars beside the beats.
    source : str
        E.g. "synthetic ECG"; in the figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with ``k`` lines and a legend "class (count)" per class present, plus one axes
        of ``k`` bars when ``means`` is given.
    """
    X = _beats(beats, "beats")
    y = _labels(labels, len(X), "labels")
    idx = _numpy(indices).astype(np.int64).reshape(-1)
    if len(idx) == 0 or idx.min() < 0 or idx.max() >= len(X):
        raise ValueError(f"indices: expected 1 or more beat indices in 0..{len(X) - 1}, got {idx}")
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig = _figure((8.6, 3.6))
    if means is None:
        fig.subplots_adjust(left=0.07, right=0.98, top=0.84, bottom=0.14)
        ax = fig.add_subplot(1, 1, 1)
    else:
        means = _numpy(means).astype(float).reshape(-1)
        if len(means) != len(idx):
            raise ValueError(f"means: expected {len(idx)} values (one per index), got {len(means)}")
        grid = fig.add_gridspec(1, 2, width_ratios=(3.2, 1), wspace=0.3, left=0.07, right=0.98,
                                top=0.84, bottom=0.14)
        ax = fig.add_subplot(grid[0])
    for i in idx[::-1]:                          # the strongest drawn last, on top
        ax.plot(np.arange(X.shape[1]), X[i], color=_color(y[i]), lw=0.9, alpha=0.65)
    shown = y[idx]
    present = [c for c in sorted(set(shown.tolist()))]
    handles = [Line2D([], [], color=_color(c), lw=2,
                      label=f"{_name(class_names, c)} ({int((shown == c).sum())})") for c in present]
    ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.85)
    ax.set(xlim=(-0.5, X.shape[1] - 0.5), xlabel="sample", ylabel="beat")
    _title(ax, f"the {count(len(idx), 'beat')} that excite it most, of {len(X):,}")
    _sparse_ticks(ax, x=_beat_ticks(X.shape[1]), y=4)
    if means is not None:
        ax_means = fig.add_subplot(grid[1])
        ax_means.barh(np.arange(len(idx)), means, color=[_color(c) for c in shown])
        ax_means.invert_yaxis()
        ax_means.set(xlabel="mean activation", ylabel="rank")
        _title(ax_means, "their mean activation")
        ax_means.xaxis.set_major_locator(MaxNLocator(3))
        ax_means.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax_means.tick_params(labelsize="x-small")
    fig.suptitle(_titled(f"{layer}, channel {channel}: its top beats", source))
    return fig


# --- the widget wiring -------------------------------------------------------------------------

class Explorer:
    """Controls, an ``Output``, and the figure the controls choose.

    Attributes
    ----------
    controls : dict
        ``{name: widget}``; those with a ``value`` redraw when it changes.
    output : ipywidgets.Output
        Holds after each redraw exactly one figure (a PNG; a note line above it when there is
        one), or else the one line of the error that stopped the redraw.
    widget : ipywidgets.VBox
        The controls above the output.
    figure : matplotlib.figure.Figure or None
        The last figure drawn (``png``: its PNG bytes). An explorer with ``reuse`` redraws it
        in place: ``png`` is what the output shows; ``render()`` gives a figure of one's own.
    error : str or None
        The error line the output shows, None after a good redraw (``exception``: the exception).

    ``render(**values)`` draws a new figure for the current control values with some replaced,
    without touching the output; ``refresh()`` redraws into the output. Displayed, an explorer is
    one output holding the widget view and a PNG of its current figure (see the module's notes).

    ``draw(**values) -> Figure`` makes the figure; ``adjust(changed)`` moves the controls that
    depend on the one that changed (a layer's channel range...) before a redraw, without their
    own redraws; with ``reuse``, ``refresh`` calls ``draw(into=[figures drawn so far], **values)``
    so that the figure function can redraw one of them in place (fast, and nothing for the garbage
    collector: building a new figure each time leaves thousands of objects in cycles, and their
    full collections pause a redraw by 0.1-0.3 s every few redraws).
    """

    def __init__(self, controls: dict, draw: Callable, *, title: str = "explorer",
                 adjust: Callable | None = None, note: str | None = None, reuse: bool = False):
        import ipywidgets as widgets
        self.controls = dict(controls)
        self.output = widgets.Output()
        self.title, self.note = title, note
        self.figure = self.png = self.error = self.exception = None
        self._draw, self._adjust, self._reuse = draw, adjust, reuse
        self._holding, self._handles, self._drawn = 0, [], []
        row = widgets.HBox(list(self.controls.values()),
                           layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([row, self.output])
        for name, control in self.controls.items():
            if control.has_trait("value"):
                control.observe(functools.partial(self._changed, name), names="value")
        self.refresh(changed=None)

    def values(self) -> dict:
        """The current value of every control that has one."""
        return {name: c.value for name, c in self.controls.items() if c.has_trait("value")}

    def render(self, **values):
        """A new figure for the current control values, ``values`` replacing some (pure: the
        output, the controls and ``figure`` are left alone)."""
        return self._render(values, into=None)

    def _render(self, values: dict, into):
        current = self.values()
        unknown = sorted(set(values) - set(current))
        if unknown:
            raise TypeError(f"render: no control named {unknown[0]!r}; the controls are "
                            f"{sorted(current)}")
        current.update(values)
        with _one_torch_thread():
            return self._draw(**current) if into is None else self._draw(into=into, **current)

    def _changed(self, name: str, change) -> None:
        if not self._holding:
            self.refresh(changed=name)

    def refresh(self, changed: str | None = None) -> bool:
        """Redraw into the output; returns whether a figure was drawn (else the output holds the
        error line). ``changed`` names the control that moved (None: all may have)."""
        try:
            if self._adjust is not None:
                self._holding += 1   # the controls it moves must not redraw on their own
                try:
                    with _one_torch_thread():
                        self._adjust(changed)
                finally:
                    self._holding -= 1
            figure = self._render({}, into=self._drawn if self._reuse else None)
            png = figure_png(figure)
        except Exception as exc:
            self.exception, self.error = exc, _error_line(exc)
            self._drawn.clear()    # maybe half redrawn: the next redraws start afresh
            self.output.outputs = (_stream(self.error),)
            return False
        shown = (_stream(self.note),) if self.note else ()
        self.output.outputs = shown + ({"output_type": "display_data", "metadata": {},
                                        "data": _png_bundle(png, f"<{self.title}: figure>")},)
        self.figure, self.png, self.error, self.exception = figure, png, None, None
        if self._reuse and not any(f is figure for f in self._drawn):
            self._drawn = self._drawn[-15:] + [figure]   # one per layout: at most a few
        if self._handles and _running_a_cell():
            bundle = self._repr_mimebundle_()
            for handle in self._handles:   # keep the no-widget fallback at the last figure
                with contextlib.suppress(Exception):   # (a display gone: nothing to keep up)
                    handle.update(bundle, raw=True)
        return True

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = _widget_view(self.widget)
        if self.png is not None:
            bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display
        handle = display(self._repr_mimebundle_(), raw=True, display_id=True)
        if handle is not None:
            self._handles.append(handle)

    def __repr__(self) -> str:
        return f"<{self.title}: {self.values()}>"


def _class_members(y: np.ndarray) -> dict[int, np.ndarray]:
    return {int(k): np.flatnonzero(y == k) for k in np.unique(y)}


def activation_explorer(model, X, y, *, capture: Callable, receptive_fields: Callable | None = None,
                        class_names=CLASSES, layers=None, source: str = "",
                        seed: int = 0) -> Explorer:
    """Pick a beat (class, then which one, or a random one) and a layer and a channel; see the
    beat, the layer's activations for it and the channel's receptive field (:func:`activation_figure`).

    Parameters
    ----------
    model : nn.Module
        A network with ``features``/``classifier`` (KachueeNet, yours or the reference).
    X : array, shape (N, 187); y : array of int, shape (N,)
        Beats and their classes (real or synthetic).
    capture : callable
        ``capture(model, x, layers=[...]) -> {name: (n, ...) activations}``, e.g.
        ``interpret.capture_activations``. Called once per beat shown (the activations of the
        last 64 beats are kept), never per layer or channel change.
    receptive_fields : callable, optional
        ``receptive_fields(model) -> {name: samples}``, called once; without it (or when it
        raises: a note says so) nothing is shaded.
    class_names : sequence of str
    layers : list of str, optional
        Default: every layer of ``features`` and ``classifier``.
    source : str
        E.g. "synthetic ECG"; in every title.
    seed : int
        Of the "random beat" button.

    Returns
    -------
    Explorer
        Controls ``class``, ``beat``, ``random`` (a button), ``layer``, ``channel``.
    """
    import ipywidgets as widgets
    X = _beats(X)
    y = _labels(y, len(X))
    layers = layer_names(model) if layers is None else list(layers)
    capture = _blamed(capture)
    members = _class_members(y)
    rng = np.random.default_rng(seed)

    note, fields = None, None
    if receptive_fields is not None:
        try:
            with _one_torch_thread():
                fields = _blamed(receptive_fields)(model)
            fields = dict(fields) if fields is not None else None
        except Exception as exc:   # still useful without: say so above every figure
            note = f"{_error_line(exc)} (nothing is shaded)"
    try:
        positions = step_positions(model, X.shape[1])
    except Exception:              # an unusual network: spread the steps evenly instead
        positions = None

    cache = _Cache()

    def one_beat(i: int) -> tuple[dict, int]:
        def make():
            acts = capture(model, X[i:i + 1], layers=layers)
            if not isinstance(acts, dict):
                raise CallbackError(f"{capture.blame} returned a {type(acts).__name__}, not a dict")
            acts = {name: _numpy(a)[0] for name, a in acts.items()}
            return acts, int(np.argmax(_predict(model, X[i:i + 1])[0]))
        return cache.get_or(i, make)

    def beat_of(cls, index) -> int:
        chosen = members[int(cls)]
        if not 0 <= int(index) < len(chosen):
            raise ValueError(f"beat must lie in 0..{len(chosen) - 1} for class "
                             f"{_name(class_names, cls)}, got {index}")
        return int(chosen[int(index)])

    def layer_of(acts: dict, layer: str):
        if layer not in acts:
            raise CallbackError(f"{capture.blame} returned no activations for {layer!r} "
                                f"(it returned {list(acts)[:6]})")
        return acts[layer]

    def draw(into=None, **v):
        i = beat_of(v["class"], v["beat"])
        acts, predicted = one_beat(i)
        layer_of(acts, v["layer"])
        cls = _name(class_names, v["class"])
        label = (f"beat {v['beat'] + 1} of {count(len(members[int(v['class'])]), cls + ' beat')}"
                 f" (#{i}), predicted {_name(class_names, predicted)}")
        return activation_figure(X[i], acts, v["layer"], v["channel"], fields=fields, label=label,
                                 source=source, positions=positions, into=into)

    style = {"description_width": "initial"}
    c = {
        "class": widgets.Dropdown(options=[(f"{_name(class_names, k)} ({count(len(m), 'beat')})", k)
                                           for k, m in members.items()],
                                  value=next(iter(members)), description="class", style=style),
        "beat": widgets.IntSlider(value=0, min=0, max=len(next(iter(members.values()))) - 1,
                                  description="beat", continuous_update=False, style=style),
        "random": widgets.Button(description="random beat of this class"),
        "layer": widgets.Dropdown(options=layers, value=layers[0], description="layer", style=style),
        "channel": widgets.IntSlider(value=0, min=0, max=31, description="channel",
                                     continuous_update=False, style=style),
    }

    def adjust(changed):
        if changed in (None, "class"):
            c["beat"].max = len(members[int(c["class"].value)]) - 1
        if changed in (None, "layer"):
            acts, _ = one_beat(beat_of(c["class"].value, c["beat"].value))
            a = _numpy(layer_of(acts, c["layer"].value))
            c["channel"].max = max(a.shape[0] - 1, 0)

    def random_beat(_button):
        m = len(members[int(c["class"].value)])
        if m > 1:
            new = int(rng.integers(m - 1))
            c["beat"].value = new + (new >= c["beat"].value)   # never the beat shown now

    c["random"].on_click(random_beat)
    return Explorer(c, draw, title="activation explorer", adjust=adjust, note=note, reuse=True)


def attribution_explorer(model, X, y, *, saliency: Callable, grad_cam: Callable,
                         layer: str = "features.3", class_names=CLASSES, source: str = "",
                         seed: int = 0) -> Explorer:
    """One random beat of every class, with its saliency and Grad-CAM (:func:`attribution_figure`).

    Parameters
    ----------
    model : nn.Module
        A network with ``features``/``classifier``.
    X : array, shape (N, 187); y : array of int, shape (N,)
    saliency : callable
        ``saliency(model, x, target=None) -> (n, 187)``, e.g. ``interpret.saliency``.
    grad_cam : callable
        ``grad_cam(model, x, layer, target=None) -> (n, 187)`` in [0, 1].
    layer : str
        The first Grad-CAM layer shown (one of ``features``).
    class_names : sequence of str
    source : str
        E.g. "synthetic ECG"; in every title.
    seed : int
        The first example set.

    Returns
    -------
    Explorer
        Controls ``target`` ("prediction" = -1, or a class), ``layer``, ``examples`` (the seed of
        the example set) and ``next`` (a button: the next set).
    """
    import ipywidgets as widgets
    X = _beats(X)
    y = _labels(y, len(X))
    saliency, grad_cam = _blamed(saliency), _blamed(grad_cam)
    members = _class_members(y)
    conv = [f"features.{name}" for name, _ in model.features.named_children()]
    if layer not in conv:
        raise ValueError(f"layer {layer!r} is not a layer of features ({conv})")
    with _one_torch_thread():
        n_classes = _predict(model, X[:1]).shape[1]
    cache = _Cache(16)

    def maps(target: int, layer: str, examples: int):
        def make():
            rng = np.random.default_rng(int(examples))
            chosen = np.array([rng.choice(m) for m in members.values()])
            xs = X[chosen]
            predictions = np.argmax(_predict(model, xs), axis=1)
            t = None if int(target) < 0 else int(target)
            results = []
            for fn, value in ((saliency, saliency(model, xs, target=t)),
                              (grad_cam, grad_cam(model, xs, layer, target=t))):
                value = _numpy(value)
                if value.shape != xs.shape:
                    raise CallbackError(f"{fn.blame} returned shape {value.shape}, expected "
                                        f"{xs.shape} (one map per beat)")
                results.append(value)
            return chosen, predictions, t, results
        return cache.get_or((int(target), layer, int(examples)), make)

    def draw(**v):
        chosen, predictions, t, (sal, cam) = maps(v["target"], v["layer"], v["examples"])
        return attribution_figure(X[chosen], y[chosen], predictions, sal, cam, class_names,
                                  target=t, source=source, layer=v["layer"])

    style = {"description_width": "initial"}
    c = {
        "target": widgets.ToggleButtons(options=[("prediction", -1)] +
                                        [(_name(class_names, k), k) for k in range(n_classes)],
                                        value=-1, description="explain", style=style),
        "layer": widgets.Dropdown(options=conv, value=layer, description="Grad-CAM layer",
                                  style=style),
        "examples": widgets.IntSlider(value=int(seed) % 100, min=0, max=99, description="examples",
                                      continuous_update=False, style=style),
        "next": widgets.Button(description="next examples"),
    }

    def next_examples(_button):
        slider = c["examples"]
        slider.value = slider.min if slider.value >= slider.max else slider.value + 1

    c["next"].on_click(next_examples)
    return Explorer(c, draw, title="attribution explorer")


def channel_gallery(model, X, y, *, capture: Callable, top_activating: Callable, k: int = 10,
                    class_names=CLASSES, source: str = "", layers=None, max_beats: int = 2000,
                    seed: int = 0) -> Explorer:
    """The ``k`` beats that excite a channel most, over each other (:func:`gallery_figure`).

    Parameters
    ----------
    model : nn.Module
        A network with ``features``/``classifier``.
    X : array, shape (N, 187); y : array of int, shape (N,)
    capture : callable
        ``capture(model, x, layers=[layer])``; called once per layer shown, on all the beats
        (only the current layer's activations are kept).
    top_activating : callable
        ``top_activating(activations, channel, k) -> indices``, e.g. ``interpret.top_activating``.
    k : int
        The first number of beats shown.
    class_names : sequence of str
    source : str
        E.g. "synthetic ECG"; in every title.
    layers : list of str, optional
        Default: every layer of ``features`` and ``classifier``.
    max_beats : int
        At most this many beats (a random subset, with ``seed``) are searched, so that one layer's
        activations stay small (2,000 beats of ``features.0``: 48 MB).

    Returns
    -------
    Explorer
        Controls ``layer``, ``channel``, ``k``.
    """
    import ipywidgets as widgets
    X = _beats(X)
    y = _labels(y, len(X))
    if len(X) > max_beats:
        keep = np.sort(np.random.default_rng(seed).choice(len(X), max_beats, replace=False))
        X, y = X[keep], y[keep]
    layers = layer_names(model) if layers is None else list(layers)
    capture, top_activating = _blamed(capture), _blamed(top_activating)
    cache = _Cache(1)

    def activations(layer: str):
        def make():
            acts = capture(model, X, layers=[layer])
            if not isinstance(acts, dict) or layer not in acts:
                raise CallbackError(f"{capture.blame} returned no activations for {layer!r}")
            raw = acts[layer]
            return raw, _numpy(raw)
        return cache.get_or(layer, make)

    def draw(**v):
        raw, a = activations(v["layer"])
        if not 0 <= int(v["channel"]) < a.shape[1]:
            raise ValueError(f"channel must lie in 0..{a.shape[1] - 1} for {v['layer']}, "
                             f"got {v['channel']}")
        idx = _numpy(top_activating(raw, int(v["channel"]), int(v["k"]))).astype(np.int64).reshape(-1)
        if len(idx) == 0 or idx.min() < 0 or idx.max() >= len(X):
            raise CallbackError(f"{top_activating.blame} returned indices {idx[:10]}, expected "
                                f"{v['k']} indices in 0..{len(X) - 1}")
        chosen = a[idx, int(v["channel"])]
        means = chosen.mean(axis=-1) if chosen.ndim == 2 else chosen
        return gallery_figure(X, y, idx, v["layer"], v["channel"], class_names, means=means,
                              source=source)

    style = {"description_width": "initial"}
    c = {
        "layer": widgets.Dropdown(options=layers, value=layers[0], description="layer", style=style),
        "channel": widgets.IntSlider(value=0, min=0, max=31, description="channel",
                                     continuous_update=False, style=style),
        "k": widgets.IntSlider(value=max(1, min(int(k), len(X))), min=1, max=min(50, len(X)),
                               description="beats", continuous_update=False, style=style),
    }

    def adjust(changed):
        if changed in (None, "layer"):
            _, a = activations(c["layer"].value)
            c["channel"].max = max(a.shape[1] - 1, 0)

    return Explorer(c, draw, title="channel gallery", adjust=adjust)
