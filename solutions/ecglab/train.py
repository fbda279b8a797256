"""Lesson 3 — training the CNN and measuring what it learnt.

The network of lesson 2 gives 5 logits per beat; training makes them point at the right class.
This module holds the pieces of that loop and of its evaluation:

1. weights that make the rare classes count as much as the common one  -> :func:`class_weights`
2. one pass over the training data: forward, loss, backward, step      -> :func:`train_one_epoch`
3. labels for many beats, in batches, without gradients                -> :func:`predict`
4. which class was taken for which                                     -> :func:`confusion_matrix`
5. precision, recall, specificity and F1 per class, macro-F1           -> :func:`classification_report`
6. a loss that focuses on the beats the model still gets wrong         -> :class:`FocalLoss`

The ready-made loop around them (epochs, progress bars, live curves, GPU when there is one) is
:mod:`ecglab.training`. Labels are class indices ``0 .. n_classes-1`` (AAMI N, S, V, F, Q for
MIT-BIH); a model's device is the device of its parameters, and data is moved there.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: F401 (the stubs do not use it yet; FocalLoss does)
from torch import nn


def class_weights(y, n_classes: int) -> torch.Tensor:
    """Per-class loss weights ``n / (n_classes * count_c)``: every class weighs as much in total.

    Exercise 3.1.

    TODO: Count the beats of each class and turn the counts into weights.

    APPROACH:
    1. Count each class (``np.bincount`` or ``torch.bincount`` with ``minlength=n_classes``, so
       that absent classes get a count of 0 too).
    2. The weight of class ``c`` is ``n / (n_classes * count_c)`` with ``n`` the number of labels:
       a class with half the average count gets weight 2.
    3. A class with no beats gets weight 0 (there is nothing to weigh, and no division by 0).
    4. Return a float32 tensor of shape ``(n_classes,)``, as ``nn.CrossEntropyLoss(weight=...)``
       takes it.

    EXAMPLE:
    >>> class_weights(np.array([0, 0, 0, 1]), n_classes=3)
    tensor([0.4444, 1.3333, 0.0000])

    HINT: labels outside ``0 .. n_classes-1`` are a mistake upstream: raise ``ValueError``.

    Parameters
    ----------
    y : ndarray or tensor, shape (n,), int
        Class labels.
    n_classes : int

    Returns
    -------
    tensor, shape (n_classes,), float32
        ``count_c * weight_c == n / n_classes`` for every class present.
    """
    ### BEGIN SOLUTION
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64).reshape(-1)
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {int(y.min())}..{int(y.max())}")
    counts = torch.bincount(y, minlength=n_classes).to(torch.float32)
    weights = torch.zeros(n_classes, dtype=torch.float32)
    present = counts > 0
    weights[present] = len(y) / (n_classes * counts[present])
    return weights
    ### END SOLUTION


def train_one_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer, loss_fn) -> float:
    """One pass over ``loader``: for each batch, forward, loss, backward, one optimizer step.

    Exercise 3.2.

    TODO: Train ``model`` on every batch once and return the mean loss per beat.

    APPROACH:
    1. ``model.train()``: layers such as dropout and batch norm behave differently in training.
    2. For each batch ``(X, y)`` of the loader, move both to the model's device
       (``next(model.parameters()).device``).
    3. ``optimizer.zero_grad()`` (gradients add up otherwise), ``loss = loss_fn(model(X), y)``,
       ``loss.backward()``, ``optimizer.step()``.
    4. Keep a running sum of ``loss.item() * len(y)`` and of ``len(y)``: the mean per beat, not
       per batch (a last, smaller batch must weigh less). ``.item()`` gives a float and keeps no
       graph in memory.

    EXAMPLE:
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(187, 5))
    >>> X, y = torch.rand(100, 1, 187), torch.randint(0, 5, (100,))
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=32)     # 32, 32, 32 and 4 beats
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> loss = train_one_epoch(model, loader, optimizer, nn.CrossEntropyLoss())
    >>> type(loss).__name__, model.training
    ('float', True)

    HINT: use the ``loss_fn`` you are given (it may be weighted, or a focal loss).

    Parameters
    ----------
    model : nn.Module
        Maps a batch of beats ``(B, 1, 187)`` to logits ``(B, n_classes)``.
    loader : iterable of (X, y)
        Batches: ``X`` float tensor ``(B, ...)``, ``y`` int64 tensor ``(B,)``.
    optimizer : torch.optim.Optimizer
        Over the model's (trainable) parameters.
    loss_fn : callable
        ``loss_fn(logits, y)`` -> a scalar tensor, the mean loss of the batch.

    Returns
    -------
    float
        The mean loss per beat over the epoch. The model is left in train mode.

    Raises
    ------
    ValueError
        When the loader gives no batches (there is no mean of nothing).
    """
    ### BEGIN SOLUTION
    device = next(model.parameters()).device
    model.train()
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    if seen == 0:
        raise ValueError("the loader gave no batches")
    return total / seen
    ### END SOLUTION


def predict(model: nn.Module, X, batch_size: int = 1024) -> np.ndarray:
    """The class the model gives each beat: batched, in eval mode, without gradients.

    Exercise 3.3.

    TODO: Run the model over ``X`` in batches and return the index of the largest logit.

    APPROACH:
    1. Remember ``model.training``, then ``model.eval()``: dropout off, batch norm uses its
       running statistics, so the same beat always gets the same answer.
    2. Make ``X`` a float32 tensor on the model's device; give a 2-D ``(N, 187)`` input its
       channel axis: ``(N, 1, 187)``.
    3. Under ``torch.no_grad()`` (no graph is kept: less memory, faster), run the model on
       ``X[i : i + batch_size]`` for ``i = 0, batch_size, ...`` and take ``argmax`` over the
       classes.
    4. Put the model back in the mode it was in, and return the labels as a numpy int64 array.

    EXAMPLE:
    >>> model = nn.Sequential(nn.Conv1d(1, 4, 5), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 183, 5))
    >>> labels = predict(model, np.zeros((3000, 187)), batch_size=1024)   # 3 forward passes
    >>> labels.shape, labels.dtype
    ((3000,), dtype('int64'))

    HINT: a ``try``/``finally`` puts the mode back even when the model raises.

    Parameters
    ----------
    model : nn.Module
        Logits ``(B, n_classes)`` for beats ``(B, 1, 187)``.
    X : ndarray or tensor, shape (N, 187) or (N, 1, 187)
    batch_size : int
        Beats per forward pass (bounds the memory used).

    Returns
    -------
    ndarray, shape (N,), int64
        Predicted class of each beat. The model's train/eval mode is as it was.
    """
    ### BEGIN SOLUTION
    device = next(model.parameters()).device
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():          # no graph is recorded
            labels = [model(X[i:i + batch_size].to(device)).argmax(dim=1).cpu()
                      for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
    ### END SOLUTION


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """How often each true class was predicted as each class.

    Exercise 3.4.

    TODO: Count the pairs (true class, predicted class).

    APPROACH:
    1. Check that ``y_true`` and ``y_pred`` have the same length and labels in
       ``0 .. n_classes-1`` (raise ``ValueError`` otherwise).
    2. Start from an int64 matrix of zeros, ``(n_classes, n_classes)``.
    3. Add 1 at ``[t, p]`` for every pair: ``np.add.at(cm, (y_true, y_pred), 1)``, or count
       ``t * n_classes + p`` with ``np.bincount(..., minlength=n_classes**2)``.

    EXAMPLE:
    >>> confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], n_classes=3)
    array([[1, 1, 0],
           [0, 1, 0],
           [0, 0, 1]])

    HINT: ``cm[y_true, y_pred] += 1`` counts a repeated pair only once.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,), int
    n_classes : int

    Returns
    -------
    ndarray, shape (n_classes, n_classes), int64
        Rows are true classes, columns predicted classes; the diagonal holds the correct answers.
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels, y_pred {len(y_pred)}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{name}: labels must lie in 0..{n_classes - 1}")
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)
    ### END SOLUTION


