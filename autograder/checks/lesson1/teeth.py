"""The teeth of the lesson-1 checks: proof that they tell right from wrong.

The test suite runs these against the checks (``tests/test_grader.py``, ``tests/test_mutation.py``):

``CORRECT[id]``
    at least two implementations per exercise that differ from the reference (a loop where it
    vectorises, another formula, another dtype) and are right: each must get full marks.
``WRONG[id]``
    plausible mistakes, ``(what, source)``: each must get less than full marks, with a message
    that names the case that catches it.
``EQUIVALENT_MUTANTS``
    the mutants of the mutation run (``python -m autograder mutate``) that behave exactly like
    the reference, so no check can kill them: ``(exercise id, mutant description) -> why``.

Each source is Python appended to the reference ``preprocess.py``: its definition replaces the
reference one (the later ``def`` wins).
"""

CORRECT = {
    "1.1": [
        '''
def to_windows(signal, fs, seconds=10.0):
    n = int(round(seconds * fs))
    rows = [signal[i * n:(i + 1) * n] for i in range(len(signal) // n)]
    return np.array(rows, dtype=np.asarray(signal).dtype).reshape(-1, n)
''',
        '''
def to_windows(signal, fs, seconds=10.0):
    n = round(seconds * fs)
    signal = np.asarray(signal)
    if len(signal) < n:
        return np.empty((0, n), dtype=signal.dtype)
    return np.lib.stride_tricks.sliding_window_view(signal, n)[::n].copy()
''',
    ],
    "1.2": [
        '''
def normalize(x):
    x = np.asarray(x, dtype=float)
    rows = np.atleast_2d(x)
    out = np.zeros_like(rows)
    for i, row in enumerate(rows):
        lo, hi = row.min(), row.max()
        if hi > lo:
            out[i] = (row - lo) / (hi - lo)
    return out.reshape(x.shape)
''',
        '''
def normalize(x):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)      # float32 stays float32
    lo = np.min(x, axis=-1, keepdims=True)
    span = np.ptp(x, axis=-1, keepdims=True)
    safe = np.where(span == 0, 1, span)
    return np.where(span == 0, 0, (x - lo) / safe)
''',
    ],
    "1.3": [
        '''
def local_maxima(x):
    found = []
    for i in range(1, len(x) - 1):
        if x[i] > x[i - 1] and x[i] >= x[i + 1]:
            found.append(i)
    return np.array(found, dtype=np.int64)
''',
        '''
def local_maxima(x):
    d = np.diff(np.asarray(x, dtype=float))
    return np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0)).astype(np.int64) + 1
''',
    ],
    "1.4": [
        '''
def find_r_peaks(window, threshold=0.9):
    x = normalize(window)
    return np.array([p for p in local_maxima(x) if x[p] >= threshold], dtype=np.int64)
''',
        '''
def find_r_peaks(window, threshold=0.9):
    w = np.asarray(window, dtype=np.float32)
    span = w.max() - w.min()
    x = (w - w.min()) / span if span > 0 else np.zeros_like(w)
    is_peak = (x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]) & (x[1:-1] >= np.float32(threshold))
    return np.nonzero(is_peak)[0].astype(np.int64) + 1
''',
    ],
    "1.5": [
        '''
def nominal_period(r_peaks):
    if len(r_peaks) < 2:
        raise ValueError("fewer than two peaks")
    d = sorted(int(b) - int(a) for a, b in zip(r_peaks[:-1], r_peaks[1:]))
    m = len(d)
    return float(d[m // 2]) if m % 2 else (d[m // 2 - 1] + d[m // 2]) / 2
''',
        '''
def nominal_period(r_peaks):
    intervals = np.diff(np.asarray(r_peaks, dtype=float))
    if intervals.size == 0:
        raise ValueError("need two R peaks")
    return np.percentile(intervals, 50)   # a numpy float64, not a Python float
''',
    ],
    "1.6": [
        '''
def extract_beats(window, r_peaks, period, length=187, factor=1.2):
    window = np.asarray(window, dtype=float)
    span = round(factor * period)
    rows = []
    for r in r_peaks:
        segment = window[r:r + span][:length]
        rows.append(np.pad(normalize(segment), (0, length - len(segment))))
    return np.array(rows).reshape(len(rows), length)
''',
        '''
def extract_beats(window, r_peaks, period, length=187, factor=1.2):
    window = np.asarray(window, dtype=float)
    r_peaks = np.asarray(r_peaks, dtype=int)
    n = np.minimum(min(round(factor * period), length), len(window) - r_peaks)
    idx = np.minimum(r_peaks[:, None] + np.arange(length), len(window) - 1)
    valid = np.arange(length) < n[:, None]
    seg = window[idx]
    lo = np.where(valid, seg, np.inf).min(axis=1, keepdims=True)
    hi = np.where(valid, seg, -np.inf).max(axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.where(valid & (hi > lo), (seg - lo) / span, 0.0).reshape(len(r_peaks), length)
''',
    ],
    "1.7": [
        '''
def beats_from_signal(signal, fs=125, threshold=0.9):
    out = np.empty((0, 187))
    for x in normalize(to_windows(signal, fs)):
        peaks = find_r_peaks(x, threshold)
        if len(peaks) > 1:
            out = np.vstack([out, extract_beats(x, peaks, nominal_period(peaks))])
    return out
''',
        '''
def beats_from_signal(signal, fs=125, threshold=0.9):
    parts = []
    for window in to_windows(signal, fs):
        x = normalize(window)
        peaks = find_r_peaks(x, threshold)
        try:
            period = nominal_period(peaks)
        except ValueError:
            continue
        parts.append(extract_beats(x, peaks, period))
    return np.concatenate(parts) if parts else np.zeros((0, 187))
''',
    ],
    "1.8": [
        '''
AAMI = {s: k for k, group in enumerate(["NLRej", "AaJS", "VE", "F", "/fQ"]) for s in group}

def aami_class(symbol):
    return AAMI.get(symbol)
''',
        '''
def aami_class(symbol):
    if symbol in ("N", "L", "R", "e", "j"):
        return 0
    elif symbol in ("A", "a", "J", "S"):
        return 1
    elif symbol in ("V", "E"):
        return 2
    elif symbol == "F":
        return 3
    elif symbol in ("/", "f", "Q"):
        return 4
    return None
''',
    ],
}

