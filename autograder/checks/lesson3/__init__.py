"""Checks of lesson 3 — training and evaluation (``ecglab/train.py``, exercises 3.1-3.6).

The metrics (3.1, 3.4, 3.5) are functions of arrays: they are called directly and compared with
the reference and, where scikit-learn is installed, with scikit-learn's own functions on the
same input (``Call.against``: ``compute_class_weight``, ``confusion_matrix``,
``precision_recall_fscore_support``), on random labels, absent classes and empty predictions.

The functions of a model are graded by behaviour through probes (:mod:`autograder.probes`):

* ``train_one_epoch`` trains a small model made from a spec, under a fixed seed, on fixed
  batches, with SGD: the parameters after the epoch must be the reference's (to a tolerance),
  the value the mean loss *per beat* (batches of 8, 8 and 3 beats tell it from the mean per
  batch), one optimizer step per batch, gradients cleared before each (several batches tell),
  the model in train mode (it starts in eval mode and has batch norm, so eval mode gives other
  parameters), and the loss function it is given used (weighted, label smoothing, a plain
  function);
* ``predict`` runs a model with dropout and batch norm: every forward pass must run without
  gradients, in eval mode, with at most ``batch_size`` beats, on float32 beats whatever the
  input's dtype, and the model's mode must be put back, also when the model raises;
* ``FocalLoss`` is compared on its value and on the gradient it sends to the logits; with
  ``gamma=0`` also with ``torch.nn.functional.cross_entropy``; its weight may come as a list or
  an array, and must move with the loss (``loss_fn.to(device)``, as the training loop does).

The confusion matrix must refuse, not miscount, a label of ``-1`` or ``n_classes`` and a
``y_pred`` of length 1 (which ``t * n_classes + p`` would broadcast), and count uint8 labels of
20 classes without overflow; the report must refuse a matrix that is not square.
"""

from __future__ import annotations

import numpy as np

from ...cases import (Case, call, predicted_like, probe, same_counts, same_loss, same_report,
                      same_tensor, trained_like)
from ...grader import Context, check
from .. import ecg


def _sklearn():
    """scikit-learn's metrics, or None where it is not installed (then only the reference counts)."""
    try:
        from sklearn import metrics
        from sklearn.utils.class_weight import compute_class_weight
    except ImportError:
        return None
    return metrics, compute_class_weight


def _labels(rng, n, n_classes, p=None):
    return rng.choice(n_classes, size=n, p=p).astype(np.int64)


@check("3.1")
def class_weights_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    exact = same_tensor("torch.float32", atol=1e-6)
    sk = _sklearn()

    def checked(y, n):
        c = call(y, n)
        if sk is not None and len(y):
            present = np.unique(y)
            balanced = sk[1]("balanced", classes=present, y=y)
            # scikit-learn divides by the number of classes present; the course by n_classes
            full = np.zeros(n)
            full[present] = balanced * len(present) / n
            c.against(full.astype(np.float32), "scikit-learn's compute_class_weight('balanced') "
                                               "rescaled to n_classes")
        return c

    skewed = _labels(rng, 500, 5, p=[0.83, 0.03, 0.07, 0.01, 0.06])
    return [
        Case("balanced classes all get weight 1",
             [checked(np.repeat(np.arange(5), 20), 5), checked(np.array([1, 0, 1, 0]), 2)], exact,
             hint="n / (n_classes * count_c): with equal counts that is 1 for every class"),
        Case("rare classes weigh more: the MIT-BIH class mix",
             [checked(skewed, 5), checked(np.array([0, 0, 0, 1]), 2)], exact,
             hint="weight_c = n / (n_classes * count_c), where n is the number of labels"),
        Case("a float32 tensor of shape (n_classes,)",
             [checked(np.array([2, 2, 0]), 3)], exact,
             hint="torch.tensor(weights, dtype=torch.float32), one entry per class"),
        Case("an absent class gets weight 0, not inf",
             [checked(np.array([0, 0, 2, 2, 2]), 4), checked(np.array([4, 4, 4]), 5)], exact,
             hint="count the classes with minlength=n_classes, and give count 0 the weight 0"),
        Case("labels as a torch tensor",
             [probe("call_with_tensors", skewed[:100], 5)], exact,
             hint="np.asarray(y) or torch.as_tensor(y) accepts both"),
        Case("a label outside 0..n_classes-1 raises ValueError",
             [call(np.array([0, 1, 5]), 5), call(np.array([0, -1]), 2)], exact,
             hint="check y.min() >= 0 and y.max() < n_classes, and raise ValueError otherwise"),
    ]


