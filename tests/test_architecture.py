"""The ready-made architecture tools of lesson 2 (``ecglab.architecture``) and its figures
(``ecglab.plots``): traces of the reference networks, hooks that never stay behind, parameter
tables that add up, figures that come back as Figures and leave nothing open. And the lesson
itself with a student's broken classes: it says so, goes on with the reference, gets to the end.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from autograder.reference import reference_module
from ecglab import architecture, plots

from .conftest import REPO, subprocess_env

models = reference_module("models")

KACHUEE_SHAPES = [(1, 1, 187), (1, 32, 187), (1, 32, 92), (1, 32, 44), (1, 32, 20), (1, 32, 8),
                  (1, 32, 2), (1, 64), (1, 32), (1, 32), (1, 32), (1, 32), (1, 5)]
SIMPLE_SHAPES = [(1, 1, 187),
                 (1, 16, 187), (1, 16, 187), (1, 16, 93), (1, 32, 93), (1, 32, 93), (1, 32, 46),
                 (1, 64, 46), (1, 64, 46), (1, 64, 23), (1, 64, 23), (1, 64, 23), (1, 64, 11),
                 (1, 704), (1, 128), (1, 128), (1, 64), (1, 64), (1, 32), (1, 32), (1, 5)]


def _hooks_left(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture(autouse=True)
def no_figures_left():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture
def kachuee():
    torch.manual_seed(0)
    return models.KachueeNet(n_classes=5)


@pytest.fixture
def simple():
    torch.manual_seed(0)
    return models.SimpleCNN(n_classes=5)


# --- shape_trace -----------------------------------------------------------------------------------

def test_trace_of_kachuee_net(kachuee):
    beat = np.random.default_rng(0).random(187)
    trace = architecture.shape_trace(kachuee, beat)
    assert [r["shape"] for r in trace] == KACHUEE_SHAPES
    assert [r["name"] for r in trace] == (
        ["features (input)"] + [f"features.{i}" for i in range(6)]
        + ["classifier (input)"] + [f"classifier.{i}" for i in range(5)])
    assert [r["type"] for r in trace][:3] == ["input", "Conv1d", "ResidualBlock"]
    assert [r["parameters"] for r in trace] == [0, 192] + [10_304] * 5 + [0, 2080, 0, 1056, 0, 165]
    assert sum(r["parameters"] for r in trace) == 55_013
    for row in trace:
        assert isinstance(row["activation"], np.ndarray) and row["activation"].shape == row["shape"]
        assert row["activation"].dtype == np.float32
    np.testing.assert_allclose(trace[0]["activation"][0, 0], beat, rtol=1e-6)
    with torch.no_grad():
        logits = kachuee(torch.tensor(beat, dtype=torch.float32)[None])
    np.testing.assert_allclose(trace[-1]["activation"], logits.numpy(), rtol=1e-5, atol=1e-6)


def test_trace_of_simple_cnn(simple):
    trace = architecture.shape_trace(simple, np.zeros(187))
    assert [r["shape"] for r in trace] == SIMPLE_SHAPES
    assert sum(r["parameters"] for r in trace) == 126_117
    assert trace[-1]["name"] == "classifier.6"


@pytest.mark.parametrize("beat", [np.zeros(187), np.zeros((3, 187)), np.zeros((3, 1, 187)),
                                  torch.zeros(3, 187), torch.zeros(3, 187, dtype=torch.float64)],
                         ids=["1-D", "(N, L)", "(N, 1, L)", "tensor", "float64 tensor"])
def test_trace_takes_every_beat_shape(kachuee, beat):
    trace = architecture.shape_trace(kachuee, beat)
    n = 1 if np.ndim(beat) == 1 else 3
    assert trace[0]["shape"] == (n, 1, 187) and trace[-1]["shape"] == (n, 5)


def test_trace_refuses_a_4d_beat(kachuee):
    with pytest.raises(ValueError, match="beat"):
        architecture.shape_trace(kachuee, np.zeros((1, 1, 1, 187)))


def test_hooks_are_removed_and_modes_restored(kachuee):
    kachuee.train()
    kachuee.classifier.eval()                       # a mixed state must come back as it was
    architecture.shape_trace(kachuee, np.zeros(187))
    assert _hooks_left(kachuee) == 0
    assert kachuee.training and kachuee.features.training and not kachuee.classifier.training
    assert not any(p.grad is not None for p in kachuee.parameters())


class Broken(nn.Module):
    """features that work, a classifier that cannot take what it is given."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(10, 2))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))     # 4 * 187 features, not 10