WRONG = {
    "1.1": [
        ("truncates the window length with int()", '''
def to_windows(signal, fs, seconds=10.0):
    n = int(seconds * fs)
    k = len(signal) // n
    return np.asarray(signal)[: k * n].reshape(k, n)
'''),
        ("keeps the remainder, zero-padded", '''
def to_windows(signal, fs, seconds=10.0):
    n = int(round(seconds * fs))
    k = -(-len(signal) // n)
    out = np.zeros((k, n))
    out.flat[: len(signal)] = signal
    return out
'''),
        ("float64 windows (the signal's dtype is not kept)", '''
def to_windows(signal, fs, seconds=10.0):
    n = int(round(seconds * fs))
    k = len(signal) // n
    return np.array(signal[: k * n], dtype=float).reshape(k, n)
'''),
    ],
    "1.2": [
        ("one min and max for the whole 2-D array", '''
def normalize(x):
    x = np.asarray(x, dtype=float)
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)
'''),
        ("computes in int16, where x - min overflows", '''
def normalize(x):
    x = np.asarray(x)
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    return np.divide(x - lo, span, out=np.zeros(x.shape), where=span > 0)
'''),
        ("divides by zero on a constant row", '''
def normalize(x):
    x = np.asarray(x, dtype=float)
    lo = x.min(axis=-1, keepdims=True)
    return (x - lo) / (x.max(axis=-1, keepdims=True) - lo)
'''),
        ("where= without out=: the skipped places hold whatever was in memory", '''
def normalize(x):
    x = np.asarray(x, dtype=float)
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    return np.divide(x - lo, span, where=span > 0)
'''),
    ],
    "1.3": [
        ("strict on both sides (flat tops never count)", '''
def local_maxima(x):
    x = np.asarray(x)
    return np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] > x[2:])) + 1
'''),
        ("counts the last sample of a plateau", '''
def local_maxima(x):
    x = np.asarray(x)
    return np.flatnonzero((x[1:-1] >= x[:-2]) & (x[1:-1] > x[2:])) + 1
'''),
        ("off by one: the positions in x[1:-1], not in x", '''
def local_maxima(x):
    x = np.asarray(x)
    return np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:])).astype(np.int64)
'''),
        ("int32 indices (what np.intp is on Windows with NumPy < 2)", '''
def local_maxima(x):
    found = [i for i in range(1, len(x) - 1) if x[i] > x[i - 1] and x[i] >= x[i + 1]]
    return np.array(found, dtype=np.int32)
'''),
    ],
    "1.4": [
        ("does not normalise first", '''
def find_r_peaks(window, threshold=0.9):
    peaks = local_maxima(window)
    return peaks[np.asarray(window)[peaks] >= threshold]
'''),
        ("ignores the threshold argument (always 0.9)", '''
def find_r_peaks(window, threshold=0.9):
    x = normalize(window)
    peaks = local_maxima(x)
    return peaks[x[peaks] >= 0.9]
'''),
        ("> instead of >=", '''
def find_r_peaks(window, threshold=0.9):
    x = normalize(window)
    peaks = local_maxima(x)
    return peaks[x[peaks] > threshold]
'''),
        ("int32 indices", '''
def find_r_peaks(window, threshold=0.9):
    x = normalize(window)
    return np.array([p for p in local_maxima(x) if x[p] >= threshold], dtype=np.int32)
'''),
    ],
    "1.5": [
        ("the mean instead of the median", '''
def nominal_period(r_peaks):
    if len(r_peaks) < 2:
        raise ValueError("no interval")
    return float(np.mean(np.diff(r_peaks)))
'''),
        ("returns 0 instead of raising", '''
def nominal_period(r_peaks):
    if len(r_peaks) < 2:
        return 0.0
    return float(np.median(np.diff(r_peaks)))
'''),
        ("rounds the median down to an int", '''
def nominal_period(r_peaks):
    if len(r_peaks) < 2:
        raise ValueError("no interval")
    return int(np.median(np.diff(r_peaks)))
'''),
    ],
    "1.6": [
        ("truncates 1.2 T with int()", '''
def extract_beats(window, r_peaks, period, length=187, factor=1.2):
    span = int(factor * period)
    beats = np.zeros((len(r_peaks), length))
    for row, r in enumerate(r_peaks):
        segment = np.asarray(window, dtype=float)[r: r + span][:length]
        beats[row, : len(segment)] = normalize(segment)
    return beats
'''),
        ("normalises before cutting to length", '''
def extract_beats(window, r_peaks, period, length=187, factor=1.2):
    span = int(round(factor * period))
    beats = np.zeros((len(r_peaks), length))
    for row, r in enumerate(r_peaks):
        segment = normalize(np.asarray(window, dtype=float)[r: r + span])[:length]
        beats[row, : len(segment)] = segment
    return beats
'''),
    ],
    "1.7": [
        ("does not skip windows without two peaks", '''
def beats_from_signal(signal, fs=125, threshold=0.9):
    beats = [np.zeros((0, 187))]
    for window in to_windows(signal, fs):
        x = normalize(window)
        peaks = find_r_peaks(x, threshold)
        beats.append(extract_beats(x, peaks, nominal_period(peaks)))
    return np.concatenate(beats)
'''),
        ("ignores fs (always 125 Hz windows)", '''
def beats_from_signal(signal, fs=125, threshold=0.9):
    beats = [np.zeros((0, 187))]
    for window in to_windows(signal, 125):
        x = normalize(window)
        peaks = find_r_peaks(x, threshold)
        if len(peaks) >= 2:
            beats.append(extract_beats(x, peaks, nominal_period(peaks)))
    return np.concatenate(beats)
'''),
        ("np.concatenate of an empty list when no window gives beats", '''
def beats_from_signal(signal, fs=125, threshold=0.9):
    beats = []
    for window in to_windows(signal, fs):
        x = normalize(window)
        peaks = find_r_peaks(x, threshold)
        if len(peaks) >= 2:
            beats.append(extract_beats(x, peaks, nominal_period(peaks)))
    return np.concatenate(beats)
'''),
    ],
    "1.8": [
        ("forgets e and j", '''
def aami_class(symbol):
    return {s: k for k, g in enumerate(["NLR", "AaJS", "VE", "F", "/fQ"]) for s in g}.get(symbol)
'''),
        ("-1 instead of None for non-beats", '''
def aami_class(symbol):
    return {s: k for k, g in enumerate(["NLRej", "AaJS", "VE", "F", "/fQ"]) for s in g}.get(symbol, -1)
'''),
    ],
}


