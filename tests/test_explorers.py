"""The ready-made explorers of lesson 5 (``ecglab.explorers``).

Three parts:

* the figures, drawn headless: what is on them (axes, lines, images and their extents, titles
  with the data's source), and that they never touch pyplot;
* the explorers in this process (ipywidgets 8, no front end): what they cache, what ``render``
  does, how errors read;
* the explorers in a real kernel driven by nbclient, which keeps Output widgets as a front end
  does, under ipywidgets 8 and 7.7.1 (Colab's; installed by itself into a cache folder, skipped
  when pip cannot reach the registry): many control changes leave exactly one figure in the
  Output and no pyplot figure behind, an exception in a callback shows in the Output and the next
  change draws again, and the display holds a static PNG of the last figure for viewers without
  widgets.

The beats come from the synthetic ECG generator (a few records, 8 beats per class).
"""

from __future__ import annotations

import base64
import hashlib
import json

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from autograder.reference import reference_module
from ecglab import data, explorers
from ecglab.data.synthetic import synthetic_mitbih_records

from .widget_kernel import (IPYWIDGETS7, WIDGET_VIEW, WidgetKernel, WidgetsUnavailable,
                            ipywidgets7_dir, kernel_env)

interpret = reference_module("interpret")
SOURCE = "synthetic ECG"
RECORDS = ("208", "217", "232", "109", "207")   # together they hold beats of all five classes
PER_CLASS = 8


def _beats() -> tuple[np.ndarray, np.ndarray]:
    ds = data.mitbih_from_records(synthetic_mitbih_records(seconds=60, names=RECORDS))
    pick = np.concatenate([np.flatnonzero(ds.y == k)[:PER_CLASS] for k in range(5)])
    return ds.X[pick], ds.y[pick]


@pytest.fixture(scope="module")
def beats():
    return _beats()


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return reference_module("models").KachueeNet().eval()


@pytest.fixture(scope="module")
def one_beat(net, beats):
    """A beat, its activations in every layer (one beat each) and the network's geometry."""
    X, _ = beats
    acts = {name: a[0].numpy() for name, a in interpret.capture_activations(net, X[:1]).items()}
    return X[0], acts, interpret.receptive_fields(net), explorers.step_positions(net)


@pytest.fixture
def no_pyplot_figures():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "a figure was left open in pyplot"


# --- the figures ---------------------------------------------------------------------------------

def test_step_positions_match_the_network(net, one_beat):
    _, acts, _, positions = one_beat
    assert positions == {"features.0": (0.0, 1.0, 187), "features.1": (2.0, 2.0, 92),
                         "features.2": (6.0, 4.0, 44), "features.3": (14.0, 8.0, 20),
                         "features.4": (30.0, 16.0, 8), "features.5": (62.0, 32.0, 2)}
    for name, (_, _, steps) in positions.items():
        assert acts[name].shape[-1] == steps, name


def test_activation_figure_of_a_conv_layer(one_beat, no_pyplot_figures):
    beat, acts, fields, positions = one_beat
    fig = explorers.activation_figure(beat, acts, "features.3", 4, fields=fields, label="beat 1",
                                      source=SOURCE, positions=positions)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax_beat, ax_map, ax_curve = fig.axes
    assert SOURCE in fig._suptitle.get_text() and "features.3" in fig._suptitle.get_text()
    np.testing.assert_array_equal(ax_beat.lines[0].get_ydata(), beat)
    (image,) = ax_map.images
    assert image.get_array().shape == (32, 20)
    assert list(image.get_extent()) == [10.0, 170.0, 31.5, -0.5]      # steps 14, 22 ... 166, 8 wide
    row = acts["features.3"][4]
    curve, star = ax_curve.lines
    np.testing.assert_allclose(curve.get_xdata(), 14 + 8 * np.arange(20))
    np.testing.assert_allclose(curve.get_ydata(), row)
    best = int(np.argmax(row))
    assert star.get_xdata()[0] == 14 + 8 * best and f"step {best}" in ax_curve.get_title()
    (shade,) = ax_beat.patches                                   # 89 samples around the best step
    centre = 14 + 8 * best
    assert _xspan(shade) == (max(centre - 44.5, -0.5), min(centre + 44.5, 186.5))
    assert ax_beat.get_xlim() == (-0.5, 186.5)


