"""The teeth of the lesson-3 checks: proof that they tell right from wrong (see lesson 1's
``teeth.py`` for the format). Each source is Python appended to the reference ``train.py``
(which imports ``np``, ``torch``, ``F`` and ``nn``); its definition replaces the reference one
(the later ``def`` or ``class`` wins).
"""

CORRECT = {
    "3.1": [
        # numpy all the way, the tensor made at the end
        '''
def class_weights(y, n_classes):
    y = np.asarray(y).astype(np.int64).ravel()
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels out of range")
    counts = np.bincount(y, minlength=n_classes)
    weights = np.zeros(n_classes)
    np.divide(len(y), n_classes * counts, out=weights, where=counts > 0)
    return torch.from_numpy(weights.astype(np.float32))
''',
        # a Counter and a Python list
        '''
def class_weights(y, n_classes):
    from collections import Counter
    labels = [int(v) for v in (y.tolist() if hasattr(y, "tolist") else y)]
    for v in labels:
        if not 0 <= v < n_classes:
            raise ValueError(f"label {v} is not in 0..{n_classes - 1}")
    counts = Counter(labels)
    n = len(labels)
    return torch.tensor([n / (n_classes * counts[c]) if counts[c] else 0.0 for c in range(n_classes)],
                        dtype=torch.float32)
''',
        # one-hot counts and torch.where
        '''
def class_weights(y, n_classes):
    y = torch.as_tensor(y).long().flatten()
    if ((y < 0) | (y >= n_classes)).any():
        raise ValueError("every label must lie in 0..n_classes-1")
    counts = F.one_hot(y, n_classes).sum(dim=0).float()
    weights = torch.where(counts > 0, y.numel() / (n_classes * counts.clamp(min=1)),
                          torch.zeros_like(counts))
    return weights.to(torch.float32)
''',
    ],
    "3.2": [
        # the loss summed as a tensor, set_to_none, model.zero_grad()
        '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train(True)
    device = next(iter(model.parameters())).device
    summed, beats = None, 0
    for batch in loader:
        X, y = (t.to(device) for t in batch)
        model.zero_grad(set_to_none=True)
        out = model(X)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        part = loss.detach().double() * y.shape[0]
        summed = part if summed is None else summed + part
        beats += y.shape[0]
    if not beats:
        raise ValueError("empty loader")
    return float(summed / beats)
''',
        # a list of (loss, size) pairs and a weighted average with numpy
        '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    params = list(model.parameters())
    losses, sizes = [], []
    for X, y in loader:
        X = X.to(params[0].device)
        y = y.to(params[0].device)
        for p in params:
            p.grad = None
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(X))
    if not sizes:
        raise ValueError("the loader is empty")
    return float(np.average(losses, weights=sizes))
''',
        # an index loop over the batches, math.fsum
        '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    import math
    batches = list(loader)
    if len(batches) == 0:
        raise ValueError("no batches")
    device = next(model.parameters()).device
    model.train()
    parts, n = [], 0
    for i in range(len(batches)):
        X, y = batches[i][0].to(device), batches[i][1].to(device)
        optimizer.zero_grad()
        logits = model(X)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        parts.append(loss.item() * y.numel())
        n += y.numel()
    return math.fsum(parts) / n
''',
    ],
    "3.3": [
        # torch.split, inference_mode, max(...).indices
        '''
def predict(model, X, batch_size=1024):
    device = next(model.parameters()).device
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    if X.dim() == 2:
        X = X[:, None, :]
    mode = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for chunk in torch.split(X, batch_size):
                out.append(model(chunk.to(device)).max(dim=1).indices.cpu().numpy())
    finally:
        model.train(mode)
    return np.concatenate(out).astype(np.int64) if out else np.empty(0, dtype=np.int64)
''',
        # numpy slices, set_grad_enabled(False), the mode put back by hand (also on an error)
        '''
def predict(model, X, batch_size=1024):
    X = np.array(X, dtype=np.float32)
    if X.ndim == 2:
        X = X.reshape(X.shape[0], 1, X.shape[1])
    was_training = model.training
    model.eval()
    labels = np.zeros(len(X), dtype=np.int64)
    try:
        with torch.set_grad_enabled(False):
            start = 0
            while start < len(X):
                stop = min(start + batch_size, len(X))
                logits = model(torch.from_numpy(X[start:stop]).to(next(model.parameters()).device))
                labels[start:stop] = torch.argmax(logits, dim=-1).cpu().numpy()
                start = stop
    except BaseException:
        if was_training:
            model.train()
        raise
    if was_training:
        model.train()
    return labels
''',
        # a no_grad decorator on an inner function, a list comprehension of batches
        '''
def predict(model, X, batch_size=1024):
    @torch.no_grad()
    def run(batch):
        return model(batch).argmax(1)

    device = next(model.parameters()).device
    X = torch.as_tensor(X).float()
    X = X.unsqueeze(1) if X.ndim == 2 else X
    previous = model.training
    model.train(False)
    try:
        parts = [run(X[i:i + batch_size].to(device)).cpu() for i in range(0, X.shape[0], batch_size)]
    finally:
        model.train(previous)
    if not parts:
        return np.zeros((0,), np.int64)
    return torch.cat(parts).numpy().astype(np.int64)
''',
    ],
    "3.4": [
        # np.add.at
        '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred differ in length")
    both = np.concatenate([y_true, y_pred])
    if ((both < 0) | (both >= n_classes)).any():
        raise ValueError("label out of range")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
''',
        # a Python loop over the pairs
        '''
def confusion_matrix(y_true, y_pred, n_classes):
    t, p = list(y_true), list(y_pred)
    if len(t) != len(p):
        raise ValueError("lengths differ")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    for a, b in zip(t, p):
        a, b = int(a), int(b)
        if not (0 <= a < n_classes and 0 <= b < n_classes):
            raise ValueError(f"labels ({a}, {b}) outside 0..{n_classes - 1}")
        cm[a, b] += 1
    return cm
''',
        # one-hot matrices multiplied
        '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = np.asarray(y_pred).astype(np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred must be equally long")
    for labels in (y_true, y_pred):
        if np.any(labels < 0) or np.any(labels >= n_classes):
            raise ValueError("labels must lie in 0..n_classes-1")
    eye = np.eye(n_classes, dtype=np.int64)
    return (eye[y_true].T @ eye[y_pred]).astype(np.int64)
''',
    ],
    "3.5": [
        # one class at a time, in plain Python
        '''
def classification_report(cm):
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("cm must be square")
    n = len(cm)
    total = int(cm.sum())

    def div(a, b):
        return a / b if b else 0.0

    out = {k: np.zeros(n) for k in ("precision", "recall", "specificity", "f1")}
    support = np.zeros(n, dtype=np.int64)
    for c in range(n):
        tp = int(cm[c, c])
        fp = int(cm[:, c].sum()) - tp
        fn = int(cm[c, :].sum()) - tp
        tn = total - tp - fp - fn
        p, r = div(tp, tp + fp), div(tp, tp + fn)
        out["precision"][c], out["recall"][c] = p, r
        out["specificity"][c] = div(tn, tn + fp)
        out["f1"][c] = div(2 * p * r, p + r)
        support[c] = tp + fn
    out["support"] = support
    out["accuracy"] = div(int(np.trace(cm)), total)
    out["macro_f1"] = float(np.mean(out["f1"]))
    return out
''',
        # plain division under errstate, NaN turned into 0 afterwards
        '''
def classification_report(cm):
    cm = np.array(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not a square matrix")
    tp = cm.diagonal()
    predicted, actual = cm.sum(0), cm.sum(1)
    tn = cm.sum() - predicted - actual + tp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / predicted)
        recall = np.nan_to_num(tp / actual)
        specificity = np.nan_to_num(tn / (tn + predicted - tp))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        accuracy = np.nan_to_num(tp.sum() / cm.sum())
    return {"precision": precision, "recall": recall, "specificity": specificity, "f1": f1,
            "support": actual.astype(np.int64), "accuracy": float(accuracy),
            "macro_f1": float(f1.mean())}
''',
        # F1 as 2 TP / (2 TP + FP + FN), the ratios with np.where
        '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"expected a square matrix, got {cm.shape}")
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn

    def safe(num, den):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)

    f1 = safe(2 * tp, 2 * tp + fp + fn)
    return {"precision": safe(tp, tp + fp), "recall": safe(tp, tp + fn),
            "specificity": safe(tn, tn + fp), "f1": f1,
            "support": cm.sum(axis=1).astype(np.int64),
            "accuracy": float(safe(tp.sum(), float(cm.sum()))), "macro_f1": float(np.mean(f1))}
''',
    ],
    "3.6": [
        # log p_t by logsumexp, the weight as a parameter that is not trained
        '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = gamma
        self.weight = None if weight is None else nn.Parameter(
            torch.tensor(np.asarray(weight, dtype=np.float32)), requires_grad=False)

    def forward(self, logits, target):
        picked = logits.gather(1, target.view(-1, 1)).view(-1)
        log_pt = picked - torch.logsumexp(logits, dim=1)
        loss = -((1 - torch.exp(log_pt)) ** self.gamma) * log_pt
        if self.weight is None:
            return loss.mean()
        w = self.weight[target]
        return (loss * w).sum() / w.sum()
''',
        # the per-beat cross-entropy of torch, p_t = exp(-ce)
        '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        if weight is not None:
            weight = torch.as_tensor(weight, dtype=torch.float32)
        self.register_buffer("weight", weight)

    def forward(self, logits, target):
        ce = F.cross_entropy(logits, target, reduction="none")
        focal = (1 - torch.exp(-ce)) ** self.gamma * ce
        if self.weight is None:
            return focal.mean()
        w = self.weight[target]
        return torch.dot(w, focal) / w.sum()
''',
        # a one-hot mask over log_softmax, the unweighted case as weights of one
        '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = gamma
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight).float())

    def forward(self, logits, target):
        log_p = torch.log_softmax(logits, dim=-1)
        mask = F.one_hot(target, logits.shape[1]).to(log_p.dtype)
        log_pt = (log_p * mask).sum(dim=1)
        pt = log_pt.exp()
        per_beat = -torch.pow(1.0 - pt, self.gamma) * log_pt
        w = torch.ones_like(per_beat) if self.weight is None else self.weight[target]
        return (w * per_beat).sum() / w.sum()
