"""The worker's own pieces, tested in this process: what counts as changing an input (arrays,
tensors, modules), and the plain-data encoding of results."""

from __future__ import annotations

import numpy as np
import torch

from autograder import worker


def changed(value, change) -> bool:
    before = worker.snapshot(value)
    change(value)
    return not worker.unchanged(before, value)


def test_an_untouched_model_or_tensor_is_unchanged():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout())
    assert not changed(model, lambda m: m(torch.zeros(2, 4)))
    assert not changed(torch.ones(3), lambda t: t + 1)
    assert not changed(np.ones(3), lambda a: a * 2)


def test_changes_to_a_model_are_seen():
    def new_model():
        return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout())

    assert changed(new_model(), lambda m: m.eval())                         # training flag
    assert changed(new_model(), lambda m: m[0].requires_grad_(False))       # frozen
    assert changed(new_model(), lambda m: torch.nn.init.zeros_(m[0].weight.data))   # weights


def test_changes_to_tensors_and_arrays_are_seen():
    assert changed(torch.ones(3), lambda t: t.add_(1))
    assert changed(torch.ones(3), lambda t: t.requires_grad_(True))
    assert changed(np.ones(3), lambda a: a.__setitem__(0, 5))


def test_a_result_is_plain_data():
    value = {"a": np.arange(3, dtype=np.int64), "t": torch.ones(2), "n": np.float32(1.5),
             "m": torch.nn.Linear(2, 2)}
    back = worker.decode(__import__("json").dumps(worker.encode(value)))
    assert np.array_equal(back["a"], np.arange(3)) and back["a"].dtype == np.int64
    assert isinstance(back["t"], worker.Tensorlike) and back["t"].dtype == "torch.float32"
    assert back["n"] == np.float32(1.5)
    assert isinstance(back["m"], worker.Opaque) and back["m"].type_name == "Linear"