def _xspan(patch) -> tuple[float, float]:
    """The data x-range of an ``axvspan`` (a Rectangle since matplotlib 3.9, a Polygon before)."""
    x = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    return float(x.min()), float(x.max())


def test_activation_figure_redrawn_in_place_is_the_same_figure(net, beats, one_beat,
                                                               no_pyplot_figures):
    X, _ = beats
    beat, acts, fields, positions = one_beat
    other = {name: a[0].numpy() for name, a in interpret.capture_activations(net, X[9:10]).items()}
    for layer, channels in (("features.3", (4, 9)), ("classifier.2", (1, 30))):
        first = explorers.activation_figure(beat, acts, layer, channels[0], fields=fields,
                                            positions=positions, source=SOURCE)
        again = explorers.activation_figure(X[9], other, layer, channels[1], fields=fields,
                                            positions=positions, source=SOURCE, into=[first])
        fresh = explorers.activation_figure(X[9], other, layer, channels[1], fields=fields,
                                            positions=positions, source=SOURCE)
        assert again is first and fresh is not first
        assert explorers.figure_png(again) == explorers.figure_png(fresh), layer
    elsewhere = explorers.activation_figure(beat, acts, "features.1", 0, into=first)
    assert elsewhere is not first                                # another layout: a new figure


def test_a_figure_shows_itself_as_png_without_pyplot(one_beat, no_pyplot_figures):
    beat, acts, _, _ = one_beat
    fig = explorers.activation_figure(beat, acts, "features.1", 0)
    png = fig._repr_png_()                     # what IPython shows for a cell's value
    assert png.startswith(b"\x89PNG") and png == explorers.figure_png(fig)


def test_activation_figure_spreads_the_steps_without_positions(one_beat, no_pyplot_figures):
    beat, acts, _, _ = one_beat
    for given in (None, {"features.2": (0.0, 1.0, 999)}):       # none, or of another length
        fig = explorers.activation_figure(beat, acts, "features.2", 0, positions=given)
        assert list(fig.axes[1].images[0].get_extent()) == [-0.5, 186.5, 31.5, -0.5]
        assert not fig.axes[0].patches                           # no fields: nothing shaded
        assert "(" not in fig._suptitle.get_text()               # no source given


def test_activation_figure_of_a_dense_layer(one_beat, no_pyplot_figures):
    beat, acts, fields, _ = one_beat
    fig = explorers.activation_figure(beat, acts, "classifier.2", 7, fields=fields, source=SOURCE)
    ax_beat, ax_bars = fig.axes
    bars = ax_bars.patches
    assert len(bars) == 32
    red = [i for i, bar in enumerate(bars) if bar.get_facecolor() == matplotlib.colors.to_rgba("tab:red")]
    assert red == [7]
    np.testing.assert_allclose([bar.get_height() for bar in bars], acts["classifier.2"], rtol=1e-6)
    assert not ax_beat.patches and SOURCE in fig._suptitle.get_text()


@pytest.mark.parametrize("change,named", [
    ({"layer": "features.9"}, "layer 'features.9'"),
    ({"channel": 32}, "channel must lie in 0..31"),
    ({"beat": np.zeros((2, 187))}, "beat: expected one beat"),
])
def test_activation_figure_errors_name_the_argument(one_beat, change, named):
    beat, acts, _, _ = one_beat
    args = {"beat": beat, "activations": acts, "layer": "features.1", "channel": 0, **change}
    with pytest.raises(ValueError, match=named):
        explorers.activation_figure(**args)


