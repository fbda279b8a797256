"""Ready-made training around the lesson-3 exercises: device, batches, epochs, progress, curves.

The exercises of :mod:`ecglab.train` are the pieces (one epoch, prediction, metrics); this module
runs them. It takes them as arguments, so that a lesson passes the student's own functions and
:mod:`ecglab.reproduce` the reference's:

>>> from ecglab import training, train, models
>>> model = models.KachueeNet()
>>> history = training.fit(model, X_train, y_train, epochs=5, epoch_fn=train.train_one_epoch,
...                        evaluate=training.scorer(X_val, y_val, train.predict))

* :func:`device` — the GPU when there is one (Colab), else the CPU; everything else follows the
  model's device, so results agree to a tolerance on both.
* :func:`loader` — seeded, shuffled batches of ``(B, 1, 187)`` float32 beats and int64 labels.
* :func:`fit` — epochs with a progress bar over the batches (the loader is wrapped, the epoch
  function does not know) and :class:`LiveCurves` that redraw in a notebook after each epoch.
* :func:`fine_tune` — lesson 4: the optimizer gets only the trainable parameters, and frozen
  batch-norm layers stay in eval mode (:func:`frozen_norms_in_eval`).
"""

from __future__ import annotations

import contextlib
import time
import types
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d)


def device() -> torch.device:
    """``cuda`` when a GPU is there, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and GPU) and numpy's legacy generator, for repeatable runs."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def as_beats(X) -> torch.Tensor:
    """Beats as a float32 tensor of shape ``(N, 1, L)`` (from ``(N, L)`` or ``(N, 1, L)``)."""
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    return X.unsqueeze(1) if X.ndim == 2 else X


def loader(X, y, batch_size: int = 256, shuffle: bool = True, seed: int = 0) -> DataLoader:
    """Batches ``(X (B, 1, L) float32, y (B,) int64)``; shuffled with its own seeded generator."""
    dataset = TensorDataset(as_beats(X), torch.as_tensor(np.asarray(y), dtype=torch.int64))
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def balanced_subset(y: np.ndarray, per_class, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded sample with at most ``per_class`` beats of each class.

    For short runs: the rare classes keep every beat, the common ones are thinned.

    Parameters
    ----------
    y : ndarray, shape (n,), int
    per_class : int or sequence of int
        The cap of every class, or one cap per class (``[2500, 1200, ...]``: class 0 at most
        2,500 beats, class 1 at most 1,200, ...).
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    caps = per_class if np.ndim(per_class) else [per_class] * (int(y.max()) + 1 if len(y) else 0)
    keep = [rng.permutation(np.flatnonzero(y == c))[:caps[c]] for c in np.unique(y)]
    return np.sort(np.concatenate(keep)).astype(np.int64) if keep else np.zeros(0, np.int64)


def scorer(X, y, predict_fn: Callable, report_fn: Callable | None = None,
           cm_fn: Callable | None = None, n_classes: int | None = None) -> Callable:
    """An ``evaluate(model) -> dict`` for :func:`fit`: accuracy on ``(X, y)``, and macro-F1 when
    ``report_fn`` and ``cm_fn`` (exercises 3.5 and 3.4) are given."""
    y = np.asarray(y)
    n_classes = n_classes or int(y.max()) + 1

    def evaluate(model: nn.Module) -> dict:
        pred = np.asarray(predict_fn(model, X))
        scores = {"accuracy": float(np.mean(pred == y))}
        if report_fn is not None and cm_fn is not None:
            scores["macro_f1"] = float(report_fn(cm_fn(y, pred, n_classes))["macro_f1"])
        return scores

    return evaluate


@dataclass
class History:
    """What :func:`fit` measured: one dict per epoch (``epoch``, ``loss``, ``seconds`` and the
    scores of ``evaluate``), and the device it ran on."""

    epochs: list = field(default_factory=list)
    device: str = "cpu"

    def column(self, key: str) -> list:
        return [e.get(key) for e in self.epochs]

    @property
    def seconds(self) -> float:
        return float(sum(e["seconds"] for e in self.epochs))


class LiveCurves:
    """Loss and scores per epoch, redrawn in place in a notebook after every epoch.

    In a notebook the figure is shown once and then updated (``display_id``); executed by
    nbconvert it ends as the last, static figure. Outside IPython nothing is drawn.
    """

    def __init__(self, title: str = "training"):
        self.title, self.handle, self.fig = title, None, None

    def update(self, history: History) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        import matplotlib.pyplot as plt
        if self.fig is None:
            self.fig, self.axes = plt.subplots(1, 2, figsize=(9, 3))
            plt.close(self.fig)           # shown through the display handle only
        loss_ax, score_ax = self.axes
        epochs = history.column("epoch")
        loss_ax.clear()
        loss_ax.plot(epochs, history.column("loss"), "o-")
        loss_ax.set(xlabel="epoch", ylabel="mean training loss per beat", title=self.title)
        score_ax.clear()
        for key in ("accuracy", "macro_f1"):
            values = history.column(key)
            if any(v is not None for v in values):
                score_ax.plot(epochs, values, "o-", label=f"validation {key.replace('_', '-')}")
        score_ax.set(xlabel="epoch", ylim=(0, 1.02))
        if score_ax.lines:
            score_ax.legend(loc="lower right")
        self.fig.tight_layout()
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)


def _progress(batches, desc: str, show: bool):
    if not show:
        return batches
    from tqdm.auto import tqdm
    return tqdm(batches, desc=desc, unit="batch", leave=False)


def fit(model: nn.Module, X, y, *, epochs: int, epoch_fn: Callable, loss_fn=None,
        evaluate: Callable | None = None, lr: float = 1e-3, batch_size: int = 256, seed: int = 0,
        optimizer: torch.optim.Optimizer | None = None, one_cycle: bool = True,
        progress: bool = True, live: LiveCurves | None = None,
        on: torch.device | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs on ``(X, y)`` with ``epoch_fn`` (exercise 3.2).

    Parameters
    ----------
    model : nn.Module
        Moved to ``on`` (default :func:`device`) before training.
    X : ndarray, shape (n, 187) or (n, 1, 187); y : ndarray, shape (n,), int
    epoch_fn : callable
        ``epoch_fn(model, loader, optimizer, loss_fn) -> mean loss per beat``.
    loss_fn : callable, optional
        Default ``nn.CrossEntropyLoss()``; moved to the model's device when it is a module.
    evaluate : callable, optional
        ``evaluate(model) -> {"accuracy": ..., ...}`` after each epoch (see :func:`scorer`).
    optimizer : torch.optim.Optimizer, optional
        Default Adam over the trainable parameters only.
    one_cycle : bool
        The learning rate follows one cycle (``OneCycleLR``: up to ``lr`` in the first 30 % of
        the steps, then down to almost 0), stepped after every optimizer step, so that a few
        epochs go a long way; without it, ``lr`` throughout.
    progress : bool
        A progress bar over each epoch's batches.
    live : LiveCurves, optional
        Curves redrawn after every epoch.

    Returns
    -------
    History
    """
    seed_everything(seed)
    on = on or device()
    model.to(on)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    if isinstance(loss_fn, nn.Module):
        loss_fn.to(on)
    if optimizer is None:
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    history = History(device=str(on))
    batches = loader(X, y, batch_size=batch_size, shuffle=True, seed=seed)
    handle = None
    if one_cycle and epochs * len(batches):
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr,
                                                       total_steps=epochs * len(batches))
        # stepped by the optimizer itself, so that any epoch function (yours) drives it
        handle = optimizer.register_step_post_hook(
            lambda *_: schedule.step() if schedule.last_epoch < schedule.total_steps - 1 else None)
    try:
        _epochs(model, batches, optimizer, loss_fn, epochs, epoch_fn, evaluate, progress, live,
                history)
    finally:
        if handle is not None:
            handle.remove()
    return history