def _cnn(n_classes=3, norm=True, dropout=0.0):
    """A small CNN for beats of 187 samples (a spec for probes.make_model)."""
    layers = [["Conv1d", [1, 4, 5]]]
    layers += [["BatchNorm1d", [4]]] if norm else []
    layers += [["ReLU", []], ["MaxPool1d", [8]], ["Flatten", []]]
    layers += [["Dropout", [dropout]]] if dropout else []
    return layers + [["Linear", [4 * 22, n_classes]]]


def _batches(beats, labels, sizes):
    out, start = [], 0
    for size in sizes:
        idx = np.arange(start, start + size) % len(beats)
        out.append((beats[idx][:, None, :], labels[idx]))
        start += size
    return out


@check("3.2")
def train_one_epoch_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    label, beats = ecg.beats(ctx.data_dir)
    y = _labels(rng, len(beats), 3)
    same = trained_like()
    plain = _cnn(norm=False)
    weight = [0.5, 2.0, 1.0]
    return [
        Case("one batch: the parameters after one SGD step",
             [probe("train_epoch", plain, _batches(beats, y, [8]), train=True)], same,
             hint="optimizer.zero_grad(); loss = loss_fn(model(X), y); loss.backward(); optimizer.step()"),
        Case("batches of 8, 8 and 3 beats: the mean loss per beat, not per batch",
             [probe("train_epoch", plain, _batches(beats, y, [8, 8, 3]), train=True)], same,
             hint="add loss.item() * len(y) per batch and divide by the number of beats: a last, "
                  "smaller batch must weigh less"),
        Case("five batches: gradients are cleared before every step",
             [probe("train_epoch", plain, _batches(beats, y, [6] * 5), lr=0.05, train=True)], same,
             hint="backward() adds to .grad; optimizer.zero_grad() before each backward pass"),
        Case("the model is put in train mode (it starts in eval mode here, with batch norm)",
             [probe("train_epoch", _cnn(), _batches(beats, y, [8, 8]), train=False)], same,
             hint="model.train() before the first batch: batch norm normalises with the batch's "
                  "statistics in training and with its running statistics in eval mode"),
        Case("the loss function given: weighted cross-entropy, label smoothing, a plain function",
             [probe("train_epoch", plain, _batches(beats, y, [8, 5]), loss="cross_entropy",
                    weight=weight, train=True),
              probe("train_epoch", plain, _batches(beats, y, [8, 5]), loss="label_smoothing",
                    train=True),
              probe("train_epoch", plain, _batches(beats, y, [8, 5]), loss="doubled", train=True)],
             same, hint="call loss_fn(logits, y), whatever it is; do not use a loss of your own"),
        Case("a DataLoader as the loader, SGD with momentum",
             [probe("train_epoch", _cnn(), _batches(beats, y, [20]), data_loader=8, momentum=0.9)],
             same, hint="iterate over the loader: for X, y in loader"),
        Case(f"ECG beats ({label}), five classes, two epochs' worth of batches",
             [probe("train_epoch", _cnn(5), _batches(beats, _labels(rng, len(beats), 5), [16, 16, 16, 7]),
                    lr=0.02, momentum=0.5)], same),
        Case("a loader with no batches raises ValueError (no mean of nothing)",
             [probe("train_epoch", plain, [])], same,
             hint="count the beats you saw; if there were none, raise ValueError"),
    ]