def test_attribution_figure(net, beats, no_pyplot_figures):
    X, y = beats
    pick = [k * PER_CLASS for k in range(5)]
    xs = X[pick]
    sal, cam = interpret.saliency(net, xs), interpret.grad_cam(net, xs, "features.3")
    predictions = np.array([0, 1, 2, 0, 4])
    fig = explorers.attribution_figure(xs, y[pick], predictions, sal, cam, source=SOURCE,
                                       layer="features.3")
    assert len(fig.axes) == 10                                   # each panel and its twin
    for k in range(5):
        ax, twin = fig.axes[2 * k], fig.axes[2 * k + 1]
        (band,) = ax.images
        assert list(band.get_extent())[:2] == [-0.5, 186.5]
        np.testing.assert_allclose(band.get_array()[0], cam[k], rtol=1e-6)
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), xs[k])
        np.testing.assert_allclose(twin.lines[0].get_ydata(), sal[k], rtol=1e-6)
        name, predicted = "NSVFQ"[y[pick][k]], "NSVFQ"[predictions[k]]
        assert ax.get_title() == f"true {name} · predicted {predicted}\nexplains {predicted}"
    assert fig.axes[6].title.get_color() == "tab:red"            # F predicted as N
    assert SOURCE in fig._suptitle.get_text() and "features.3" in fig._suptitle.get_text()
    fig = explorers.attribution_figure(xs, y[pick], predictions, sal, cam, target=2)
    assert all(ax.get_title().endswith("explains V") for ax in fig.axes[::2])
    with pytest.raises(ValueError, match="cam_maps: expected shape"):
        explorers.attribution_figure(xs, y[pick], predictions, sal, cam[:, :100])


def test_gallery_figure(beats, no_pyplot_figures):
    X, y = beats
    idx = np.array([0, 1, 2, PER_CLASS, 3 * PER_CLASS])          # three N, one S, one F
    fig = explorers.gallery_figure(X, y, idx, "features.2", 5, means=np.linspace(2, 1, 5),
                                   source=SOURCE)
    ax, ax_means = fig.axes
    assert len(ax.lines) == 5 and len(ax_means.patches) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["N (3)", "S (1)", "F (1)"]
    assert "of 40" in ax.get_title()
    assert SOURCE in fig._suptitle.get_text() and "channel 5" in fig._suptitle.get_text()
    fig = explorers.gallery_figure(X, y, idx[:2], "features.2", 5)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="indices"):
        explorers.gallery_figure(X, y, [40], "features.2", 5)


# --- the explorers in this process ---------------------------------------------------------------

class Counted:
    """A function that counts its calls (and can be made to raise)."""

    def __init__(self, fn, name):
        self.fn, self.calls, self.fail = fn, 0, None
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.fail:
            raise self.fail
        return self.fn(*args, **kwargs)


def test_activations_are_captured_once_per_beat(net, beats, no_pyplot_figures):
    X, y = beats
    capture = Counted(interpret.capture_activations, "capture_activations")
    fields = Counted(interpret.receptive_fields, "receptive_fields")
    ex = explorers.activation_explorer(net, X, y, capture=capture, receptive_fields=fields,
                                       source=SOURCE)
    assert capture.calls == 1 and ex.error is None and ex.figure is not None
    for channel in range(1, 11):
        ex.controls["channel"].value = channel
    for layer in ("features.4", "classifier.0", "features.0"):
        ex.controls["layer"].value = layer
    assert capture.calls == 1                                    # the same beat throughout
    ex.controls["beat"].value = 2
    ex.controls["beat"].value = 0                                # back to a beat seen before
    assert capture.calls == 2 and fields.calls == 1
    assert ex.values() == {"class": 0, "beat": 0, "layer": "features.0", "channel": 10}