EQUIVALENT_MUTANTS = {
    ("1.1", "np.asarray(signal) -> signal"):
        "signal is only sliced and reshaped: numpy does that to any array-like the same way",
    ("1.1", "int(round(seconds * fs)) -> round(seconds * fs)"):
        "Python's round() of a float already returns an int",
    ("1.1", "signal[:n_windows * n].reshape(n_windows, n).copy() -> "
            "signal[:n_windows * n].reshape(n_windows, n)"):
        "a view has the same values; the contract does not ask for a copy",
    ("1.3", "np.asarray(x) -> x"): "the contract's input is a numpy array already",
    ("1.3", "(np.flatnonzero(is_max) + 1).astype(np.int64) -> np.flatnonzero(is_max) + 1"):
        "np.flatnonzero returns int64 on 64-bit platforms",
    ("1.5", "np.asarray(r_peaks) -> r_peaks"): "the contract's input is a numpy array already",
    ("1.5", "float(np.median(np.diff(r_peaks))) -> np.median(np.diff(r_peaks))"):
        "a numpy float64 is a Python float (a subclass) with the same value",
    ("1.5", "len(r_peaks) -> r_peaks"): "only changes the wording of the error message",
    ("1.6", "np.asarray(window, dtype=np.float64) -> window"):
        "each segment is normalised (to float) anyway, and the output array is float",
    ("1.6", "np.asarray(window, dtype=np.float64) -> np.asarray(window)"):
        "each segment is normalised (to float) anyway, and the output array is float",
    ("1.6", "int(round(factor * period)) -> round(factor * period)"):
        "Python's round() of a float already returns an int",
    ("1.6", "np.asarray(r_peaks, dtype=np.int64) -> r_peaks"):
        "the contract's R peaks are int64 arrays already",
    ("1.6", "np.asarray(r_peaks, dtype=np.int64) -> np.asarray(r_peaks)"):
        "the contract's R peaks are int64 arrays already",
    ("1.7", "np.zeros((0, 187)) -> np.ones((0, 187))"): "an empty array holds no values",
    ("1.7", "normalize(window) -> window"):
        "find_r_peaks normalises the window itself and extract_beats normalises each beat: the "
        "paper's window normalisation does not change the beats (see ecglab/data/beats.py)",
}