def test_hooks_are_removed_when_forward_raises():
    model = Broken().train()
    with pytest.raises(RuntimeError):
        architecture.shape_trace(model, np.zeros(187))
    assert _hooks_left(model) == 0
    assert all(m.training for m in model.modules())
    with pytest.raises(RuntimeError):        # and the next trace fails the same way, nothing stacked up
        architecture.shape_trace(model, np.zeros(187))
    assert _hooks_left(model) == 0


def test_trace_does_not_assume_layer_names():
    """Any model with features and classifier: its parts may be any modules, named anyhow."""

    class Part(nn.Module):
        def __init__(self):
            super().__init__()
            self.front = nn.Conv1d(1, 2, 5)
            self.back = nn.AdaptiveAvgPool1d(3)

        def forward(self, x):
            return self.back(self.front(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = Part()
            self.classifier = nn.Linear(6, 3)        # a part without children: traced as itself

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))     # x: (N, 1, L)

    trace = architecture.shape_trace(Net(), np.zeros((2, 187)))
    assert [(r["name"], r["shape"]) for r in trace] == [
        ("features (input)", (2, 1, 187)), ("features.front", (2, 2, 183)),
        ("features.back", (2, 2, 3)), ("classifier (input)", (2, 6)), ("classifier", (2, 3))]


def test_a_module_used_twice_appears_twice():
    """The classic mistake `[block] * 5`: one block, called five times, shows up five times."""
    block = models.ResidualBlock(4, 5)
    model = nn.Module()
    model.features = nn.Sequential(nn.Conv1d(1, 4, 5, padding=2), *[block] * 3)
    model.classifier = nn.Sequential(nn.Linear(4 * 20, 2))
    model.forward = lambda x: model.classifier(model.features(x).flatten(1))
    trace = architecture.shape_trace(model, np.zeros(187), inputs=False)
    assert [r["shape"][-1] for r in trace] == [187, 92, 44, 20, 2]
    assert [r["name"] for r in trace][1:4] == ["features.1"] * 3
    assert _hooks_left(model) == 0


# --- parameter_table -------------------------------------------------------------------------------

@pytest.mark.parametrize("name,total", [("KachueeNet", 55_013), ("SimpleCNN", 126_117)])
def test_parameter_table_sums_to_the_total(name, total):
    model = getattr(models, name)(n_classes=5)
    table = architecture.parameter_table(model)
    assert sum(r["parameters"] for r in table) == total == models.count_parameters(model)
    assert all(r["trainable"] and r["trainable_parameters"] == r["parameters"] for r in table)
    first = table[0]
    assert first["name"] == "features.0" and first["type"] == "Conv1d"
    assert first["parameters"] == int(np.prod(first["weight"])) + int(np.prod(first["bias"]))


def test_parameter_table_of_a_kachuee_net():
    table = architecture.parameter_table(models.KachueeNet(n_classes=5))
    assert len(table) == 1 + 10 + 3
    assert table[1] == {"name": "features.1.conv1", "type": "Conv1d", "weight": (32, 32, 5),
                        "bias": (32,), "parameters": 5152, "trainable_parameters": 5152,
                        "trainable": True}
    assert [r["weight"] for r in table[-3:]] == [(32, 64), (32, 32), (5, 32)]


def test_parameter_table_frozen_and_partly_frozen():
    model = models.KachueeNet(n_classes=5)
    model.features.requires_grad_(False)
    model.classifier[0].bias.requires_grad_(False)
    table = {r["name"]: r for r in architecture.parameter_table(model)}
    assert not table["features.0"]["trainable"] and table["features.0"]["trainable_parameters"] == 0
    partly = table["classifier.0"]
    assert not partly["trainable"] and partly["trainable_parameters"] == 64 * 32
    assert sum(r["trainable_parameters"] for r in table.values()) == \
        models.count_parameters(model, trainable_only=True) == 3301 - 32


def test_parameter_table_counts_a_shared_parameter_once():
    a, b = nn.Linear(8, 8), nn.Linear(8, 8, bias=False)
    b.weight = a.weight
    model = nn.Sequential(a, b, nn.Linear(8, 2))
    table = architecture.parameter_table(model)
    assert sum(r["parameters"] for r in table) == sum(p.numel() for p in model.parameters()) == 72 + 18
    assert [r["name"] for r in table] == ["0", "2"]


