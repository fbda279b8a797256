"""The AAMI EC57 heartbeat classes and how MIT-BIH annotation symbols map onto them.

=====  ==========================================  ======================
class  name                                        MIT-BIH symbols
=====  ==========================================  ======================
0  N   normal and bundle-branch-block beats        N L R e j
1  S   supraventricular ectopic beats              A a J S
2  V   ventricular ectopic beats                   V E
3  F   fusion of ventricular and normal            F
4  Q   paced, fusion of paced and normal, unknown  / f Q
=====  ==========================================  ======================

Every other symbol (``+ ~ | ! x [ ] "`` ...) marks something that is not a beat.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("N", "S", "V", "F", "Q")
CLASS_NAMES = (
    "normal",
    "supraventricular ectopic",
    "ventricular ectopic",
    "fusion",
    "paced / unknown",
)
SYMBOLS = {"N": "NLRej", "S": "AaJS", "V": "VE", "F": "F", "Q": "/fQ"}
SYMBOL_TO_CLASS = {symbol: k for k, cls in enumerate(CLASSES) for symbol in SYMBOLS[cls]}

#: The two classes of the PTB myocardial-infarction task.
PTB_CLASSES = ("normal", "MI")


def symbols_to_classes(symbols) -> np.ndarray:
    """AAMI class index (0..4) per annotation symbol; -1 for symbols that are not beats.

    Parameters
    ----------
    symbols : sequence of str, shape (n,)

    Returns
    -------
    ndarray, shape (n,), int64
    """
    return np.array([SYMBOL_TO_CLASS.get(str(s), -1) for s in symbols], dtype=np.int64)