''',
    ],
}

WRONG = {
    "3.1": [
        ("divides by the number of classes present (scikit-learn's 'balanced')", '''
def class_weights(y, n_classes):
    y = np.asarray(y, dtype=np.int64)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels out of range")
    counts = np.bincount(y, minlength=n_classes)
    present = counts > 0
    weights = np.zeros(n_classes, dtype=np.float32)
    weights[present] = len(y) / (present.sum() * counts[present])
    return torch.tensor(weights)
'''),
        ("1 / count, not normalised", '''
def class_weights(y, n_classes):
    y = np.asarray(y, dtype=np.int64)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels out of range")
    counts = np.bincount(y, minlength=n_classes)
    weights = np.zeros(n_classes, dtype=np.float32)
    weights[counts > 0] = 1.0 / counts[counts > 0]
    return torch.tensor(weights)
'''),
        ("an absent class gets inf", '''
def class_weights(y, n_classes):
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError("labels out of range")
    counts = torch.bincount(y, minlength=n_classes).float()
    return len(y) / (n_classes * counts)
'''),
        ("returns a numpy array", '''
def class_weights(y, n_classes):
    y = np.asarray(y, dtype=np.int64)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels out of range")
    counts = np.bincount(y, minlength=n_classes)
    weights = np.zeros(n_classes, dtype=np.float32)
    weights[counts > 0] = len(y) / (n_classes * counts[counts > 0])
    return weights
