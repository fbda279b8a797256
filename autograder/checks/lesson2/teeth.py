"""The teeth of the lesson-2 checks: proof that they tell right from wrong (see lesson 1's
``teeth.py`` for the format). Each source is Python appended to the reference ``models.py``; its
definition replaces the reference one (the later ``def`` or ``class`` wins, also for the
reference classes that use it by name, such as ``KachueeNet`` using ``ResidualBlock``).
"""

CORRECT = {
    "2.1": [
        '''
def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    import math
    out = math.floor((length + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)
    if out < 1:
        raise ValueError("the output would be empty")
    return out
''',
        '''
def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    # count the positions the kernel's first sample can take
    padded = length + 2 * padding
    last_start = padded - (kernel_size - 1) * dilation - 1
    positions = len(range(0, last_start + 1, stride)) if last_start >= 0 else 0
    if positions == 0:
        raise ValueError(f"input of {length} samples is too short")
    return positions
''',
    ],
    "2.2": [
        # functional ReLU, pooling registered first, other attribute names
        '''
class ResidualBlock(nn.Module):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__()
        self.down = nn.MaxPool1d(kernel_size=5, stride=2)
        self.first = nn.Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2)
        self.second = nn.Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2)

    def forward(self, x):
        out = torch.nn.functional.relu(self.first(x))
        out = self.second(out)
        return self.down(torch.nn.functional.relu(out + x))
''',
        # the convolutions in an nn.Sequential, ReLU modules, an in-place ReLU on a new tensor
        '''
class ResidualBlock(nn.Module):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__()
        pad = kernel_size // 2
        self.body = nn.Sequential(nn.Conv1d(channels, channels, kernel_size, padding=pad),
                                  nn.ReLU(),
                                  nn.Conv1d(channels, channels, kernel_size, padding=pad))
        self.act = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool1d(5, 2)

    def forward(self, x):
        return self.pool(self.act(self.body(x) + x))
''',
    ],
    "2.3": [
        # explicit attributes per layer, classifier registered before features, view() to flatten
        '''
class KachueeNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.classifier = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32),
                                        nn.ReLU(), nn.Linear(32, n_classes))
        self.stem = nn.Conv1d(1, 32, kernel_size=5, stride=1, padding=2)
        self.blocks = nn.ModuleList([ResidualBlock(32, 5) for _ in range(5)])
        self.features = nn.Sequential(self.stem, *self.blocks)

    def forward(self, x):
        if x.ndim == 2:
            x = x[:, None, :]
        h = self.features(x)
        return self.classifier(h.view(h.size(0), -1))
''',
        # an OrderedDict of named layers, nn.Flatten inside the classifier, reshape of 2-D input
        '''
from collections import OrderedDict

class KachueeNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        layers = [("conv", nn.Conv1d(1, 32, 5, padding=2))]
        layers += [(f"block{i}", ResidualBlock()) for i in range(1, 6)]
        self.features = nn.Sequential(OrderedDict(layers))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()), ("fc1", nn.Linear(64, 32)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(32, 32)), ("relu2", nn.ReLU()), ("out", nn.Linear(32, n_classes))]))

    def forward(self, x):
        x = x.reshape(x.shape[0], 1, -1)
        return self.classifier(torch.flatten(self.features(x), 1))
''',
    ],
    "2.4": [
        '''
class SimpleCNN(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        def block(c_in, c_out, k):
            return [nn.Conv1d(c_in, c_out, k, padding=(k - 1) // 2), nn.ReLU(), nn.MaxPool1d(2, 2)]
        self.features = nn.Sequential(*block(1, 16, 7), *block(16, 32, 5), *block(32, 64, 5),
                                      *block(64, 64, 3))
        n = 187
        for _ in range(4):
            n = conv_output_length(n, 2, stride=2)
        self.classifier = nn.Sequential(nn.Linear(64 * n, 128), nn.ReLU(), nn.Linear(128, 64),
                                        nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                                        nn.Linear(32, n_classes))

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x).flatten(start_dim=1))
''',
        # functional pooling and ReLU in forward, the convolutions in a ModuleList
        '''
class SimpleCNN(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(1, 16, 7, padding=3), nn.Conv1d(16, 32, 5, padding=2),
                                    nn.Conv1d(32, 64, 5, padding=2), nn.Conv1d(64, 64, 3, padding=1)])
        self.features = nn.Sequential(*[m for c in self.convs for m in (c, nn.ReLU(), nn.MaxPool1d(2))])
        self.fcs = [nn.Linear(704, 128), nn.Linear(128, 64), nn.Linear(64, 32), nn.Linear(32, n_classes)]
        self.classifier = nn.Sequential(self.fcs[0], nn.ReLU(), self.fcs[1], nn.ReLU(),
                                        self.fcs[2], nn.ReLU(), self.fcs[3])

    def forward(self, x):
        x = x.view(len(x), 1, 187) if x.dim() == 2 else x
        return self.classifier(self.features(x).reshape(len(x), -1))
''',
    ],
    "2.5": [
        '''
def count_parameters(model, trainable_only=False):
    import math
    total = 0
    for p in model.parameters():
        if trainable_only and not p.requires_grad:
            continue
        total += math.prod(p.shape)
    return total
''',
        '''
def count_parameters(model, trainable_only=False):
    seen = {}
    for name, p in model.named_parameters():      # named_parameters() skips shared ones too
        if p.requires_grad or not trainable_only:
            seen[name] = p.numel()
    return int(sum(seen.values()))
''',
    ],
}

