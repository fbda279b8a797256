"""The teeth of the lesson-5 checks: proof that they tell right from wrong (see lesson 1's
``teeth.py`` for the format). Each source is Python appended to the reference ``interpret.py``
(which imports ``np``, ``torch``, ``F`` and ``nn`` and defines the helpers ``layer_names``,
``_beats``, ``_targets``, ``_modes`` and ``_restore``); its definition replaces the reference
one (the later ``def`` wins).
"""

CORRECT = {
    "5.1": [
        # functools.partial for the names, get_submodule, model.train(was) to put the mode back
        '''
def capture_activations(model, x, layers=None):
    import functools
    if layers is None:
        layers = [f"features.{n}" for n, _ in model.features.named_children()] + \\
                 [f"classifier.{n}" for n, _ in model.classifier.named_children()]
    known = {name for name, _ in model.named_modules()}
    for name in layers:
        if name not in known:
            raise KeyError(name)
    store = {}

    def hook(name, module, inputs, output):
        store[name] = output.detach().clone()

    was_training = model.training
    handles = [model.get_submodule(name).register_forward_hook(functools.partial(hook, name))
               for name in layers]
    try:
        model.eval()
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        model(x if x.dim() == 3 else x[:, None, :])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {name: store[name] for name in layers}
''',
        # a class that collects outputs, torch.no_grad and a context manager for the hooks
        '''
class _Recorder:
    def __init__(self, modules):
        self.modules, self.outputs, self.handles = modules, {}, []

    def __enter__(self):
        for name, module in self.modules.items():
            self.handles.append(module.register_forward_hook(self._keeper(name)))
        return self

    def _keeper(self, name):
        def keep(module, inputs, output):
            self.outputs[name] = output
        return keep

    def __exit__(self, *exc):
        while self.handles:
            self.handles.pop().remove()
        return False


def capture_activations(model, x, layers=None):
    everything = dict(model.named_modules())
    names = layer_names(model) if layers is None else layers
    if any(n not in everything for n in names):
        raise KeyError(f"unknown layers: {[n for n in names if n not in everything]}")
    modes = [(m, m.training) for m in model.modules()]
    try:
        with _Recorder({n: everything[n] for n in names}) as recorder, torch.no_grad():
            model.eval()
            model(torch.tensor(np.array(x), dtype=torch.float32))
    finally:
        for m, t in modes:
            m.training = t
    return {n: recorder.outputs[n] for n in names}
''',
    ],
    "5.2": [
        # the closed formula: r = 1 + sum of (k - 1) * d * (product of the strides before)
        '''
def receptive_fields(model):
    def kernels(module):
        if isinstance(module, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            as_int = lambda v: v[0] if isinstance(v, tuple) else v
            return [(as_int(module.kernel_size), as_int(module.stride),
                     as_int(getattr(module, "dilation", 1)))]
        return [kd for child in module.children() for kd in kernels(child)]

    out, seen = {}, []
    for name, child in model.features.named_children():
        seen += kernels(child)
        r, jump = 1, 1
        for k, s, d in seen:
            r += (k - 1) * d * jump
            jump *= s
        out["features." + name] = r
    return out
''',
        # the leaves of each child from modules() (itself first, then depth first, in order)
        '''
def receptive_fields(model):
    rf, jump, fields = 1, 1, {}
    for name, child in model.features.named_children():
        for m in child.modules():
            if isinstance(m, nn.Conv1d):
                rf += (m.kernel_size[0] - 1) * m.dilation[0] * jump
                jump *= m.stride[0]
            elif isinstance(m, nn.MaxPool1d):
                rf += (int(m.kernel_size) - 1) * int(m.dilation) * jump
                jump *= int(m.stride)
            elif isinstance(m, nn.AvgPool1d):
                k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
                s = m.stride[0] if isinstance(m.stride, tuple) else m.stride
                rf += (k - 1) * jump
                jump *= s
        fields[f"features.{name}"] = int(rf)
    return fields
''',
    ],
    "5.3": [
        # one beat at a time, the logit's gradient with torch.autograd.grad
        '''
def saliency(model, x, target=None):
    beats = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    beats = beats.reshape(beats.shape[0], 1, -1)
    was = [(m, m.training) for m in model.modules()]
    rows = []
    try:
        model.eval()
        for i in range(len(beats)):
            b = beats[i:i + 1].clone().requires_grad_(True)
            logits = model(b)[0]
            if target is None:
                t = int(logits.argmax())
            elif np.ndim(target) == 0:
                t = int(target)
            else:
                t = int(np.asarray(target)[i])
            (g,) = torch.autograd.grad(logits[t], b)
            rows.append(g.abs().reshape(-1))
    finally:
        for m, flag in was:
            m.training = flag
    return torch.stack(rows).numpy()
''',
        # backward with a one-hot gradient, the parameters' .grad set aside and put back
        '''
def saliency(model, x, target=None):
    params = list(model.parameters())
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None                # backward adds into .grad in place: start from nothing
    was_training = model.training
    model.eval()
    try:
        inp = torch.tensor(np.array(x, dtype=np.float32))
        inp = (inp.unsqueeze(1) if inp.dim() == 2 else inp).requires_grad_()
        logits = model(inp)
        if target is None:
            target = logits.argmax(dim=1)
        target = torch.as_tensor(target).long().expand(len(inp))
        onehot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
        logits.backward(gradient=onehot)
        result = inp.grad.detach().abs().squeeze(1).numpy()
    finally:
        for p, g in zip(params, saved):
            p.grad = g
        model.train(was_training)
    return result
''',
    ],
    "5.4": [
        # the gradient kept by a tensor hook and backward, numpy for the rest (np.interp)
        '''
def grad_cam(model, x, layer, target=None):
    module = model.get_submodule(layer) if isinstance(layer, str) else layer
    seen = {}
    def forward_hook(m, i, o):
        seen["A"] = o
        o.register_hook(lambda g: seen.__setitem__("G", g))
    handle = module.register_forward_hook(forward_hook)
    params = list(model.parameters())
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None                # backward adds into .grad in place: start from nothing
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        beats = torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(len(x), 1, -1)
        logits = model(beats)
        if seen["A"].dim() != 3:
            raise ValueError("grad_cam needs a layer with a time axis")
        t = logits.argmax(1) if target is None else torch.as_tensor(target).long().expand(len(beats))
        logits.gather(1, t[:, None]).sum().backward()
    finally:
        handle.remove()
        for p, g in zip(params, saved):
            p.grad = g
        for m, flag in modes:
            m.training = flag
    A, G = seen["A"].detach().numpy(), seen["G"].numpy()
    cam = np.maximum((G.mean(axis=2, keepdims=True) * A).sum(axis=1), 0)
    n, L = cam.shape
    length = beats.shape[-1]
    where = np.clip((np.arange(length) + 0.5) * L / length - 0.5, 0, L - 1)
    cam = np.stack([np.interp(where, np.arange(L), row) for row in cam])
    top = cam.max(axis=1, keepdims=True)
    return np.divide(cam, top, out=np.zeros_like(cam), where=top > 0).astype(np.float32)
''',
        # einsum, nn.Upsample, the layer looked up by name in a dict
        '''
def grad_cam(model, x, layer, target=None):
    if isinstance(layer, str):
        layer = dict(model.named_modules())[layer]
    outputs = []
    handle = layer.register_forward_hook(lambda m, i, o: outputs.append(o))
    was_training = model.training
    try:
        model.eval()
        xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
        xt = xt[:, None] if xt.ndim == 2 else xt
        logits = model(xt)
        A = outputs[0]
        if A.ndim != 3:
            raise ValueError(f"the layer gives shape {tuple(A.shape)}, not (N, C, L)")
        if target is None:
            idx = logits.argmax(dim=1)
        else:
            idx = torch.as_tensor(target, dtype=torch.long).reshape(-1).expand(len(xt))
        score = logits[torch.arange(len(xt)), idx].sum()
        (G,) = torch.autograd.grad(score, A)
    finally:
        handle.remove()
        model.train(was_training)
    weights = G.mean(dim=-1)
    cam = torch.einsum("nc,ncl->nl", weights, A).clamp(min=0).detach()
    cam = nn.Upsample(size=xt.shape[-1], mode="linear", align_corners=False)(cam.unsqueeze(1)).squeeze(1)
    top = cam.max(dim=1, keepdim=True).values
    cam = torch.where(top > 0, cam / top.clamp(min=1e-30), torch.zeros_like(cam))
    return cam.numpy()
''',
    ],
    "5.5": [
        # torch.topk (equal means may come in another order)
        '''
def top_activating(activations, channel, k):
    a = torch.as_tensor(np.asarray(activations.detach().cpu() if isinstance(activations, torch.Tensor) else activations))
    if a.dim() not in (2, 3):
        raise ValueError(f"activations of shape {tuple(a.shape)}: expected (N, C, L) or (N, C)")
    if not 0 <= channel < a.shape[1]:
        raise ValueError("channel out of range")
    if not 1 <= k <= a.shape[0]:
        raise ValueError("k out of range")
    means = a[:, channel].double()
    if means.ndim == 2:
        means = means.mean(dim=1)
    return torch.topk(means, k).indices.numpy().astype(np.int64)
''',
        # sorted() with a key, in plain Python
        '''
def top_activating(activations, channel, k):
    if isinstance(activations, torch.Tensor):
        activations = activations.detach().cpu().numpy()
    a = np.asarray(activations, dtype=np.float64)
    if a.ndim < 2 or a.ndim > 3:
        raise ValueError("activations must be (N, C, L) or (N, C)")
    n, c = a.shape[0], a.shape[1]
    if channel < 0 or channel >= c or k < 1 or k > n:
        raise ValueError(f"channel {channel} or k {k} out of range")
    score = [float(np.mean(a[i, channel])) for i in range(n)]
    order = sorted(range(n), key=lambda i: score[i], reverse=True)
    return np.array(order[:k], dtype=np.int64)
''',
        # argsort ascending, reversed (equal means come out with the higher index first)
        '''
def top_activating(activations, channel, k):
    a = activations.numpy() if isinstance(activations, torch.Tensor) else np.asarray(activations)
    if a.ndim not in (2, 3):
        raise ValueError(f"{a.ndim}-D activations; expected 2-D or 3-D")
    if a.ndim == 2:
        a = a[:, :, None]
    if not (0 <= channel < a.shape[1] and 0 < k <= a.shape[0]):
        raise ValueError("channel or k out of range")
    return np.argsort(a[:, channel].mean(axis=1))[::-1][:k].astype(np.int64)
''',
    ],
}