def _epochs(model, batches, optimizer, loss_fn, epochs, epoch_fn, evaluate, progress, live,
            history) -> None:
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        loss = epoch_fn(model, _progress(batches, f"epoch {epoch}/{epochs}", progress),
                        optimizer, loss_fn)
        row = {"epoch": epoch, "loss": float(loss)}
        if evaluate is not None:
            row.update(evaluate(model))
        row["seconds"] = round(time.perf_counter() - started, 2)
        history.epochs.append(row)
        if live is not None:
            live.update(history)


@contextlib.contextmanager
def frozen_norms_in_eval(model: nn.Module):
    """While active, ``model.train()`` leaves normalisation layers whose parameters are all
    frozen in eval mode, so that fine-tuning does not change their running statistics.

    (``model.train()`` would otherwise switch every batch-norm layer back to training, which
    updates its running mean and variance even though its weights are frozen.)
    """

    def train(self, mode: bool = True):
        nn.Module.train(self, mode)
        for module in self.modules():
            params = list(module.parameters(recurse=False))
            if isinstance(module, NORM_LAYERS) and params and not any(p.requires_grad for p in params):
                module.eval()
        return self

    model.train = types.MethodType(train, model)
    try:
        model.train(model.training)
        yield model
    finally:
        del model.train


def fine_tune(model: nn.Module, X, y, *, epochs: int, epoch_fn: Callable, **kwargs) -> History:
    """:func:`fit` for a partly frozen model (lesson 4): Adam over the trainable parameters
    only, frozen normalisation layers kept in eval mode. Same arguments as :func:`fit`."""
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("every parameter is frozen: nothing to fine-tune")
    with frozen_norms_in_eval(model):
        return fit(model, X, y, epochs=epochs, epoch_fn=epoch_fn, **kwargs)


# --- keeping a trained model between lessons ------------------------------------------------------

def checkpoint_dir():
    """Where trained models are kept between lessons: ``$ECGLAB_CACHE``, else
    ``$XDG_CACHE_HOME/ecg-course``, else ``~/.cache/ecg-course``."""
    import os
    from pathlib import Path
    if os.environ.get("ECGLAB_CACHE"):
        return Path(os.environ["ECGLAB_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ecg-course"


def save_checkpoint(model: nn.Module, name: str, **meta):
    """Save ``model``'s weights and ``meta`` (data source, epochs, scores...) as ``<name>.pt``
    in :func:`checkpoint_dir` and return the path; lesson 4 starts from the network lesson 3
    trained."""
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pt"
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "class": type(model).__name__, "meta": meta}, path)
    return path


def load_checkpoint(model: nn.Module, name: str) -> dict | None:
    """Load ``<name>.pt`` into ``model`` and return its ``meta``; None (model untouched) when
    there is no such checkpoint or it does not fit the model."""
    path = checkpoint_dir() / f"{name}.pt"
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(saved["state_dict"])
    except (RuntimeError, KeyError, OSError, ValueError, EOFError):
        return None
    return dict(saved.get("meta") or {})