def test_parameter_table_of_a_model_with_parameters_of_its_own():
    model = nn.Module()
    model.scale = nn.Parameter(torch.ones(3))
    assert architecture.parameter_table(model) == [
        {"name": "(model)", "type": "Module", "weight": (3,), "bias": None, "parameters": 3,
         "trainable_parameters": 3, "trainable": True}]


# --- lengths_through -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["KachueeNet", "SimpleCNN"])
def test_lengths_through_agree_with_the_network(name):
    model = getattr(models, name)(n_classes=5)
    rows = architecture.lengths_through(model.features, 187, models.conv_output_length)
    with torch.no_grad():
        measured = model.features(torch.zeros(1, 1, 187)).shape[-1]
    assert rows[-1]["length_out"] == measured
    assert all(a["length_out"] == b["length_in"] for a, b in itertools.pairwise(rows))


def test_lengths_through_named_layers_and_settings():
    layers = [("conv", nn.Conv1d(1, 4, 7, stride=2, padding=3, dilation=1)), ("relu", nn.ReLU()),
              ("pool", nn.MaxPool1d(3)), ("avg", nn.AvgPool1d(2, stride=1)),
              ("dilated", nn.Conv1d(4, 4, 3, dilation=2)), ("same", nn.Conv1d(4, 4, 5, padding="same"))]
    rows = architecture.lengths_through(layers, 187, models.conv_output_length)
    x = torch.zeros(1, 1, 187)
    expected = []
    with torch.no_grad():
        for _, layer in layers:
            x = layer(x)
            expected.append(x.shape[-1])
    assert [r["length_out"] for r in rows] == expected
    assert rows[1]["kernel_size"] is None and rows[1]["length_in"] == rows[1]["length_out"]
    assert (rows[2]["kernel_size"], rows[2]["stride"]) == (3, 3)     # pooling's stride defaults to its size
    assert rows[4]["dilation"] == 2


def test_lengths_through_uses_the_given_function():
    calls = []

    def fake(length, kernel_size, stride=1, padding=0, dilation=1):
        calls.append((length, kernel_size, stride, padding, dilation))
        return length - 1

    rows = architecture.lengths_through([("a", nn.Conv1d(1, 1, 5, padding=2)), ("b", nn.MaxPool1d(5, 2))],
                                        187, fake)
    assert calls == [(187, 5, 1, 2, 1), (186, 5, 2, 0, 1)]
    assert [r["length_out"] for r in rows] == [186, 185]


def test_lengths_through_refuses_ceil_mode():
    with pytest.raises(ValueError, match="ceil_mode"):
        architecture.lengths_through([("p", nn.MaxPool1d(2, ceil_mode=True))], 187,
                                     models.conv_output_length)


# --- format_table ----------------------------------------------------------------------------------

def test_format_table():
    text = architecture.format_table(
        [{"name": "conv", "shape": (1, 32, 187), "n": 5152, "ok": True, "x": None},
         {"name": "linear", "shape": (32,), "n": 165, "ok": False, "x": 0.5}],
        ["name", "shape", "n", "ok", "x"], ["layer", "shape", "parameters", "ok", "x"])
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "shape", "parameters", "ok", "x"]
    assert set(lines[1]) <= {"-", " "}
    assert "(1, 32, 187)" in lines[2] and "5,152" in lines[2] and "yes" in lines[2] and "–" in lines[2]
    assert "(32,)" in lines[3] and lines[3].rstrip().endswith("0.5")
    assert lines[2].index("5,152") + len("5,152") == lines[3].index("165") + len("165")  # right-aligned
    with pytest.raises(ValueError):
        architecture.format_table([], ["a", "b"], ["only one"])


# --- figures ---------------------------------------------------------------------------------------

def _only_this_figure_open(fig):
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [fig.number], "the function left other figures open"
    plt.close(fig)
    assert plt.get_fignums() == []


def test_conv_slide_figure():
    beat = np.sin(np.linspace(0, 6, 187)) ** 2
    kernel = np.array([-1, -1, 0, 1, 1]) / 2
    fig = plots.conv_slide_figure(beat, kernel, [0, 50, 186], title="t")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    out = np.correlate(np.pad(beat, 2), kernel, mode="valid")
    assert f"{out[50]:.2f}" in texts
    _only_this_figure_open(fig)