WRONG = {
    "5.1": [
        ("never removes its hooks", '''
def capture_activations(model, x, layers=None):
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs = {}
    for name in names:
        modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach()))
    was = model.training
    model.eval()
    with torch.no_grad():
        model(_beats(model, x))
    model.train(was)
    return {n: outputs[n] for n in names}
'''),
        ("removes its hooks only when the forward pass succeeds", '''
def capture_activations(model, x, layers=None):
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs = {}
    handles = [modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach()))
               for name in names]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(_beats(model, x))
    for h in handles:
        h.remove()
    model.train(was)
    return {n: outputs[n] for n in names}
'''),
        ("runs the model in train mode (dropout and batch statistics)", '''
def capture_activations(model, x, layers=None):
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs = {}
    handles = [modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach()))
               for name in names]
    try:
        with torch.no_grad():
            model(_beats(model, x))
    finally:
        for h in handles:
            h.remove()
    return {n: outputs[n] for n in names}
'''),
        ("leaves the model in eval mode", '''
def capture_activations(model, x, layers=None):
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs = {}
    handles = [modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach()))
               for name in names]
    try:
        model.eval()
        with torch.no_grad():
            model(_beats(model, x))
    finally:
        for h in handles:
            h.remove()
    return {n: outputs[n] for n in names}
'''),
        ("keeps the outputs attached to the graph", '''
def capture_activations(model, x, layers=None):
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs, modes = {}, _modes(model)
    handles = [modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o))
               for name in names]
    try:
        model.eval()
        model(_beats(model, x))
    finally:
        for h in handles:
            h.remove()
        _restore(modes)
    return {n: outputs[n] for n in names}
'''),
        ("a lambda in a loop: every hook stores under the last name", '''
def capture_activations(model, x, layers=None):
    names = layer_names(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs, handles, modes = {}, [], _modes(model)
    try:
        for name in names:
            handles.append(modules[name].register_forward_hook(lambda m, i, o: outputs.__setitem__(name, o.detach())))
        model.eval()
        with torch.no_grad():
            model(_beats(model, x))
    finally:
        for h in handles:
            h.remove()
        _restore(modes)
    return dict(outputs)
'''),
        ("every module of the network by default, nested ones too", '''
def capture_activations(model, x, layers=None):
    names = [n for n, _ in model.named_modules() if n] if layers is None else list(layers)
    modules = dict(model.named_modules())
    if any(n not in modules for n in names):
        raise KeyError(names)
    outputs, handles, modes = {}, [], _modes(model)
    try:
        for name in names:
            handles.append(modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach())))
        model.eval()
        with torch.no_grad():
            model(_beats(model, x))
    finally:
        for h in handles:
            h.remove()
        _restore(modes)
    return {n: outputs[n] for n in names if n in outputs}
'''),
    ],
    "5.2": [
        ("ignores the strides (the jump stays 1)", '''
def receptive_fields(model):
    r, out = 1, {}
    def walk(m):
        nonlocal r
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
            d = getattr(m, "dilation", 1)
            d = d[0] if isinstance(d, tuple) else d
            r += (k - 1) * d
        for c in m.children():
            walk(c)
    for name, child in model.features.named_children():
        walk(child)
        out[f"features.{name}"] = r
    return out
'''),
        ("ignores dilation", '''
def receptive_fields(model):
    r, j, out = 1, 1, {}
    def walk(m):
        nonlocal r, j
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
            s = m.stride[0] if isinstance(m.stride, tuple) else m.stride
            r += (k - 1) * j
            j *= s
        for c in m.children():
            walk(c)
    for name, child in model.features.named_children():
        walk(child)
        out[f"features.{name}"] = r
    return out
'''),
        ("multiplies the jump before adding the kernel", '''
def receptive_fields(model):
    r, j, out = 1, 1, {}
    def walk(m):
        nonlocal r, j
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
            s = m.stride[0] if isinstance(m.stride, tuple) else m.stride
            d = getattr(m, "dilation", 1)
            d = d[0] if isinstance(d, tuple) else d
            j *= s
            r += (k - 1) * d * j
        for c in m.children():
            walk(c)
    for name, child in model.features.named_children():
        walk(child)
        out[f"features.{name}"] = r
    return out
'''),
        ("does not look inside a residual block", '''
def receptive_fields(model):
    r, j, out = 1, 1, {}
    for name, m in model.features.named_children():
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
            s = m.stride[0] if isinstance(m.stride, tuple) else m.stride
            d = getattr(m, "dilation", 1)
            d = d[0] if isinstance(d, tuple) else d
            r += (k - 1) * d * j
            j *= s
        out[f"features.{name}"] = r
    return out
'''),
        ("adds the padding on both sides", '''
def receptive_fields(model):
    r, j, out = 1, 1, {}
    def walk(m):
        nonlocal r, j
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)):
            k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
            s = m.stride[0] if isinstance(m.stride, tuple) else m.stride
            p = m.padding[0] if isinstance(m.padding, tuple) else m.padding
            d = getattr(m, "dilation", 1)
            d = d[0] if isinstance(d, tuple) else d
            r += ((k - 1) * d + 2 * p) * j
            j *= s
        for c in m.children():
            walk(c)
    for name, child in model.features.named_children():
        walk(child)
        out[f"features.{name}"] = r
    return out
'''),
        ("counts the max-pools only, not average pools", '''
def receptive_fields(model):
    r, j, out = 1, 1, {}
    def walk(m):
        nonlocal r, j
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d)):
            k = m.kernel_size[0] if isinstance(m.kernel_size, tuple) else m.kernel_size
            s = m.stride[0] if isinstance(m.stride, tuple) else m.stride
            d = m.dilation[0] if isinstance(m.dilation, tuple) else m.dilation
            r += (k - 1) * d * j
            j *= s
        for c in m.children():
            walk(c)
    for name, child in model.features.named_children():
        walk(child)
        out[f"features.{name}"] = r
    return out
'''),
    ],
    "5.3": [
        ("loss.backward(): fills (adds to) the parameters' .grad", '''
def saliency(model, x, target=None):
    modes = _modes(model)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = _targets(logits, target)
        logits[torch.arange(len(chosen)), chosen].sum().backward()
    finally:
        _restore(modes)
    return beats.grad.abs().reshape(len(beats), -1).numpy()
'''),
        ("the gradient itself, not its absolute value", '''
def saliency(model, x, target=None):
    modes = _modes(model)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = _targets(logits, target)
        (g,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), beats)
    finally:
        _restore(modes)
    return g.reshape(len(g), -1).numpy()
'''),
        ("always explains the predicted class", '''
def saliency(model, x, target=None):
    modes = _modes(model)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = logits.argmax(1)
        (g,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), beats)
    finally:
        _restore(modes)
    return g.abs().reshape(len(g), -1).numpy()
'''),
        ("the softmax probability instead of the logit", '''
def saliency(model, x, target=None):
    modes = _modes(model)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = _targets(logits, target)
        p = torch.softmax(logits, dim=1)
        (g,) = torch.autograd.grad(p[torch.arange(len(chosen)), chosen].sum(), beats)
    finally:
        _restore(modes)
    return g.abs().reshape(len(g), -1).numpy()
'''),
        ("leaves the model in eval mode", '''
def saliency(model, x, target=None):
    model.eval()
    beats = _beats(model, x).requires_grad_(True)
    logits = model(beats)
    chosen = _targets(logits, target)
    (g,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), beats)
    return g.abs().reshape(len(g), -1).numpy()
'''),
        ("freezes the parameters to spare their gradients, and leaves them frozen", '''
def saliency(model, x, target=None):
    modes = _modes(model)
    model.requires_grad_(False)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = _targets(logits, target)
        logits[torch.arange(len(chosen)), chosen].sum().backward()
    finally:
        _restore(modes)
    return beats.grad.abs().reshape(len(beats), -1).numpy()
'''),
        ("gradient times input", '''
def saliency(model, x, target=None):
    modes = _modes(model)
    try:
        model.eval()
        beats = _beats(model, x).requires_grad_(True)
        logits = model(beats)
        chosen = _targets(logits, target)
        (g,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), beats)
    finally:
        _restore(modes)
    return (g * beats).detach().abs().reshape(len(g), -1).numpy()
'''),
    ],
    "5.4": [
        ("no ReLU: negative evidence kept", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if kept[0].dim() != 3:
            raise ValueError("no time axis")
        chosen = _targets(logits, target)
        (G,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), kept[0])
    finally:
        handle.remove()
        _restore(modes)
    cam = (G.mean(dim=2)[:, :, None] * kept[0]).sum(dim=1).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=False)[:, 0]
    peak = cam.abs().amax(dim=1, keepdim=True)
    return (cam / torch.where(peak > 0, peak, torch.ones_like(peak))).numpy()
'''),
        ("scales each row by its minimum and maximum", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if kept[0].dim() != 3:
            raise ValueError("no time axis")
        chosen = _targets(logits, target)
        (G,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), kept[0])
    finally:
        handle.remove()
        _restore(modes)
    cam = torch.relu((G.mean(dim=2)[:, :, None] * kept[0]).sum(dim=1)).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=False)[:, 0]
    low, high = cam.amin(dim=1, keepdim=True), cam.amax(dim=1, keepdim=True)
    span = torch.where(high > low, high - low, torch.ones_like(high))
    return ((cam - low) / span).numpy()
'''),
        ("stretches with align_corners=True", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if kept[0].dim() != 3:
            raise ValueError("no time axis")
        chosen = _targets(logits, target)
        (G,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), kept[0])
    finally:
        handle.remove()
        _restore(modes)
    cam = torch.relu((G.mean(dim=2)[:, :, None] * kept[0]).sum(dim=1)).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=True)[:, 0]
    peak = cam.amax(dim=1, keepdim=True)
    return (cam / torch.where(peak > 0, peak, torch.ones_like(peak))).numpy()