def test_render_is_pure(net, beats):
    X, y = beats
    ex = explorers.activation_explorer(net, X, y, capture=interpret.capture_activations)
    shown, png = ex.figure, ex.png
    fig = ex.render(layer="features.5", channel=3)
    assert fig is not shown and ex.figure is shown and ex.png is png
    assert fig._suptitle.get_text() == "features.5, channel 3"
    assert ex.values()["layer"] == "features.0"
    with pytest.raises(TypeError, match="no control named 'colour'"):
        ex.render(colour="red")


def test_a_layer_change_sets_the_channel_range(net, beats):
    X, y = beats
    ex = explorers.activation_explorer(net, X, y, capture=interpret.capture_activations)
    ex.controls["channel"].value = 20
    ex.controls["layer"].value = "classifier.4"                  # 5 logits
    assert ex.controls["channel"].max == 4 and ex.controls["channel"].value == 4
    assert ex.error is None and ex.figure._suptitle.get_text() == "classifier.4, unit 4"
    ex.controls["class"].value = 3
    assert ex.controls["beat"].max == PER_CLASS - 1


def test_errors_become_one_line_and_the_explorer_recovers(net, beats):
    X, y = beats
    capture = Counted(interpret.capture_activations, "capture_activations")
    ex = explorers.activation_explorer(net, X, y, capture=capture)
    drawn = ex.figure
    capture.fail = NotImplementedError("exercise 5.1 (lesson 5): write capture_activations\nmore")
    shown = ex.png
    ex.controls["beat"].value = 1
    assert ex.error == ("✗ capture_activations raised NotImplementedError: exercise 5.1 "
                        "(lesson 5): write capture_activations")
    assert ex.figure is drawn and ex.png is shown                # the last good figure stays
    capture.fail = None
    ex.controls["beat"].value = 2
    assert ex.error is None and ex.png != shown


def test_receptive_fields_that_raise_leave_a_note(net, beats):
    X, y = beats
    fields = Counted(interpret.receptive_fields, "receptive_fields")
    fields.fail = ValueError("no")
    ex = explorers.activation_explorer(net, X, y, capture=interpret.capture_activations,
                                       receptive_fields=fields)
    assert ex.error is None and ex.figure is not None and not ex.figure.axes[0].patches
    assert ex.note == "✗ receptive_fields raised ValueError: no (nothing is shaded)"


def test_the_fallback_follows_redraws_from_cells_only(net, beats, monkeypatch):
    X, y = beats
    ex = explorers.activation_explorer(net, X, y, capture=interpret.capture_activations)
    bundle = ex._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == ex.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == ex.png

    updates = []

    class Handle:
        def update(self, obj, **kwargs):
            updates.append(obj)

    ex._handles.append(Handle())
    monkeypatch.setattr(explorers, "_running_a_cell", lambda: False)   # a person moved a slider
    ex.controls["channel"].value = 1
    assert updates == []
    monkeypatch.setattr(explorers, "_running_a_cell", lambda: True)    # a cell set the value
    ex.controls["channel"].value = 2
    assert len(updates) == 1
    assert base64.b64decode(updates[0]["image/png"]) == ex.png


def test_attribution_explorer_and_gallery(net, beats, no_pyplot_figures):
    X, y = beats
    ex = explorers.attribution_explorer(net, X, y, saliency=interpret.saliency,
                                        grad_cam=interpret.grad_cam, source=SOURCE)
    assert ex.error is None and len(ex.figure.axes) == 10
    ex.controls["target"].value = 2
    ex.controls["layer"].value = "features.1"
    ex.controls["next"].click()
    assert ex.values() == {"target": 2, "layer": "features.1", "examples": 1}
    assert all(ax.get_title().endswith("explains V") for ax in ex.figure.axes[::2])
    with pytest.raises(ValueError, match="layer 'classifier.0' is not a layer of features"):
        explorers.attribution_explorer(net, X, y, saliency=interpret.saliency,
                                       grad_cam=interpret.grad_cam, layer="classifier.0")

    top = Counted(interpret.top_activating, "top_activating")
    gallery = explorers.channel_gallery(net, X, y, capture=interpret.capture_activations,
                                        top_activating=top, k=6, source=SOURCE)
    assert gallery.error is None and len(gallery.figure.axes[0].lines) == 6
    gallery.controls["layer"].value = "classifier.4"
    assert gallery.controls["channel"].max == 4
    gallery.controls["k"].value = 3
    assert len(gallery.figure.axes[0].lines) == 3 and top.calls == 3
    top.fn = lambda a, channel, k: np.array([99])
    gallery.controls["k"].value = 4
    assert gallery.error.startswith("✗ top_activating returned indices [99]")


