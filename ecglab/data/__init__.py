"""Ready-made data access for the course: records, beat datasets, Kaggle CSVs, splits, downloads,
and where each Kaggle row comes from (``provenance``).

>>> from ecglab import data
>>> ds = data.load_mitbih()          # real records if found, else Kaggle CSVs, else synthetic
>>> print(data.describe(ds))         # says loudly when the data is synthetic
>>> train, test = data.stratified_split(ds.y, seed=0)
>>> places = data.place_rows(*data.read_csv("mitbih_train.csv"), data.beat_index())  # record, sample per row
"""

from .aami import CLASSES, CLASS_NAMES, PTB_CLASSES, symbols_to_classes
from .beats import cut_beats, detect_and_cut, detect_r_peaks
from .datasets import (
    BeatDataset,
    describe,
    load_mitbih,
    load_record,
    load_ptb,
    mitbih_from_records,
    mitbih_record_names,
    mitbih_source,
    ptb_from_records,
    ptb_record_names,
    ptb_source,
    read_mitbih_record,
    read_ptb_record,
)
from .fetch import fetch_kaggle, fetch_physionet
from .kaggle import read_csv, write_csv
# Not the function provenance(): `data.provenance` stays the module (data.provenance.provenance).
from .provenance import BeatIndex, Placements, beat_index, index_records, place_rows, shared_patients
from .records import Record, read_wfdb, resample
from .splits import DS1, DS2, PACED, interpatient_split, stratified_split

__all__ = [
    "CLASSES", "CLASS_NAMES", "PTB_CLASSES", "symbols_to_classes",
    "cut_beats", "detect_and_cut", "detect_r_peaks",
    "BeatDataset", "describe", "load_mitbih", "load_record", "load_ptb", "mitbih_from_records",
    "mitbih_record_names", "mitbih_source", "ptb_from_records", "ptb_record_names", "ptb_source",
    "read_mitbih_record", "read_ptb_record",
    "fetch_kaggle", "fetch_physionet", "read_csv", "write_csv",
    "BeatIndex", "Placements", "beat_index", "index_records", "place_rows", "shared_patients",
    "Record", "read_wfdb", "resample",
    "DS1", "DS2", "PACED", "interpatient_split", "stratified_split",
]