@check("3.3")
def predict_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    label, beats = ecg.beats(ctx.data_dir)
    same = predicted_like()
    model = _cnn(5, norm=True, dropout=0.5)
    many = np.concatenate([beats] * (2500 // len(beats) + 1))[:2500]
    return [
        Case("labels for (N, 1, 187) beats: eval mode, no gradients",
             [probe("predict_on", model, beats[:20, None, :])], same,
             hint="model.eval() and torch.no_grad(); argmax over the classes (dim=1)"),
        Case("beats as (N, 187): the channel axis is added",
             [probe("predict_on", model, beats[:20])], same,
             hint="X.unsqueeze(1) (or X[:, None, :]) when X.ndim == 2"),
        Case("a tensor input as well as a numpy one",
             [probe("predict_on", model, beats[:12], tensor=True)], same,
             hint="torch.as_tensor(X, dtype=torch.float32) takes both"),
        Case("float64 beats (as np.loadtxt reads them) for a float32 model",
             [probe("predict_on", model, beats[:12], dtype="float64"),
              probe("predict_on", model, beats[:6], tensor=True, dtype="float64")], same,
             hint="the model's weights are float32: make X float32 before the forward pass"),
        Case("batches of at most batch_size beats",
             [probe("predict_on", model, beats[:50], batch_size=16),
              probe("predict_on", model, beats[:7], batch_size=3)], same,
             hint="for i in range(0, len(X), batch_size): model(X[i : i + batch_size])"),
        Case("the default batch size, 1024, on 2,500 beats",
             [probe("predict_on", model, many)], same),
        Case("the model's mode is put back (train stays train, eval stays eval)",
             [probe("predict_on", model, beats[:10], train=True),
              probe("predict_on", model, beats[:10], train=False)], same,
             hint="was_training = model.training, and model.train(was_training) at the end"),
        Case("the mode is put back even when the model raises (beats of the wrong length)",
             [probe("predict_on", model, beats[:8, :150], batch_size=4, model_raises=True)], same,
             hint="try: ... finally: model.train(was_training)"),
        Case("labels are a numpy int64 array; no beats give an empty one",
             [probe("predict_on", _cnn(5, norm=False), beats[:5]),
              probe("predict_on", _cnn(5, norm=False), beats[:0])], same,
             hint="torch.cat the batches' argmax and .cpu().numpy(); 0 beats: np.zeros(0, np.int64)"),
        Case(f"ECG beats ({label})",
             [probe("predict_on", _cnn(5, dropout=0.3), beats, batch_size=int(rng.integers(5, 40)))],
             same),
    ]


def _cm_call(sk, y_true, y_pred, n):
    c = call(np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64), n)
    if sk is not None and len(y_true):
        c.against(sk[0].confusion_matrix(y_true, y_pred, labels=np.arange(n)).astype(np.int64),
                  "scikit-learn's confusion_matrix")
    return c


@check("3.4")
def confusion_matrix_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    sk = _sklearn()
    exact = same_counts()
    random = [(_labels(rng, 300, 5), _labels(rng, 300, 5)) for _ in range(3)]
    return [
        Case("rows are true classes, columns predicted",
             [_cm_call(sk, [0, 0, 1, 2], [0, 1, 1, 2], 3), _cm_call(sk, [1, 1, 1], [0, 0, 2], 3)],
             exact, hint="cm[true, predicted]: row = the true class"),
        Case("repeated pairs are all counted",
             [_cm_call(sk, [0, 0, 0, 1, 1], [1, 1, 1, 0, 0], 2)], exact,
             hint="cm[y_true, y_pred] += 1 counts a repeated pair once; np.add.at counts them all"),
        Case("300 random labels, 5 classes", [_cm_call(sk, t, p, 5) for t, p in random], exact),
        Case("a class that is absent gets a row and a column of zeros",
             [_cm_call(sk, [0, 0, 4], [0, 4, 4], 5), _cm_call(sk, [2, 2], [2, 2], 4)], exact,
             hint="the matrix is (n_classes, n_classes) whatever labels occur"),
        Case("no labels at all: a matrix of zeros",
             [_cm_call(sk, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)], exact,
             hint="np.zeros((n_classes, n_classes), dtype=np.int64) to start from"),
        Case("labels as lists, also empty ones",
             [call([1, 0, 1], [1, 1, 1], 2), call([], [], 3)], exact,
             hint="np.asarray(y_true, dtype=np.int64) first (an empty list is a float array)"),
        Case("labels stored as uint8, 20 classes",
             [call(_labels(rng, 200, 20).astype(np.uint8), _labels(rng, 200, 20).astype(np.uint8), 20),
              call(np.array([19, 19, 18], np.uint8), np.array([19, 18, 19], np.uint8), 20)], exact,
             hint="make the labels int64 before any arithmetic on them: 19 * 20 + 19 does not fit "
                  "in a uint8"),
        Case("a label outside 0..n_classes-1, or lengths that differ: ValueError",
             [call(np.array([0, 3]), np.array([0, 1]), 3), call(np.array([0, 1]), np.array([-1, 1]), 3),
              call(np.array([0, 1, 1]), np.array([0, 1]), 3)], exact,
             hint="check the lengths and the range of both and raise ValueError"),
        Case("a label of exactly n_classes or -1, or one predicted label for three beats: "
             "ValueError, not a count in another cell",
             [call(np.array([0, 0]), np.array([3, 0]), 3), call(np.array([1, 2]), np.array([-1, 1]), 3),
              call(np.array([2, 0]), np.array([1, 3]), 3), call(np.array([3, 0]), np.array([0, 0]), 3),
              call(np.array([0, 1, 2]), np.array([1]), 3)], exact,
             hint="check 0 <= label < n_classes for both arrays, and that they have the same "
                  "length, before counting"),
    ]


def _report_oracle(sk, cm):
    """scikit-learn's answer for a confusion matrix, from the labels it counts."""
    n = len(cm)
    t = np.repeat(np.repeat(np.arange(n), n), cm.reshape(-1))
    p = np.repeat(np.tile(np.arange(n), n), cm.reshape(-1))
    labels = np.arange(n)
    precision, recall, f1, support = sk[0].precision_recall_fscore_support(
        t, p, labels=labels, zero_division=0)
    return {"precision": precision.astype(np.float64), "recall": recall.astype(np.float64),
            "f1": f1.astype(np.float64), "support": support.astype(np.int64),
            "accuracy": float(sk[0].accuracy_score(t, p)) if len(t) else 0.0,
            "macro_f1": float(sk[0].f1_score(t, p, labels=labels, average="macro", zero_division=0))}


@check("3.5")
def classification_report_cases(ctx: Context) -> list[Case]:
    rng = ctx.rng
    sk = _sklearn()
    same = same_report()

    def checked(cm):
        cm = np.asarray(cm, dtype=np.int64)
        c = call(cm)
        if sk is not None and cm.sum():
            c.against(_report_oracle(sk, cm), "scikit-learn's precision_recall_fscore_support")
        return c

    random = [np.bincount(_labels(rng, 400, 5) * 5 + _labels(rng, 400, 5), minlength=25).reshape(5, 5)
              for _ in range(2)]
    skewed = np.array([[900, 5, 3, 1, 2], [20, 15, 1, 0, 0], [6, 1, 60, 2, 1], [3, 0, 4, 1, 0],
                       [2, 0, 1, 0, 70]])
    return [
        Case("two classes: precision, recall, specificity, F1, support",
             [checked([[8, 2], [1, 9]]), checked([[5, 0], [5, 0]])], same,
             hint="precision = TP / column sum, recall = TP / row sum, specificity = TN / (TN + FP)"),
        Case("accuracy and macro-F1: the mean F1, every class counting the same",
             [checked(skewed)], same,
             hint="accuracy = trace / total; macro_f1 = f1.mean() over all classes"),
        Case("random confusion matrices, 5 classes", [checked(cm) for cm in random], same),
        Case("a class never predicted: precision 0, not NaN",
             [checked([[4, 0, 1], [2, 0, 1], [0, 0, 3]])], same,
             hint="0 / 0 is 0 here: np.divide(a, b, out=np.zeros_like(a), where=b > 0)"),
        Case("a class that never occurs: recall and F1 0, support 0",
             [checked([[6, 1, 0], [0, 3, 0], [0, 0, 0]])], same),
        Case("an empty matrix (no beats): every ratio 0",
             [checked(np.zeros((3, 3), np.int64))], same),
        Case("support is an int64 array, the ratios float arrays, accuracy and macro_f1 floats",
             [checked([[3, 1], [0, 2]])], same,
             hint="support = cm.sum(axis=1); float(...) for the two single numbers"),
        Case("the matrix as a list of lists", [call([[7, 1, 0], [2, 5, 1], [0, 3, 4]])], same,
             hint="np.asarray(cm) first"),
        Case("a matrix that is not square (or not 2-D) raises ValueError",
             [call(np.array([[1, 2, 3]])), call(np.array([[4, 1, 0], [2, 3, 1]])),
              call(np.zeros((1, 0), np.int64)), call(np.array([3, 1, 2]))], same,
             hint="check cm.ndim == 2 and cm.shape[0] == cm.shape[1], and raise ValueError "
                  "otherwise"),
    ]


@check("3.6")
def focal_loss_cases(ctx: Context) -> list[Case]:
    import torch
    import torch.nn.functional as F

    rng = ctx.rng
    same = same_loss()

    def logits(n, k=5, scale=2.0):
        return (scale * rng.normal(size=(n, k))).astype(np.float32)

    def cross_entropy(x, t, weight=None):
        x = torch.tensor(x, requires_grad=True)
        w = None if weight is None else torch.tensor(weight, dtype=torch.float32)
        loss = F.cross_entropy(x, torch.tensor(t), weight=w)
        loss.backward()
        return {"value": loss.detach(), "logits_gradient": x.grad.numpy().astype(np.float64)}

    x1, t1 = logits(16), _labels(rng, 16, 5)
    x2, t2 = logits(12, 3), _labels(rng, 12, 3)
    w3 = np.array([0.2, 3.0, 1.0], np.float32)
    big = np.array([[1000.0, -1000.0, 0.0], [-500.0, 400.0, 0.0]], np.float32)
    return [
        Case("gamma=0 is cross-entropy",
             [probe("loss_on", x1, t1, kwargs={"gamma": 0.0}).against(
                 cross_entropy(x1, t1), "torch.nn.functional.cross_entropy")], same,
             hint="-(1 - p_t) ** gamma * log(p_t) is -log(p_t) for gamma = 0"),
        Case("gamma=2 (the default): easy beats count less",
             [probe("loss_on", x1, t1), probe("loss_on", x2, t2, kwargs={"gamma": 2.0})], same,
             hint="p_t = softmax(logits)[range(N), target]; the mean of -(1 - p_t) ** gamma * log(p_t)"),
        Case("other gammas", [probe("loss_on", x2, t2, kwargs={"gamma": 0.5}),
                              probe("loss_on", x1, t1, kwargs={"gamma": 5.0})], same),
        Case("weighted, gamma=0: exactly weighted cross-entropy (the weighted mean)",
             [probe("loss_on", x2, t2, kwargs={"gamma": 0.0}, weight=w3).against(
                 cross_entropy(x2, t2, w3), "torch.nn.functional.cross_entropy(weight=...)")], same,
             hint="multiply each beat's loss by weight[target] and divide by the sum of those "
                  "weights, not by N, as nn.CrossEntropyLoss does"),
        Case("weighted, gamma=2", [probe("loss_on", x2, t2, kwargs={"gamma": 2.0}, weight=w3)], same),
        Case("the weight moves with the loss (the training loop calls loss_fn.to(device))",
             [probe("loss_on", x2, t2, kwargs={"gamma": 2.0}, weight=w3, moved=True)], same,
             hint="keep the weight as a buffer, self.register_buffer('weight', ...): .to(device) "
                  "moves parameters and buffers, not plain tensor attributes"),
        Case("the weight as a list or a numpy array",
             [probe("loss_on", x2, t2, kwargs={"gamma": 2.0}, weight=w3, weight_as="list"),
              probe("loss_on", x2, t2, kwargs={"gamma": 1.0}, weight=w3, weight_as="numpy")], same,
             hint="torch.as_tensor(weight, dtype=torch.float32) accepts a list, an array or a tensor"),
        Case("large logits: finite loss and gradient",
             [probe("loss_on", big, np.array([1, 0]), kwargs={"gamma": 2.0}),
              probe("loss_on", big, np.array([0, 2]), kwargs={"gamma": 0.0})], same,
             hint="F.log_softmax(logits, dim=1), never torch.log(F.softmax(...)), which gives "
                  "log(0) = -inf"),
        Case("the gradient reaches the logits",
             [probe("loss_on", logits(6, 4), _labels(rng, 6, 4), kwargs={"gamma": 1.0})], same,
             hint="compute the loss with torch operations on the logits: no .item() or numpy"),
    ]
