"""The teeth of the lesson-4 checks: proof that they tell right from wrong (see lesson 1's
``teeth.py`` for the format). Each source is Python appended to the reference ``transfer.py``
(which imports ``nn`` from torch and defines ``WEIGHT_LAYERS``); its definition replaces the
reference one (the later ``def`` wins).
"""

CORRECT = {
    "4.1": [
        # walk named_children recursively, keeping the parent of the last Linear met
        '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")

    def last_linear(module):
        found = None
        for name, child in module.named_children():
            if isinstance(child, nn.Linear):
                found = (module, name, child)
            deeper = last_linear(child)
            if deeper is not None:
                found = deeper
        return found

    found = last_linear(model)
    if found is None:
        raise ValueError("no nn.Linear in the model")
    parent, name, old = found
    new = nn.Linear(old.in_features, n_classes, device=old.weight.device, dtype=old.weight.dtype)
    if isinstance(parent, nn.Sequential) and name.isdigit():
        parent[int(name)] = new
    else:
        setattr(parent, name, new)
    return model
''',
        # the dotted name resolved with functools.reduce(getattr), the layer built then moved
        '''
def replace_head(model, n_classes):
    import functools
    if not n_classes >= 1:
        raise ValueError(f"n_classes={n_classes}: a head needs one output at least")
    last = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = (name, module)
    if last is None:
        raise ValueError("the model has no Linear layer")
    path = last[0].split(".")
    parent = functools.reduce(getattr, path[:-1], model)
    old = last[1]
    head = nn.Linear(in_features=old.weight.shape[1], out_features=n_classes, bias=True)
    parent.add_module(path[-1], head.to(old.weight.dtype).to(old.weight.device))
    return model
''',
        # the parents in a dict from named_modules, the new layer registered with _modules
        '''
def replace_head(model, n_classes):
    modules = dict(model.named_modules())
    names = [n for n, m in modules.items() if isinstance(m, nn.Linear)]
    if not names:
        raise ValueError("nothing to replace: no nn.Linear")
    if n_classes <= 0:
        raise ValueError("n_classes must be positive")
    name = names[-1]
    parent_name, attribute = name.rsplit(".", 1) if "." in name else ("", name)
    parent, old = modules[parent_name], modules[name]
    new = nn.Linear(old.in_features, n_classes)
    new = new.to(device=next(old.parameters()).device, dtype=next(old.parameters()).dtype)
    parent._modules[attribute] = new
    return model
''',
    ],
    "4.2": [
        # the names of the trainable parameters first, then one pass over named_parameters
        '''
def set_trainable(model, n_trainable):
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    if n_trainable < 0 or n_trainable > len(layers):
        raise ValueError(f"n_trainable must lie in 0..{len(layers)}")
    chosen = {name for name, _ in layers[len(layers) - n_trainable:]}
    for name, p in model.named_parameters():
        owner = name.rsplit(".", 1)[0]
        p.requires_grad = owner in chosen
    return model
''',
        # a countdown over the reversed list, parameters frozen one by one
        '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not isinstance(n_trainable, int) or not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    for p in model.parameters():
        p.requires_grad_(False)
    left = n_trainable
    for layer in reversed(layers):
        if left == 0:
            break
        for p in layer.parameters():
            p.requires_grad_(True)
        left -= 1
    return model
''',
        # an index test in one loop, with the parameter objects' identities
        '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, nn.Conv1d) or isinstance(m, nn.Linear)]
    n = len(layers)
    if n_trainable not in range(n + 1):
        raise ValueError(f"choose n_trainable between 0 and {n}")
    keep = set()
    for i, layer in enumerate(layers):
        if i >= n - n_trainable:
            keep.update(id(p) for p in layer.parameters())
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return model
''',
    ],
}

WRONG = {
    "4.1": [
        ("works only for model.classifier[-1]", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    old = model.classifier[-1]
    model.classifier[-1] = nn.Linear(old.in_features, n_classes)
    return model
'''),
        ("copies the old layer's weights into the new one", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    new = nn.Linear(old.in_features, n_classes)
    k = min(n_classes, old.out_features)
    new.weight.data[:k] = old.weight.data[:k]
    new.bias.data[:k] = old.bias.data[:k]
    setattr(parent, attribute, new)
    return model
'''),
        ("keeps requires_grad False of a frozen model", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    new = nn.Linear(old.in_features, n_classes).requires_grad_(old.weight.requires_grad)
    setattr(parent, attribute, new)
    return model
'''),
        ("replaces the first Linear, not the last", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no nn.Linear")
    parent_name, _, attribute = linears[0].rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    setattr(parent, attribute, nn.Linear(old.in_features, n_classes))
    return model
'''),
        ("the old layer's out_features as the new in_features", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no nn.Linear")
    parent_name, _, attribute = linears[-1].rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    setattr(parent, attribute, nn.Linear(old.out_features, n_classes))
    return model
'''),
        ("nothing done when the number of classes is already right", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no nn.Linear")
    parent_name, _, attribute = linears[-1].rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    if old.out_features != n_classes:
        setattr(parent, attribute, nn.Linear(old.in_features, n_classes))
    return model
'''),
        ("a new Linear added after the old one instead of in its place", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no nn.Linear")
    model.add_module("new_head", nn.Linear(linears[-1].out_features, n_classes))
    return model
'''),
        ("the new layer left on the CPU, in float32", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no nn.Linear")
    parent_name, _, attribute = linears[-1].rpartition(".")
    parent = model.get_submodule(parent_name)
    setattr(parent, attribute, nn.Linear(getattr(parent, attribute).in_features, n_classes))
    return model
'''),
        ("the model not returned", '''
def replace_head(model, n_classes):
    if n_classes < 1:
        raise ValueError("n_classes must be at least 1")
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no nn.Linear")
    parent_name, _, attribute = linears[-1].rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    setattr(parent, attribute, nn.Linear(old.in_features, n_classes).to(old.weight.device, old.weight.dtype))
'''),
    ],
    "4.2": [
        ("never freezes: only sets the last layers trainable", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    for layer in layers[len(layers) - n_trainable:]:
        layer.requires_grad_(True)
    return model
'''),
        ("freezes the other Conv1d/Linear layers, but not batch norm", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    for layer in layers[len(layers) - n_trainable:]:
        layer.requires_grad_(True)
    for layer in layers[:len(layers) - n_trainable]:
        layer.requires_grad_(False)
    return model
'''),
        ("batch norm counted as a layer (every module with parameters)", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules()
              if list(m.parameters(recurse=False))]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    model.requires_grad_(False)
    for layer in layers[len(layers) - n_trainable:]:
        layer.requires_grad_(True)
    return model
'''),
        ("layers[-n_trainable:]: 0 makes everything trainable", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    model.requires_grad_(False)
    for layer in layers[-n_trainable:]:
        layer.requires_grad_(True)
    return model
'''),
        ("the first n_trainable layers, not the last", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    model.requires_grad_(False)
    for layer in layers[:n_trainable]:
        layer.requires_grad_(True)
    return model
'''),
        ("only the weights unfrozen, not the biases", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    model.requires_grad_(False)
    for layer in layers[len(layers) - n_trainable:]:
        layer.weight.requires_grad = True
    return model
'''),
        ("the model's direct children counted, not its modules", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.children() if list(m.parameters())]
    if not 0 <= n_trainable <= len(layers):
        raise ValueError("n_trainable out of range")
    model.requires_grad_(False)
    for layer in layers[len(layers) - n_trainable:]:
        layer.requires_grad_(True)
    return model
'''),
        ("no check of n_trainable", '''
def set_trainable(model, n_trainable):
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    model.requires_grad_(False)
    for layer in layers[max(0, len(layers) - n_trainable):]:
        layer.requires_grad_(True)
    return model
'''),
    ],
}

#: (exercise id, mutant description) -> why no check can tell it from the reference.
EQUIVALENT_MUTANTS = {
    ("4.2", "len(layers) -> layers"):
        "only changes the wording of the error message (both places the message names the "
        "number of layers)",
}