def test_a_network_of_another_shape(beats):
    """Any network with features and classifier: the steps' geometry comes from its layers."""
    X, y = beats

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv1d(1, 4, 7, padding=3), nn.ReLU(),
                                          nn.MaxPool1d(2), nn.Conv1d(4, 3, 3, stride=2))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(3 * 46, 5))

        def forward(self, x):
            return self.classifier(self.features(x.reshape(len(x), 1, -1)))

    torch.manual_seed(0)
    model = Small()
    assert explorers.step_positions(model) == {
        "features.0": (0.0, 1.0, 187), "features.1": (0.0, 1.0, 187),
        "features.2": (0.5, 2.0, 93), "features.3": (2.5, 4.0, 46)}
    ex = explorers.activation_explorer(model, X, y, capture=interpret.capture_activations,
                                       receptive_fields=interpret.receptive_fields)
    for layer in explorers.layer_names(model):
        ex.controls["layer"].value = layer
        assert ex.error is None, ex.error
        if layer == "classifier.0":                              # Flatten: 3 x 46 features
            assert len(ex.figure.axes[1].patches) == 138


# --- in a real kernel, under ipywidgets 8 and 7.7.1 ----------------------------------------------

SETUP = f"""
%matplotlib inline
import base64, hashlib, json, sys
import numpy as np, torch
import matplotlib.pyplot as plt
import ipywidgets
from IPython.display import display
from autograder.reference import reference_module
from ecglab import data, explorers
from ecglab.data.synthetic import synthetic_mitbih_records
interpret = reference_module("interpret")
torch.manual_seed(0)
torch.set_num_threads(1)
net = reference_module("models").KachueeNet().eval()
ds = data.mitbih_from_records(synthetic_mitbih_records(seconds=60, names={RECORDS!r}))
pick = np.concatenate([np.flatnonzero(ds.y == k)[:{PER_CLASS}] for k in range(5)])
X, y = ds.X[pick], ds.y[pick]

def sha(png):
    return hashlib.sha256(base64.b64encode(png)).hexdigest()

print(json.dumps({{"ipywidgets": ipywidgets.__version__, "explorers": explorers.__file__}}))
"""


@pytest.fixture(scope="module", params=["8", IPYWIDGETS7])
def kernel(request):
    """One kernel per ipywidgets version, with the network and 40 beats loaded."""
    pytest.importorskip("nbclient", reason="the kernel tests need nbclient (pip install -e .[dev])")
    if request.param == IPYWIDGETS7:
        try:
            ipywidgets7_dir()
        except WidgetsUnavailable as exc:
            pytest.skip(f"ipywidgets {IPYWIDGETS7} could not be installed: {exc}")
    with WidgetKernel(kernel_env(request.param)) as k:
        info = k.json(SETUP)
        assert info["ipywidgets"].split(".")[0] == request.param.split(".")[0], info
        if request.param == IPYWIDGETS7:
            assert info["ipywidgets"] == IPYWIDGETS7
        yield k


def _figures(outputs) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs)


def _text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