WRONG = {
    "2.1": [
        ("true division: a float", '''
def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1
'''),
        ("dilation ignored", '''
def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    out = (length + 2 * padding - kernel_size) // stride + 1
    if out < 1:
        raise ValueError("empty")
    return out
'''),
        ("padding on one side only", '''
def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    out = (length + padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError("empty")
    return out
'''),
        ("int() rounds towards zero, no error for an empty output", '''
def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    return int((length + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
'''),
    ],
    "2.2": [
        ("ReLU before the addition", '''
_Reference = ResidualBlock

class ResidualBlock(_Reference):
    def forward(self, x):
        y = self.conv2(torch.relu(self.conv1(x)))
        return self.pool(torch.relu(y) + x)
'''),
        ("no ReLU after the addition", '''
_Reference = ResidualBlock

class ResidualBlock(_Reference):
    def forward(self, x):
        return self.pool(self.conv2(torch.relu(self.conv1(x))) + x)
'''),
        ("pooling stride wrong (MaxPool1d(5) strides by 5)", '''
_Reference = ResidualBlock

class ResidualBlock(_Reference):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__(channels, kernel_size)
        self.pool = nn.MaxPool1d(5)
'''),
        ("padding off by one (fits kernel 5 only)", '''
_Reference = ResidualBlock

class ResidualBlock(_Reference):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__(channels, kernel_size)
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, padding=2)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=2)
'''),
        ("one convolution used twice", '''
class ResidualBlock(nn.Module):
    def __init__(self, channels=32, kernel_size=5):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.pool = nn.MaxPool1d(5, stride=2)

    def forward(self, x):
        return self.pool(torch.relu(self.conv(torch.relu(self.conv(x))) + x))
'''),
        ("the input changed in place", '''
_Reference = ResidualBlock

class ResidualBlock(_Reference):
    def forward(self, x):
        y = self.conv2(torch.relu(self.conv1(x)))
        x += y
        return self.pool(torch.relu(x))
'''),
    ],
    "2.3": [
        ("softmax at the end", '''
_Reference = KachueeNet

class KachueeNet(_Reference):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)
'''),
        ("one block repeated five times", '''
class KachueeNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        block = ResidualBlock(32, 5)
        self.features = nn.Sequential(nn.Conv1d(1, 32, 5, padding=2), *[block] * 5)
        self.classifier = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                                        nn.Linear(32, n_classes))

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x).flatten(1))
'''),
        ("no ReLU between the dense layers", '''
class KachueeNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 32, 5, padding=2), *[ResidualBlock() for _ in range(5)])
        self.classifier = nn.Sequential(nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(32, n_classes))

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x).flatten(1))
'''),
        ("(N, 187) input not given a channel axis", '''
_Reference = KachueeNet

class KachueeNet(_Reference):
    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
'''),
        ("four blocks and a wider first Linear", '''
class KachueeNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 32, 5, padding=2), *[ResidualBlock() for _ in range(4)])
        self.classifier = nn.Sequential(nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                                        nn.Linear(32, n_classes))

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x).flatten(1))
'''),
        ("n_classes ignored", '''
_Reference = KachueeNet

class KachueeNet(_Reference):
    def __init__(self, n_classes=5):
        super().__init__(5)
'''),
        ("forward does not use features (a ReLU that the parts miss)", '''
_Reference = KachueeNet

class KachueeNet(_Reference):
    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.classifier(torch.relu(self.features(x)).flatten(1) * 0.5)
'''),
    ],
    "2.4": [
        ("average pooling instead of max pooling", '''
_Reference = SimpleCNN

class SimpleCNN(_Reference):
    def __init__(self, n_classes=5):
        super().__init__(n_classes)
        for i, m in enumerate(self.features):
            if isinstance(m, nn.MaxPool1d):
                self.features[i] = nn.AvgPool1d(2)
'''),
        ("padding off by one in the first convolution", '''
_Reference = SimpleCNN

class SimpleCNN(_Reference):
    def __init__(self, n_classes=5):
        super().__init__(n_classes)
        self.features[0] = nn.Conv1d(1, 16, 7, padding=2)
        self.classifier[0] = nn.Linear(640, 128)
'''),
        ("no ReLU after the convolutions", '''
_Reference = SimpleCNN

class SimpleCNN(_Reference):
    def __init__(self, n_classes=5):
        super().__init__(n_classes)
        self.features = nn.Sequential(*[m for m in self.features if not isinstance(m, nn.ReLU)])
'''),
        ("three dense layers instead of four", '''
_Reference = SimpleCNN

class SimpleCNN(_Reference):
    def __init__(self, n_classes=5):
        super().__init__(n_classes)
        self.classifier = nn.Sequential(nn.Linear(704, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                                        nn.Linear(64, n_classes))
'''),
    ],
    "2.5": [
        ("trainable_only ignored", '''
def count_parameters(model, trainable_only=False):
    return sum(p.numel() for p in model.parameters())
'''),
        ("buffers counted too (state_dict)", '''
def count_parameters(model, trainable_only=False):
    return sum(t.numel() for t in model.state_dict().values()
               if not trainable_only or t.requires_grad)
'''),
        ("number of parameter tensors, not of numbers", '''
def count_parameters(model, trainable_only=False):
    return len([p for p in model.parameters() if p.requires_grad or not trainable_only])
'''),
        ("shared layers counted twice", '''
def count_parameters(model, trainable_only=False):
    return sum(p.numel() for layer in model for p in layer.parameters()
               if p.requires_grad or not trainable_only)
'''),
        ("freezes the model while counting", '''
def count_parameters(model, trainable_only=False):
    total = sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
    model.eval()
    return total
'''),
    ],
}

#: (exercise id, mutant description) -> why no check can tell it from the reference.
EQUIVALENT_MUTANTS = {
    ("2.1", "int(out) -> out"):
        "out is already an int (// of ints gives an int), so int() changes nothing; it is there "
        "for readers who pass numpy integers",
    ("2.1", "(length + 2 * padding - span) // stride -> (length + 2 * padding - span) / stride"):
        "for a numerator >= 0 the int() at the end floors the quotient exactly as // does, and "
        "for a negative one both give an output below 1, which raises ValueError either way",
}
