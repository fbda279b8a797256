"""The ready-made training loop (``ecglab.training``): it trains, schedules, fine-tunes a partly
frozen model without touching what is frozen, and keeps models between lessons. The exercise
functions it runs are the reference's (a student's are graded by the checks, not here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from autograder.reference import reference_module
from ecglab import training

train = reference_module("train")
transfer = reference_module("transfer")


def _toy(n=240, seed=0):
    """Two classes that a small network separates easily: a bump early or late in the beat."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.arange(187)
    X = np.exp(-0.5 * ((t[None] - np.where(y, 130, 50)[:, None]) / 6.0) ** 2)
    return (X + 0.05 * rng.normal(size=X.shape)).astype(np.float32), y


def _net(norm=False):
    layers = [nn.Conv1d(1, 4, 7, padding=3)] + ([nn.BatchNorm1d(4)] if norm else [])
    return nn.Sequential(*layers, nn.ReLU(), nn.AdaptiveMaxPool1d(8), nn.Flatten(),
                         nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2))


def test_fit_learns_and_records_every_epoch():
    X, y = _toy()
    torch.manual_seed(0)
    model = _net()
    evaluate = training.scorer(X, y, train.predict, train.classification_report,
                               train.confusion_matrix, n_classes=2)
    history = training.fit(model, X, y, epochs=4, epoch_fn=train.train_one_epoch, lr=1e-2,
                           batch_size=32, evaluate=evaluate, progress=False)
    assert history.column("epoch") == [1, 2, 3, 4]
    assert history.column("loss")[-1] < history.column("loss")[0]
    assert history.epochs[-1]["accuracy"] > 0.9 and 0 < history.epochs[-1]["macro_f1"] <= 1
    assert history.device == str(training.device()) and history.seconds > 0


def test_fit_is_repeatable_with_a_seed():
    X, y = _toy()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = _net()
        training.fit(model, X, y, epochs=2, epoch_fn=train.train_one_epoch, progress=False, seed=3)
        runs.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_one_cycle_drives_the_learning_rate_through_any_epoch_function():
    X, y = _toy(64)
    model = _net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seen = []

    def epoch_fn(model, loader, optimizer, loss_fn):
        for X, y in loader:
            seen.append(optimizer.param_groups[0]["lr"])
            optimizer.zero_grad()
            loss_fn(model(X), y).backward()
            optimizer.step()
        return 0.0

    training.fit(model, X, y, epochs=3, epoch_fn=epoch_fn, optimizer=optimizer, lr=5e-3,
                 batch_size=16, progress=False)
    assert max(seen) == pytest.approx(5e-3, rel=0.05)          # up to lr ...
    assert seen[0] < 1e-3 and seen[-1] < 1e-3                  # ... from low, back to low
    assert not optimizer._optimizer_step_post_hooks            # the schedule's hook is gone


def test_fine_tune_leaves_frozen_weights_and_batch_norm_statistics_alone():
    X, y = _toy()
    torch.manual_seed(0)
    model = _net(norm=True)
    training.fit(model, X, y, epochs=1, epoch_fn=train.train_one_epoch, progress=False)
    transfer.set_trainable(transfer.replace_head(model, 2), 2)    # the two Linear layers
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    trainable = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    stats = {n: b.clone() for n, b in model.named_buffers()}
    X2, y2 = _toy(seed=1)
    training.fine_tune(model, 1.0 - X2, y2, epochs=2, epoch_fn=train.train_one_epoch, lr=1e-2,
                       progress=False)
    assert set(frozen) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    for name, before in frozen.items():
        assert torch.equal(before, dict(model.named_parameters())[name]), name
    for name, before in stats.items():     # running mean and variance of the frozen batch norm
        assert torch.equal(before, dict(model.named_buffers())[name]), name
    assert any(not torch.equal(b, dict(model.named_parameters())[n]) for n, b in trainable.items())
    assert model.training and not model[1].training    # the frozen batch norm stayed in eval
    assert "train" not in vars(model)                  # model.train() is itself again:
    assert model.train()[1].training


def test_without_the_guard_train_mode_would_update_frozen_statistics():
    """The reason for frozen_norms_in_eval: plain model.train() moves a frozen batch norm's
    running statistics (the seed project's bug)."""
    X, y = _toy()
    model = _net(norm=True)
    transfer.set_trainable(model, 1)
    before = model[1].running_mean.clone()
    training.fit(model, X, y, epochs=1, epoch_fn=train.train_one_epoch, progress=False)
    assert not torch.equal(before, model[1].running_mean)


def test_fine_tune_refuses_a_model_with_nothing_to_train():
    model = transfer.set_trainable(_net(), 0)
    with pytest.raises(ValueError, match="frozen"):
        training.fine_tune(model, *_toy(32), epochs=1, epoch_fn=train.train_one_epoch)


def test_balanced_subset_caps_each_class():
    y = np.array([0] * 50 + [1] * 5 + [2] * 20)
    picked = training.balanced_subset(y, per_class=10, seed=0)
    assert np.bincount(y[picked]).tolist() == [10, 5, 10]
    assert np.all(np.diff(picked) > 0)
    assert np.bincount(y[training.balanced_subset(y, [30, 2, 20])]).tolist() == [30, 2, 20]


def test_checkpoints_round_trip_and_refuse_a_model_they_do_not_fit(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGLAB_CACHE", str(tmp_path))
    model = _net()
    path = training.save_checkpoint(model, "toy", source="synthetic", epochs=2)
    assert path.parent == tmp_path
    other = _net()
    assert training.load_checkpoint(other, "toy") == {"source": "synthetic", "epochs": 2}
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                   other.state_dict().values()))
    assert training.load_checkpoint(nn.Linear(3, 2), "toy") is None
    assert training.load_checkpoint(other, "missing") is None