def classification_report(cm) -> dict:
    """Precision, recall, specificity and F1 of every class, accuracy and macro-F1, from ``cm``.

    Exercise 3.5.

    TODO: Read the counts of each class off the confusion matrix and combine them.

    APPROACH:
    1. For class ``c``: true positives ``TP = cm[c, c]``; false positives ``FP`` = the rest of
       column ``c``; false negatives ``FN`` = the rest of row ``c``; true negatives ``TN`` =
       everything else.
    2. ``precision = TP / (TP + FP)`` (of the beats called ``c``, how many are),
       ``recall = TP / (TP + FN)`` (sensitivity: of the ``c`` beats, how many were found),
       ``specificity = TN / (TN + FP)``, ``f1 = 2 PR / (P + R)``, ``support = TP + FN``.
    3. A ratio whose denominator is 0 is 0 (as scikit-learn's ``zero_division=0``).
    4. ``accuracy`` = trace / total; ``macro_f1`` = the mean F1 over all classes, so that
       every class counts the same however rare it is.

    EXAMPLE:
    >>> report = classification_report(np.array([[8, 2], [1, 9]]))
    >>> report["recall"]
    array([0.8, 0.9])
    >>> round(report["macro_f1"], 4), report["accuracy"]
    (0.8496, 0.85)

    HINT: numpy does the whole thing without a loop: ``np.diag(cm)``, ``cm.sum(axis=0)``,
    ``cm.sum(axis=1)``; divide with ``np.divide(a, b, out=np.zeros(...), where=b > 0)``.

    Parameters
    ----------
    cm : ndarray, shape (n_classes, n_classes), int
        Rows true, columns predicted (:func:`confusion_matrix`).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``specificity``, ``f1``: float64 arrays ``(n_classes,)``;
        ``support``: int64 array ``(n_classes,)``; ``accuracy``, ``macro_f1``: floats.
    """
    ### BEGIN SOLUTION
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fp),
            "f1": f1, "support": (tp + fn).astype(np.int64),
            "accuracy": float(ratio(tp.sum(), cm.sum())),
            "macro_f1": float(f1.mean()) if len(f1) else 0.0}
    ### END SOLUTION


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017) on logits: cross-entropy that fades for well-classified beats.

    Exercise 3.6.

    TODO: Weigh each beat's cross-entropy by ``(1 - p_true) ** gamma``.

    APPROACH:
    1. ``__init__``: keep ``gamma``; keep ``weight`` (per-class, or None) as a buffer
       (``self.register_buffer("weight", ...)``), so that ``.to(device)`` moves it with the loss.
    2. ``forward(logits, target)``: ``log_p = F.log_softmax(logits, dim=1)``, then the
       log-probability of each beat's true class, ``log_pt = log_p.gather(1, target[:, None])``,
       and ``pt = log_pt.exp()``.
    3. Per beat: ``-(1 - pt) ** gamma * log_pt``, times ``weight[target]`` if there is a weight.
    4. The mean over the beats — with a weight, the weighted mean: divide by the sum of
       ``weight[target]``, as ``nn.CrossEntropyLoss`` does, so that ``gamma=0`` gives exactly
       ``F.cross_entropy(logits, target, weight=weight)``.

    EXAMPLE:
    >>> logits, target = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 0])
    >>> FocalLoss(gamma=0.0)(logits, target)        # cross-entropy
    tensor(1.1269)
    >>> FocalLoss(gamma=2.0)(logits, target)        # the easy first beat hardly counts
    tensor(0.8259)

    HINT: ``F.log_softmax`` stays finite for large logits; ``torch.log(F.softmax(...))`` gives
    ``-inf`` (and NaN gradients) once a probability rounds to 0.

    Parameters
    ----------
    gamma : float
        Focusing parameter; 0 is cross-entropy, 2 is the usual choice.
    weight : tensor or array-like, shape (n_classes,), optional
        Per-class weights, as for ``nn.CrossEntropyLoss``.

    Shapes: ``logits (N, n_classes)``, ``target (N,)`` int64 -> a scalar tensor.
    """

    def __init__(self, gamma: float = 2.0, weight=None):
        super().__init__()
        ### BEGIN SOLUTION
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None
                             else torch.as_tensor(weight, dtype=torch.float32))
        ### END SOLUTION

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - log_pt.exp()) ** self.gamma * log_pt
        if self.weight is None:
            return loss.mean()
        w = self.weight.to(logits.dtype)[target]
        return (w * loss).sum() / w.sum()
        ### END SOLUTION