def test_conv_slide_figure_matches_conv1d_and_refuses_positions_outside():
    beat = np.random.default_rng(1).random(187)
    kernel = np.random.default_rng(2).normal(size=7)
    conv = nn.Conv1d(1, 1, 7, padding=0, bias=False)
    with torch.no_grad():
        conv.weight[:] = torch.tensor(kernel)
        out = conv(torch.tensor(beat, dtype=torch.float32)[None, None])[0, 0].numpy()
    fig = plots.conv_slide_figure(beat, kernel, [10], padding=0)
    assert f"{out[10]:.2f}" in [t.get_text() for ax in fig.axes for t in ax.texts]
    plt.close(fig)
    with pytest.raises(ValueError, match="outside"):
        plots.conv_slide_figure(beat, kernel, [181], padding=0)    # 187 - 7 + 1 = 181 outputs
    assert plt.get_fignums() == []


@pytest.mark.parametrize("name", ["KachueeNet", "SimpleCNN"])
def test_shape_trace_figure(name):
    model = getattr(models, name)(n_classes=5)
    trace = architecture.shape_trace(model, np.random.default_rng(0).random(187))
    fig = plots.shape_trace_figure(trace, title="trace")
    assert len(fig.axes) == len(trace)
    _only_this_figure_open(fig)
    with pytest.raises(ValueError):
        plots.shape_trace_figure([{"name": "x", "activation": None}])
    assert plt.get_fignums() == []


def test_parameter_bars():
    frozen = models.KachueeNet()
    frozen.features.requires_grad_(False)
    fig = plots.parameter_bars({"KachueeNet": architecture.parameter_table(models.KachueeNet()),
                                "frozen": architecture.parameter_table(frozen),
                                "SimpleCNN": architecture.parameter_table(models.SimpleCNN())})
    assert len(fig.axes) == 3
    assert fig.axes[0].get_title() == "KachueeNet: 55,013 parameters"
    _only_this_figure_open(fig)


# --- packaging -------------------------------------------------------------------------------------

def test_importing_ecglab_does_not_import_torch():
    code = ("import sys, ecglab, ecglab.plots; assert 'architecture' in dir(ecglab); "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "from ecglab import architecture; assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=subprocess_env(), check=True)


# --- the lesson with broken student classes ---------------------------------------------------------

BROKEN = {  # what a student might write: (the reference's line, the student's)
    "        self.pool = nn.MaxPool1d(5, stride=2)": "        self.pool = nn.MaxPool1d(5)",
    "            nn.Linear(704, 128), nn.ReLU(),": "            nn.Linear(704), nn.ReLU(),",
    "    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)":
        "    return sum(p.numel() for p in model.parameters())",
}


@pytest.mark.slow
def test_lesson_goes_on_with_the_reference_where_a_class_is_broken(tmp_path, monkeypatch):
    """A written but broken ResidualBlock (MaxPool1d(5) without stride: KachueeNet's forward then
    raises), a SimpleCNN whose __init__ raises and a count_parameters that ignores trainable_only:
    every demonstration cell says what is wrong in one line, and "Run All" gets to the end."""
    from nbclient import NotebookClient

    from autograder.course import load_course
    from autograder.generate import render_package, write_tree
    from autograder.nbgrader_course import lesson_notebook

    files = render_package(solved_lessons=frozenset({1, 2}))
    for reference, student in BROKEN.items():
        assert files["models.py"].count(reference) == 1, reference
        files["models.py"] = files["models.py"].replace(reference, student)
    write_tree(files, tmp_path / "student" / "ecglab")
    course = load_course()
    nb = lesson_notebook(course.lesson(2), course)
    monkeypatch.setenv("ECGLAB_IMPL", str(tmp_path / "student"))
    monkeypatch.setenv("ECGLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    NotebookClient(nb, timeout=600, kernel_name=course.kernel_name,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()   # raises if a cell does
    out = "\n".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                    for o in cell.outputs if o.output_type == "stream")
    assert "yours gives shape (8, 32, 37)" in out                   # the residual block demo
    assert "look at the order of the addition" in out
    assert ("✗ your KachueeNet raised RuntimeError on an input of shape (5, 187)" in out
            and "this cell goes on with the reference KachueeNet" in out)
    assert "✗ your SimpleCNN raised TypeError" in out
    assert "the reference SimpleCNN: 126,117 parameters" in out
    assert "✗ they differ: count_parameters(model, trainable_only=True)" in out
    assert "(the classifier's)" in out and "✓ they agree" not in out
    assert "✓ nn.Conv1d: your conv_output_length agrees" in out
    assert "18 × 256 = 4,608 numbers" in out