'''),
        ("the ReLU after stretching", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if kept[0].dim() != 3:
            raise ValueError("no time axis")
        chosen = _targets(logits, target)
        (G,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), kept[0])
    finally:
        handle.remove()
        _restore(modes)
    cam = (G.mean(dim=2)[:, :, None] * kept[0]).sum(dim=1).detach()
    cam = torch.relu(F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=False)[:, 0])
    peak = cam.amax(dim=1, keepdim=True)
    return (cam / torch.where(peak > 0, peak, torch.ones_like(peak))).numpy()
'''),
        ("divides by the maximum even when it is 0 (NaN rows)", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if kept[0].dim() != 3:
            raise ValueError("no time axis")
        chosen = _targets(logits, target)
        (G,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), kept[0])
    finally:
        handle.remove()
        _restore(modes)
    cam = torch.relu((G.mean(dim=2)[:, :, None] * kept[0]).sum(dim=1)).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=False)[:, 0]
    return (cam / cam.amax(dim=1, keepdim=True)).numpy()
'''),
        ("backward(): leaves gradients on the parameters, and the hook on the layer", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    module.register_forward_hook(lambda m, i, o: (o.retain_grad(), kept.append(o)))
    model.eval()
    beats = _beats(model, x)
    logits = model(beats)
    if kept[0].dim() != 3:
        raise ValueError("no time axis")
    chosen = _targets(logits, target)
    logits[torch.arange(len(chosen)), chosen].sum().backward()
    _restore(modes)
    A = kept[0]
    cam = torch.relu((A.grad.mean(dim=2)[:, :, None] * A).sum(dim=1)).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="linear", align_corners=False)[:, 0]
    peak = cam.amax(dim=1, keepdim=True)
    return (cam / torch.where(peak > 0, peak, torch.ones_like(peak))).numpy()
'''),
        ("nearest-neighbour stretching", '''
def grad_cam(model, x, layer, target=None):
    module = dict(model.named_modules())[layer] if isinstance(layer, str) else layer
    kept, modes = [], _modes(model)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o))
    try:
        model.eval()
        beats = _beats(model, x)
        logits = model(beats)
        if kept[0].dim() != 3:
            raise ValueError("no time axis")
        chosen = _targets(logits, target)
        (G,) = torch.autograd.grad(logits[torch.arange(len(chosen)), chosen].sum(), kept[0])
    finally:
        handle.remove()
        _restore(modes)
    cam = torch.relu((G.mean(dim=2)[:, :, None] * kept[0]).sum(dim=1)).detach()
    cam = F.interpolate(cam[:, None], size=beats.shape[-1], mode="nearest")[:, 0]
    peak = cam.amax(dim=1, keepdim=True)
    return (cam / torch.where(peak > 0, peak, torch.ones_like(peak))).numpy()
'''),
    ],
    "5.5": [
        ("smallest first", '''
def top_activating(activations, channel, k):
    a = np.asarray(activations)
    if not (0 <= channel < a.shape[1] and 1 <= k <= a.shape[0]):
        raise ValueError("out of range")
    means = a[:, channel].mean(axis=-1) if a.ndim == 3 else a[:, channel]
    return np.argsort(means, kind="stable")[:k].astype(np.int64)
'''),
        ("the maximum over time instead of the mean", '''
def top_activating(activations, channel, k):
    a = np.asarray(activations)
    if not (0 <= channel < a.shape[1] and 1 <= k <= a.shape[0]):
        raise ValueError("out of range")
    means = a[:, channel].max(axis=-1) if a.ndim == 3 else a[:, channel]
    return np.argsort(-means, kind="stable")[:k].astype(np.int64)
'''),
        ("one beat too few", '''
def top_activating(activations, channel, k):
    a = np.asarray(activations)
    if not (0 <= channel < a.shape[1] and 1 <= k <= a.shape[0]):
        raise ValueError("out of range")
    means = a[:, channel].mean(axis=-1) if a.ndim == 3 else a[:, channel]
    return np.argsort(-means, kind="stable")[:k - 1].astype(np.int64)
'''),
        ("no check of channel and k", '''
def top_activating(activations, channel, k):
    a = np.asarray(activations)
    means = a[:, channel].mean(axis=-1) if a.ndim == 3 else a[:, channel]
    return np.argsort(-means, kind="stable")[:k].astype(np.int64)
'''),
        ("averages a dense layer's units over the units", '''
def top_activating(activations, channel, k):
    a = np.asarray(activations)
    if not (0 <= channel < a.shape[1] and 1 <= k <= a.shape[0]):
        raise ValueError("out of range")
    means = a[:, channel].mean(axis=-1) if a.ndim == 3 else a.mean(axis=1)
    return np.argsort(-means, kind="stable")[:k].astype(np.int64)
'''),
    ],
}

EQUIVALENT_MUTANTS = {
    ("5.1", "list(layers) -> layers"):
        "layers is a list or tuple of names, as documented: both can be walked twice (only a "
        "one-shot iterator would tell the two apart)",
    ("5.2", "0 -> -1"):
        "value[0] and value[-1] are the same element of Conv1d's one-element tuples "
        "(kernel_size=(5,), stride=(1,), dilation=(1,))",
    ("5.4", "F.interpolate(cam[:, None], size=beats.shape[-1], mode='linear', align_corners=False) "
            "-> F.interpolate(cam[:, None], size=beats.shape[-1], mode='linear')"):
        "align_corners=False is F.interpolate's default; the reference names it because the "
        "exercise sheet asks for exactly that stretching",
    ("5.4", "0 -> -1"):
        "kept[0] and kept[-1] are the one output the hook keeps (the layer runs once per "
        "forward pass), and [:, 0] and [:, -1] pick the same row of a one-channel axis",
    ("5.5", "np.argsort(-means, kind='stable') -> np.argsort(-means)"):
        "the two differ only in the order of beats with equal means, which the check accepts "
        "either way",
    ("5.5", "-1 -> 1"):
        "a[:, channel] has shape (N, L): its axis 1 is its last axis",
}