'''),
        ("a float64 tensor", '''
def class_weights(y, n_classes):
    y = np.asarray(y, dtype=np.int64)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels out of range")
    counts = np.bincount(y, minlength=n_classes)
    weights = np.zeros(n_classes)
    weights[counts > 0] = len(y) / (n_classes * counts[counts > 0])
    return torch.tensor(weights)
'''),
        ("np.unique's counts put in the first places (an absent class shifts the rest)", '''
def class_weights(y, n_classes):
    y = np.asarray(y, dtype=np.int64)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels out of range")
    _, counts = np.unique(y, return_counts=True)
    weights = np.zeros(n_classes, dtype=np.float32)
    weights[:len(counts)] = len(y) / (n_classes * counts)
    return torch.tensor(weights)
'''),
        ("no check of the labels", '''
def class_weights(y, n_classes):
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
    counts = torch.bincount(y, minlength=n_classes).float()[:n_classes]
    weights = torch.zeros(n_classes)
    weights[counts > 0] = len(y) / (n_classes * counts[counts > 0])
    return weights
'''),
    ],
    "3.2": [
        ("the mean loss per batch, not per beat", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    losses = []
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if not losses:
        raise ValueError("no batches")
    return sum(losses) / len(losses)
'''),
        ("no zero_grad: the gradients add up", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    if not seen:
        raise ValueError("no batches")
    return total / seen
'''),
        ("no model.train()", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    if not seen:
        raise ValueError("no batches")
    return total / seen
'''),
        ("returns a tensor (no .item())", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * len(y)
        seen += len(y)
    if not seen:
        raise ValueError("no batches")
    return total / seen
'''),
        ("F.cross_entropy hard-coded instead of loss_fn", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    if not seen:
        raise ValueError("no batches")
    return total / seen
'''),
        ("zero_grad between backward and step: no update at all", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    if not seen:
        raise ValueError("no batches")
    return total / seen
'''),
        ("one optimizer step at the end of the epoch", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    optimizer.zero_grad()
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        total += loss.item() * len(y)
        seen += len(y)
    if not seen:
        raise ValueError("no batches")
    optimizer.step()
    return total / seen
'''),
        ("an empty loader: 0.0 instead of an error", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    device = next(model.parameters()).device
    total, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    return total / max(seen, 1)
'''),
    ],
    "3.3": [
        ("no model.eval(): dropout still on", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    with torch.no_grad():
        labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
        ("no torch.no_grad()", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    model.train(was_training)
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
        ("the model left in eval mode", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    model.eval()
    with torch.no_grad():
        labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
        ("always model.train() at the end, whatever the mode was", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    model.eval()
    with torch.no_grad():
        labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    model.train()
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
        ("one forward pass for all beats (batch_size ignored)", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(X).argmax(dim=1).numpy().astype(np.int64)
    finally:
        model.train(was_training)
'''),
        ("returns a tensor", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(labels) if labels else torch.zeros(0, dtype=torch.int64)
'''),
        ("the mode put back only when nothing goes wrong (no try/finally)", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    model.train(was_training)
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
        ("argmax over the batch (dim=0), not over the classes", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            labels = [model(X[i:i + batch_size]).argmax(dim=0) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
        ("float64 input passed on as it is", '''
def predict(model, X, batch_size=1024):
    X = torch.as_tensor(X)
    if X.ndim == 2:
        X = X.unsqueeze(1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            labels = [model(X[i:i + batch_size]).argmax(dim=1) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(labels).numpy().astype(np.int64) if labels else np.zeros(0, np.int64)
'''),
    ],
    "3.4": [
        ("transposed: rows predicted, columns true", '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")
    for labels in (y_true, y_pred):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("label out of range")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_pred, y_true), 1)
    return cm
'''),
        ("cm[y_true, y_pred] += 1 counts a repeated pair once", '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")
    for labels in (y_true, y_pred):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("label out of range")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    cm[y_true, y_pred] += 1
    return cm
'''),
        ("no check of the labels (np.add.at raises IndexError, -1 counts in the last column)", '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
'''),
        ("sized by the labels present, not n_classes", '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")
    for labels in (y_true, y_pred):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("label out of range")
    k = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
'''),
        ("a float matrix (np.zeros without dtype)", '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")
    for labels in (y_true, y_pred):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("label out of range")
    cm = np.zeros((n_classes, n_classes))
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
'''),
        ("t * n_classes + p in the labels' own dtype (overflows for uint8)", '''
def confusion_matrix(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")
    for labels in (y_true, y_pred):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("label out of range")
    flat = y_true * n_classes + y_pred if len(y_true) else np.zeros(0, np.int64)
    return np.bincount(flat, minlength=n_classes ** 2).reshape(n_classes, n_classes)
'''),
    ],
    "3.5": [
        ("0 / 0 gives NaN", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")
    tp = np.diag(cm).astype(float)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall)
        return {"precision": precision, "recall": recall, "specificity": tn / (tn + fp), "f1": f1,
                "support": (tp + fn).astype(np.int64), "accuracy": float(tp.sum() / cm.sum()),
                "macro_f1": float(f1.mean())}
'''),
        ("specificity with FN instead of FP", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fn), "f1": f1,
            "support": (tp + fn).astype(np.int64), "accuracy": float(ratio(tp.sum(), cm.sum())),
            "macro_f1": float(f1.mean())}
'''),
        ("macro-F1 weighted by support", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    support = tp + fn
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fp), "f1": f1,
            "support": support.astype(np.int64), "accuracy": float(ratio(tp.sum(), cm.sum())),
            "macro_f1": float(ratio((f1 * support).sum(), support.sum()))}
