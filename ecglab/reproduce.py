"""``python -m ecglab reproduce``: the reference pipeline of the course, with a report and figures.

data -> beats -> train -> evaluate -> transfer -> interpret. A stage that the pipeline does not
run yet is listed under ``"not_yet"`` in ``results.json`` and its results are ``null`` — never
made up. (Lessons 3 and 4 train and transfer the network with their own, shorter settings.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

#: Stages that later lessons add; each names the lesson that brings it.
NOT_YET = {
    "mitbih_beat": "the full training recipe on the beat split (lesson 3 runs a short version)",
    "mitbih_interpatient": "the full recipe on DS1 -> DS2 (lesson 3 runs a short version)",
    "ptb_beat": "myocardial-infarction model on PTB (lesson 4 runs a short version)",
    "transfer": "transfer per number of trained layers, full settings (lesson 4 runs a short version)",
    "interpret": "activations, receptive fields, saliency and Grad-CAM (lesson 5)",
}


def _figure_beats(ds, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots
    fig, axes = plt.subplots(1, len(ds.classes), figsize=(3 * len(ds.classes), 2.8), sharey=True)
    plots.class_overlays(ds.X, ds.y, classes=ds.classes, axes=axes, fs=ds.fs)
    fig.suptitle(f"{ds.name}: beats per class ({ds.source} data)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def detector_counts(data_dir=None, records: list[str] | None = None) -> dict:
    """Beats found by the 0.9 threshold detector vs. annotated beats, over the MIT-BIH records."""
    from . import data
    from .data.synthetic import MITBIH_NAMES, synthetic_mitbih_records

    if data.mitbih_record_names(data_dir):
        recs = [data.read_mitbih_record(n, data_dir) for n in records or data.mitbih_record_names(data_dir)]
    else:
        recs = synthetic_mitbih_records(names=tuple(records or MITBIH_NAMES))
    from tqdm.auto import tqdm

    from .cli import show_progress
    detected = annotated = 0
    for record in tqdm(recs, desc="threshold detector", unit="record", leave=False,
                       disable=not show_progress()):
        rec = data.resample(record, 125)
        detected += len(data.detect_and_cut(rec.signal))
        annotated += int((rec.beat_classes >= 0).sum())
    return {"records": len(recs), "detected": detected, "annotated": annotated}


def reproduce(out: Path, data_dir=None, quick: bool = False) -> int:
    """Run the pipeline into ``out``: ``results.json``, ``report.md``, ``figures/``."""
    from . import data
    from .cli import dataset_info, show_progress

    started = time.perf_counter()
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    mitbih = data.load_mitbih(data_dir, progress=show_progress(),
                              records=list(data.DS1[:6] + data.DS2[:6]) if quick else None)
    ptb = data.load_ptb(data_dir)
    print(data.describe(mitbih, data_dir))
    print(data.describe(ptb, data_dir))
    _figure_beats(mitbih, out / "figures" / "mitbih_beats_per_class.png")
    if ptb is not None and len(ptb):
        _figure_beats(ptb, out / "figures" / "ptb_beats_per_class.png")

    results = {
        "data_source": mitbih.source,
        "data": dataset_info(data_dir) if not quick else None,
        "beats": {"mitbih": {"n_beats": len(mitbih), "per_class": mitbih.per_class(),
                             "records": mitbih.n_records},
                  "ptb": None if ptb is None else {"n_beats": len(ptb), "per_class": ptb.per_class(),
                                                   "records": ptb.n_records}},
        "detector": detector_counts(data_dir, records=list(np.unique(mitbih.record)) if quick else None)
                    if mitbih.origin != "kaggle" else None,
        **{key: None for key in NOT_YET},
        "not_yet": NOT_YET,
        "seconds": None,
    }
    results["seconds"] = round(time.perf_counter() - started, 1)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    report = render_report(results)
    (out / "report.md").write_text(report)
    print(report)
    return 0


def render_report(results: dict) -> str:
    """The results as a short Markdown report."""
    lines = ["# ecg-course: reference pipeline", ""]
    if results["data_source"] == "synthetic":
        lines += ["**SYNTHETIC DATA**: no real records were found; every number below describes "
                  "ecglab's synthetic ECG generator, not patients.", ""]
    beats = results["beats"]["mitbih"]
    lines.append(f"- MIT-BIH beats: {beats['n_beats']:,} from {beats['records']} records, per class "
                 f"N/S/V/F/Q = {' / '.join(f'{n:,}' for n in beats['per_class'])}")
    ptb = results["beats"]["ptb"]
    if ptb:
        lines.append(f"- PTB beats: {ptb['n_beats']:,} from {ptb['records']} records, "
                     f"normal/MI = {' / '.join(f'{n:,}' for n in ptb['per_class'])}")
    det = results.get("detector")
    if det:
        lines.append(f"- the 0.9 threshold detector of lesson 1 finds {det['detected']:,} beats where "
                     f"{det['annotated']:,} are annotated ({det['records']} records)")
    lines += ["", "Not in the reference pipeline yet (results are null in results.json):"]
    lines += [f"- {key}: {what}" for key, what in results["not_yet"].items()]
    lines += ["", f"({results['seconds']} s)"]
    return "\n".join(lines) + "\n"
