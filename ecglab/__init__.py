"""ecglab: ECG heartbeat classification with 1-D convolutional networks.

The package of the ecg-course (after Kachuee, Fazeli & Sarrafzadeh 2018). Students fill in the
exercise modules lesson by lesson; everything else is ready-made:

=================  ==========================================================  ==========
module             what it holds                                                lesson
=================  ==========================================================  ==========
``preprocess``     the Kachuee beat-extraction scheme (exercises 1.1-1.8)      1
``models``         the two CNNs and their parts (exercises 2.1-2.5)             2
``train``          class weights, the training loop, metrics (3.1-3.6)         3
``transfer``       a new head, freezing layers (exercises 4.1-4.2)             4
``interpret``      hooks, receptive fields, saliency, Grad-CAM (5.1-5.5)       5
``training``       device, loaders, ``fit``, live curves, checkpoints          ready-made
``explorers``      the ipywidgets explorers of lesson 5                        ready-made
``data``           MIT-BIH / PTB records, beat datasets, Kaggle CSVs, splits,  ready-made
                   downloads and the synthetic ECG generator
``plots``          the figures the lessons draw                                 ready-made
``architecture``   lengths, shape traces and parameter tables of a network      ready-made
``cli``            ``python -m ecglab``                                         ready-made
=================  ==========================================================  ==========

Submodules are imported on first use, so ``import ecglab`` stays fast and does not import torch.
"""

import importlib

__version__ = "0.1.0"

_READY_MADE = ("config", "errors", "data", "plots", "architecture", "cli", "reproduce")


def __getattr__(name):
    # Lazy submodules: `ecglab.preprocess` works without an explicit import (also each lesson's
    # exercise module, found by name).
    if not name.startswith("_"):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'ecglab' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_READY_MADE))