'''),
        ("precision and recall swapped (rows taken for columns)", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp, fn = cm.sum(axis=1) - tp, cm.sum(axis=0) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fp), "f1": f1,
            "support": (tp + fp).astype(np.int64), "accuracy": float(ratio(tp.sum(), cm.sum())),
            "macro_f1": float(f1.mean())}
'''),
        ("macro-F1 over the classes that occur only", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    present = (tp + fn) > 0
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fp), "f1": f1,
            "support": (tp + fn).astype(np.int64), "accuracy": float(ratio(tp.sum(), cm.sum())),
            "macro_f1": float(f1[present].mean()) if present.any() else 0.0}
'''),
        ("accuracy as the mean recall (balanced accuracy)", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fp), "f1": f1,
            "support": (tp + fn).astype(np.int64), "accuracy": float(recall.mean()),
            "macro_f1": float(f1.mean())}
'''),
        ("accuracy and macro-F1 left as 0-d numpy arrays", '''
def classification_report(cm):
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError("not square")

    def ratio(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    tp = np.diag(cm)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "specificity": ratio(tn, tn + fp), "f1": f1,
            "support": (tp + fn).astype(np.int64), "accuracy": ratio(tp.sum(), cm.sum()),
            "macro_f1": ratio(f1.sum(), len(f1))}
'''),
    ],
    "3.6": [
        ("the weighted loss divided by N, not by the sum of the weights", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - log_pt.exp()) ** self.gamma * log_pt
        if self.weight is not None:
            loss = loss * self.weight[target]
        return loss.mean()
'''),
        ("torch.log(F.softmax(...)): -inf for large logits", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target):
        pt = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - pt) ** self.gamma * torch.log(pt)
        if self.weight is None:
            return loss.mean()
        w = self.weight[target]
        return (w * loss).sum() / w.sum()
'''),
        ("gamma applied to p_t instead of 1 - p_t", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(log_pt.exp()) ** self.gamma * log_pt
        if self.weight is None:
            return loss.mean()
        w = self.weight[target]
        return (w * loss).sum() / w.sum()
'''),
        ("the weight ignored", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        return (-(1 - log_pt.exp()) ** self.gamma * log_pt).mean()
'''),
        ("p_t taken from the weighted cross-entropy", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target):
        ce = F.cross_entropy(logits, target, weight=self.weight, reduction="none")
        loss = (1 - torch.exp(-ce)) ** self.gamma * ce
        if self.weight is None:
            return loss.mean()
        return loss.sum() / self.weight[target].sum()