def test_kernel_many_changes_leave_one_figure(kernel):
    kernel.run('ex = explorers.activation_explorer(net, X, y, capture=interpret.capture_activations,'
               ' receptive_fields=interpret.receptive_fields, source="synthetic ECG")\n'
               'display(ex)')
    changed = kernel.run("""
figures_before = len(plt.get_fignums())
for name, value in [("channel", 5), ("layer", "features.3"), ("channel", 31), ("beat", 3),
                    ("class", 2), ("layer", "classifier.4"), ("channel", 7), ("layer", "features.5"),
                    ("beat", 6), ("class", 4)]:
    ex.controls[name].value = value
ex.controls["random"].click()
print(json.dumps({"before": figures_before, "after": len(plt.get_fignums()), "error": ex.error,
                  "output": ex.output.model_id, "values": ex.values()}))
""")
    info = json.loads(_text(changed).splitlines()[-1])
    assert info["error"] is None and info["before"] == info["after"] == 0
    assert info["values"]["layer"] == "features.5" and info["values"]["channel"] == 4
    assert _figures(changed) == 0                 # nothing drawn outside the Output
    front = kernel.widget_outputs(info["output"])
    assert [o["output_type"] for o in front] == ["display_data"] and _figures(front) == 1
    synced = kernel.json('print(json.dumps([sorted(o.get("data", {})) for o in ex.output.outputs]))')
    assert synced == [["image/png", "text/plain"]]   # the kernel's Output agrees


def test_kernel_an_exception_shows_in_the_output_and_the_next_change_draws(kernel):
    broken = kernel.json("""
BROKEN = {"on": False}
def capture_activations(model, x, layers=None):
    if BROKEN["on"]:
        raise ValueError("broken on purpose")
    return interpret.capture_activations(model, x, layers=layers)
ex2 = explorers.activation_explorer(net, X, y, capture=capture_activations, source="synthetic ECG")
display(ex2)
BROKEN["on"] = True
ex2.controls["beat"].value = 5
print(json.dumps({"error": ex2.error, "output": ex2.output.model_id}))
""")
    line = "✗ capture_activations raised ValueError: broken on purpose"
    assert broken["error"] == line
    front = kernel.widget_outputs(broken["output"])
    assert _figures(front) == 0 and _text(front).strip() == line
    again = kernel.json('BROKEN["on"] = False\nex2.controls["beat"].value = 6\n'
                        'print(json.dumps({"error": ex2.error}))')
    assert again["error"] is None
    front = kernel.widget_outputs(broken["output"])
    assert _figures(front) == 1 and _text(front) == ""


def test_kernel_the_display_keeps_a_png_of_the_last_figure(kernel):
    shown = kernel.run("ex3 = explorers.channel_gallery(net, X, y, capture=interpret.capture_activations,"
                       " top_activating=interpret.top_activating, source='synthetic ECG')\n"
                       "ex3")                      # shown as a cell's value, as lessons do
    (display,) = [o for o in shown if o.get("output_type") == "display_data"]
    first = display["data"]["image/png"]
    ids = kernel.json("print(json.dumps({'widget': ex3.widget.model_id, 'png': sha(ex3.png)}))")
    assert display["data"][WIDGET_VIEW]["model_id"] == ids["widget"]
    assert hashlib.sha256(first.encode()).hexdigest() == ids["png"]
    last = kernel.json("ex3.controls['layer'].value = 'features.2'\nex3.controls['k'].value = 4\n"
                       "print(json.dumps(sha(ex3.png)))")
    now = display["data"]["image/png"]             # nbclient applied the display's updates
    assert now != first and hashlib.sha256(now.encode()).hexdigest() == last


def test_kernel_attribution_explorer(kernel):
    info = kernel.json("""
ex4 = explorers.attribution_explorer(net, X, y, saliency=interpret.saliency,
                                     grad_cam=interpret.grad_cam, source="synthetic ECG")
display(ex4)
for target in (-1, 0, 3):
    ex4.controls["target"].value = target
    ex4.controls["next"].click()
ex4.controls["layer"].value = "features.4"
print(json.dumps({"error": ex4.error, "output": ex4.output.model_id, "figures": len(plt.get_fignums())}))
""")
    assert info["error"] is None and info["figures"] == 0
    assert _figures(kernel.widget_outputs(info["output"])) == 1
