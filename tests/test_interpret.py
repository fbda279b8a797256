"""Lesson 5's reference and the grader's own measurement agree: the receptive fields the checks
expect are the ones a perturbation experiment finds, for the course's networks and the checks'
small ones (so the oracle of check 5.2 is itself checked)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import lesson5
from autograder.probes import make_model
from autograder.reference import reference_module

interpret = reference_module("interpret")
models = reference_module("models")


def test_kachueenet_receptive_fields_are_computed_and_measured_alike():
    net = models.KachueeNet()
    computed = interpret.receptive_fields(net)
    assert computed == {"features.0": 5, "features.1": 17, "features.2": 41, "features.3": 89,
                        "features.4": 185, "features.5": 377}
    assert lesson5.measured_fields(net) == computed


def test_simple_cnn_receptive_fields_are_computed_and_measured_alike():
    net = models.SimpleCNN()
    assert lesson5.measured_fields(net) == interpret.receptive_fields(net)


@pytest.mark.parametrize("spec", ["PLAIN", "NET", "DILATED", "KACHUEE_LIKE"])
def test_the_checks_networks_are_computed_and_measured_alike(spec):
    spec = getattr(lesson5, spec)
    assert lesson5.measured_fields(spec) == interpret.receptive_fields(make_model(spec))


def test_the_measurement_refuses_a_field_too_wide_to_see():
    with pytest.raises(ValueError, match="longer measurement"):
        lesson5.measured_fields(models.KachueeNet(), length=512)


def test_kachueenet_is_left_as_found_and_the_maps_are_what_they_say():
    torch.manual_seed(0)
    net = models.KachueeNet().train()
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    x = np.random.default_rng(0).random((4, 187)).astype(np.float32)
    acts = interpret.capture_activations(net, x)
    assert [tuple(a.shape) for a in acts.values()] == [
        (4, 32, 187), (4, 32, 92), (4, 32, 44), (4, 32, 20), (4, 32, 8), (4, 32, 2),
        (4, 32), (4, 32), (4, 32), (4, 32), (4, 5)]
    sal = interpret.saliency(net, x)
    cam = interpret.grad_cam(net, x, "features.3", target=[0, 1, 2, 3])
    assert sal.shape == cam.shape == (4, 187) and sal.dtype == cam.dtype == np.float32
    assert cam.min() >= 0 and np.all(np.isclose(cam.max(axis=1), 1) | (cam.max(axis=1) == 0))
    assert net.training and all(m.training for m in net.modules())
    assert all(torch.equal(p.grad, torch.ones_like(p)) for p in net.parameters())
    assert not any(m._forward_hooks for m in net.modules())