'''),
        ("the sum over the beats, not the mean", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - log_pt.exp()) ** self.gamma * log_pt
        if self.weight is not None:
            loss = loss * self.weight[target]
        return loss.sum()
'''),
        ("returns a float (.item())", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - log_pt.exp()) ** self.gamma * log_pt
        if self.weight is None:
            return loss.mean().item()
        w = self.weight[target]
        return ((w * loss).sum() / w.sum()).item()
'''),
        ("the weight as a plain tensor attribute: .to(device) leaves it behind", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.weight = None if weight is None else torch.as_tensor(weight, dtype=torch.float32)

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - log_pt.exp()) ** self.gamma * log_pt
        if self.weight is None:
            return loss.mean()
        w = self.weight[target]
        return (w * loss).sum() / w.sum()
'''),
        ("the weight kept as it is given (a list breaks)", '''
class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = float(gamma)
        self.weight = weight

    def forward(self, logits, target):
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -(1 - log_pt.exp()) ** self.gamma * log_pt
        if self.weight is None:
            return loss.mean()
        w = self.weight[target]
        return (w * loss).sum() / w.sum()
'''),
    ],
}

#: (exercise id, mutant description) -> why no check can tell it from the reference.
EQUIVALENT_MUTANTS = {
    # 3.1 class_weights
    ("3.1", "torch.zeros(n_classes, dtype=torch.float32) -> torch.zeros(n_classes)"):
        "torch's default dtype is float32: torch.zeros(n) is the same float32 tensor",
    ("3.1", "torch.as_tensor(np.asarray(y), dtype=torch.int64) -> torch.as_tensor(np.asarray(y))"):
        "the contract's labels are integers, and torch.bincount counts every integer dtype the "
        "same way",
    ("3.1", "np.asarray(y) -> y"):
        "torch.as_tensor takes an array, a list and a tensor alike",
    ("3.1", "int(y.min()) -> y.min()"):
        "a 0-d tensor compares with 0 as its int does (and in the error message it only changes "
        "the wording)",
    ("3.1", "int(y.max()) -> y.max()"):
        "a 0-d tensor compares with n_classes as its int does (and in the error message it only "
        "changes the wording)",
    ("3.1", "n_classes - 1 -> n_classes + 1"): "only changes the wording of the error message",
    ("3.1", "1 -> 2"):
        "in the error message, only changes its wording (in reshape(-1), -2 would be refused by "
        "torch, and that mutant is killed)",
    ("3.1", "1 -> 0"):
        "in the error message, only changes its wording (reshape(0) fails, and that mutant is "
        "killed)",
    ("3.1", "y.min() -> y.max()"):
        "in the error message, only changes its wording (in the range test it is killed)",
    ("3.1", "y.max() -> y.min()"):
        "in the error message, only changes its wording (in the range test it is killed)",
    # 3.3 predict
    ("3.3", "torch.cat(labels).numpy().astype(np.int64) -> torch.cat(labels).numpy()"):
        "argmax of a tensor is int64 already",
    ("3.3", "np.zeros(0, np.int64) -> np.ones(0, np.int64)"): "an empty array holds no values",
    # 3.4 confusion_matrix
    ("3.4", "counts.reshape(n_classes, n_classes).astype(np.int64) -> counts.reshape(n_classes, n_classes)"):
        "np.bincount returns int64 on 64-bit platforms",
    ("3.4", "1 -> 2"):
        "numpy's reshape takes any negative size as the unknown one, so reshape(-2) is "
        "reshape(-1); in the error message it only changes the wording",
    ("3.4", "1 -> 0"):
        "in the error message, only changes its wording (reshape(-0) fails, and that mutant is "
        "killed)",
    ("3.4", "len(y_true) -> y_true"): "only changes the wording of the error message",
    ("3.4", "len(y_pred) -> y_pred"): "only changes the wording of the error message",
    ("3.4", "n_classes - 1 -> n_classes + 1"): "only changes the wording of the error message",
    # 3.5 classification_report
    ("3.5", "np.asarray(cm, dtype=np.int64) -> np.asarray(cm)"):
        "every ratio converts its operands to float64 and support is made int64 at the end, so "
        "the dtype of the counts changes no value (numpy sums small integer types in int64)",
    ("3.5", "(tp + fn).astype(np.int64) -> tp + fn"):
        "cm is made int64 first, so tp + fn is int64 already",
    ("3.5", "float(f1.mean()) -> f1.mean()"):
        "a numpy float64 is a Python float (a subclass) with the same value",
    ("3.5", "0.0 -> 1.0"):
        "the value of macro_f1 for a 0 x 0 matrix, a classifier of no classes, which no "
        "confusion matrix of the contract is (n_classes >= 1); the reference only avoids the "
        "mean of nothing there",
    ("3.5", "np.asarray(b, dtype=np.float64) -> b"):
        "b is only compared with 0 and divided by; a is float64, so np.divide gives the same "
        "float64 values",
    ("3.5", "np.asarray(b, dtype=np.float64) -> np.asarray(b)"):
        "b is only compared with 0 and divided by; a is float64, so np.divide gives the same "
        "float64 values",
    ("3.5", "np.zeros_like(a) -> a"):
        "wherever a denominator is 0 its numerator is 0 too (TP <= TP + FP, TN <= TN + FP, "
        "2PR = 0 when P + R = 0, for counts >= 0), so out=a leaves the same zeros",
    # 3.6 FocalLoss
    ("3.6", "float(gamma) -> gamma"):
        "(1 - p) ** 2 and (1 - p) ** 2.0 are the same tensor, values and gradient",
    ("3.6", "torch.as_tensor(weight, dtype=torch.float32) -> torch.as_tensor(weight)"):
        "forward casts the weight to the logits' dtype before using it, so a float64 or "
        "integer buffer gives the same loss",
    ("3.6", "F.log_softmax(logits, dim=1) -> F.log_softmax(logits)"):
        "for 2-D input, log_softmax's implicit dim is 1",
}
