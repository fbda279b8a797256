"""Train/test splits of a beat dataset: by beat (as the Kaggle CSVs) and by patient (de Chazal 2004).

A beat split puts beats of the same patient on both sides, so a model can score well by
recognising the patient rather than the arrhythmia ("intra-patient"). The inter-patient split of
de Chazal, O'Dwyer & Reilly (2004) keeps every record on one side and is the honest test.
"""

from __future__ import annotations

import numpy as np

#: Paced records; the AAMI recommendation excludes them from inter-patient evaluation.
PACED = ("102", "104", "107", "217")
#: de Chazal et al. 2004, training set (22 records).
DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124",
       "201", "203", "205", "207", "208", "209", "215", "220", "223", "230")
#: de Chazal et al. 2004, test set (22 records).
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212",
       "213", "214", "219", "221", "222", "228", "231", "232", "233", "234")


def stratified_split(y: np.ndarray, test_fraction: float = 0.2,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of beat indices with the same class proportions on both sides.

    Parameters
    ----------
    y : ndarray, shape (n,), int
        Class labels.
    test_fraction : float
        Share of each class that goes to the test side (rounded to the nearest beat).

    Returns
    -------
    train, test : ndarray of int64, sorted indices into ``y``; disjoint, together all of ``y``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction: must be between 0 and 1, got {test_fraction}")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    test = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        n_test = int(round(test_fraction * len(members)))
        test.append(rng.choice(members, size=n_test, replace=False))
    test = np.sort(np.concatenate(test)).astype(np.int64) if test else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(len(y)), test).astype(np.int64)
    return train, test


def interpatient_split(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beat indices of DS1 (train) and DS2 (test); beats of paced and other records are left out.

    Parameters
    ----------
    records : ndarray, shape (n,), str
        The record id of every beat (``BeatDataset.record``).

    Returns
    -------
    train, test : ndarray of int64, sorted indices.
    """
    records = np.asarray(records).astype(str)
    return (np.flatnonzero(np.isin(records, DS1)).astype(np.int64),
            np.flatnonzero(np.isin(records, DS2)).astype(np.int64))
