"""The command line: ``python -m ecglab data info|fetch|build|provenance`` and ``python -m ecglab reproduce``.

Every command that reads data takes ``--data-dir DIR`` (default: ``$ECGLAB_DATA``, else ``data/`` of
the repository). Errors in the input are one line on stderr naming the file, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import data_dir as resolve_data_dir
from .errors import DataError


def show_progress() -> bool:
    """Progress bars only on a terminal, so that logs and captured output stay clean."""
    return sys.stderr.isatty()


def _close_progress_bars() -> None:
    """Clear the bars an error interrupted, so that the error message starts its own line."""
    from tqdm import tqdm
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def dataset_info(data_dir=None, progress: bool = False, seed: int = 0) -> dict:
    """What the data directory holds and gives, as the ``data info --json`` contract says."""
    from . import data

    def summary(ds):
        if ds is None:
            return None
        out = {"source": ds.source, "origin": ds.origin, "records": ds.n_records,
               "n_beats": len(ds), "classes": list(ds.classes), "per_class": ds.per_class()}
        if ds.test_mask is not None:
            train, test = (~ds.test_mask).nonzero()[0], ds.test_mask.nonzero()[0]
        else:
            train, test = data.stratified_split(ds.y, seed=seed)
        out["splits"] = {"beat": {"train": ds.per_class(train), "test": ds.per_class(test)}}
        if ds.name == "mitbih" and ds.origin != "kaggle":
            ds1, ds2 = data.interpatient_split(ds.record)
            out["splits"]["interpatient"] = {"DS1": ds.per_class(ds1), "DS2": ds.per_class(ds2),
                                             "excluded_records": sorted(data.PACED)}
        return out

    mitbih = data.load_mitbih(data_dir, progress=progress)
    ptb = data.load_ptb(data_dir, progress=progress)
    return {"data_dir": str(resolve_data_dir(data_dir)), "mitbih": summary(mitbih), "ptb": summary(ptb)}


def _info(args) -> int:
    info = dataset_info(args.data_dir, progress=not args.json and show_progress())
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    from .data import PTB_CLASSES, CLASSES
    print(f"data directory: {info['data_dir']}")
    for key, classes in (("mitbih", CLASSES), ("ptb", PTB_CLASSES)):
        part = info[key]
        if part is None:
            print(f"\n{key}: none (fetch it with `python -m ecglab data fetch {'ptb' if key == 'ptb' else 'mitbih'}`)")
            continue
        loud = "  *** SYNTHETIC: not from patients ***" if part["source"] == "synthetic" else ""
        print(f"\n{key}: {part['n_beats']:,} beats from {part['records'] or 'the Kaggle CSVs'}"
              f"{' records' if part['records'] else ''} ({part['source']}, {part['origin']}){loud}")
        print(f"  {'':18}" + "".join(f"{c:>9}" for c in classes))
        print(f"  {'all':18}" + "".join(f"{n:>9,}" for n in part["per_class"]))
        for split, sides in part["splits"].items():
            for side, counts in sides.items():
                if side != "excluded_records":
                    print(f"  {split + ' ' + side:18}" + "".join(f"{n:>9,}" for n in counts))
    return 0


def _fetch(args) -> int:
    from .data import fetch
    if args.what == "kaggle":
        where = fetch.fetch_kaggle(args.data_dir, source=args.source)
        print(f"Kaggle CSVs checked and placed in {where}")
        return 0
    dbs = {"mitbih": ["mitdb"], "ptb": ["ptbdb"], "all": ["mitdb", "ptbdb"]}[args.what]
    for db in dbs:
        where = fetch.fetch_physionet(db, args.data_dir, base_url=args.url, records=args.records,
                                      progress=True)
        print(f"{db}: checked and complete in {where}")
    return 0


def _build(args) -> int:
    from . import data
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    mitbih = data.load_mitbih(args.data_dir, progress=show_progress())
    train, test = data.stratified_split(mitbih.y, test_fraction=0.2, seed=args.seed)
    written.append(data.write_csv(out / "mitbih_train.csv", mitbih.X[train], mitbih.y[train]))
    written.append(data.write_csv(out / "mitbih_test.csv", mitbih.X[test], mitbih.y[test]))
    ptb = data.load_ptb(args.data_dir, progress=show_progress())
    if ptb is not None:
        for label, name in ((0, "ptbdb_normal.csv"), (1, "ptbdb_abnormal.csv")):
            rows = ptb.y == label
            if rows.any():
                written.append(data.write_csv(out / name, ptb.X[rows], ptb.y[rows]))
    sources = {mitbih.source} | ({ptb.source} if ptb is not None else set())
    marker = out / "SYNTHETIC_DATA.txt"
    if "synthetic" in sources:
        marker.write_text("The CSV files in this folder were built from ecglab's SYNTHETIC ECG "
                          "generator, not from patients.\n")
        print("*** SYNTHETIC DATA *** no real records were found; the CSVs hold synthetic beats")
    elif marker.exists():
        marker.unlink()
    for path in written:
        print(f"wrote {path} ({sum(1 for _ in open(path)):,} rows)")
    return 0


#: Unplaced rows the human summary of ``data provenance`` lists before "... N more".
SHOW_UNPLACED = 10


def _provenance(args) -> int:
    from .data import provenance as prov
    result = prov.provenance(args.files, data_dir=args.data_dir,
                             progress=not args.json and show_progress())
    if args.csv:
        _write_placements(Path(args.csv), result["rows"])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    index = result["index"]
    print(f"index: {index['beats']:,} beats of {index['records']} MIT-BIH records in {index['data_dir']}")
    if index["records"] < prov.MITBIH_RECORDS:
        print(f"  (only {index['records']} of {prov.MITBIH_RECORDS} records: rows of the others "
              "cannot be placed)")
    for part in result["files"]:
        print(f"{part['file']}: {part['placed']:,} of {part['total']:,} rows placed, from "
              f"{part['records']} records ({part['patients']} patients)")
    if len(result["files"]) > 1:
        several = result["in_several_files"]
        print(f"all files: {result['placed']:,} of {result['total']:,} rows placed, from "
              f"{result['records']} records ({result['patients']} patients); "
              f"{len(several['records'])} records ({several['patients']} patients) have rows in "
              "more than one file")
    unplaced = [r for r in result["rows"] if r["record"] is None]
    if unplaced:
        print(f"not placed ({len(unplaced):,}):")
    for row in unplaced[:SHOW_UNPLACED]:
        print(f"  {row['file']} row {row['row']}: {prov.explain(row)}")
    if len(unplaced) > SHOW_UNPLACED:
        print(f"  ... {len(unplaced) - SHOW_UNPLACED:,} more")
    if args.csv:
        print(f"wrote {args.csv} ({len(result['rows']):,} rows)")
    return 0


def _write_placements(path: Path, rows: list[dict]) -> None:
    """``--csv OUT``: a header, then file,row,record,sample,label per row (empty when not placed)."""
    import csv

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["file", "row", "record", "sample", "label"])
            for r in rows:
                writer.writerow([r["file"], r["row"], r["record"] or "",
                                 "" if r["sample"] is None else r["sample"], r["label"]])
    except OSError as exc:
        raise DataError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def _reproduce(args) -> int:
    from .reproduce import reproduce
    return reproduce(Path(args.out), data_dir=args.data_dir, quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ecglab",
                                     description="ECG heartbeat classification with 1-D CNNs: data "
                                                 "and the reference pipeline of the ecg-course.")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="the datasets: info, fetch, build, provenance")
    actions = data.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR",
                        help="data directory (default: $ECGLAB_DATA, else data/ of the repository)")

    p = actions.add_parser("info", parents=[common], help="what data is there and what it gives")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_info)

    p = actions.add_parser("fetch", parents=[common], help="download with checksums and progress")
    p.add_argument("what", nargs="?", default="mitbih", choices=["mitbih", "ptb", "kaggle", "all"],
                   help="mitbih and ptb from PhysioNet (all: both); kaggle from --from or kagglehub")
    p.add_argument("--from", dest="source", metavar="PATH",
                   help="kaggle: a folder with the four CSVs, or Kaggle's archive.zip")
    p.add_argument("--url", metavar="URL", help="PhysioNet server (default: $ECGLAB_PHYSIONET_URL, "
                                                "else physionet.org)")
    p.add_argument("--records", nargs="+", metavar="NAME", help="only these records")
    p.set_defaults(run=_fetch)

    p = actions.add_parser("build", parents=[common],
                           help="cut beats from the records and write them as Kaggle-style CSVs")
    p.add_argument("--format", choices=["kaggle"], default="kaggle", help="output format")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the stratified 80/20 split")
    p.set_defaults(run=_build)

    p = actions.add_parser("provenance", parents=[common],
                           help="the MIT-BIH record and sample of every row of Kaggle MIT-BIH CSVs",
                           description="Find every row of Kaggle-format MIT-BIH CSVs among the beats "
                                       "cut from the records (mitdb/ of the data directory): its "
                                       "record (patient) and annotation sample. A row is placed "
                                       "only when its 187 values match exactly one beat with its "
                                       "label; otherwise it is listed with the reason.")
    p.add_argument("files", nargs="+", metavar="FILE", help="Kaggle-format CSV files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--csv", metavar="OUT", help="also write file,row,record,sample,label per row")
    p.set_defaults(run=_provenance)

    p = sub.add_parser("reproduce", parents=[common],
                       help="the whole reference pipeline, with a report and figures")
    p.add_argument("--quick", action="store_true", help="small and fast (for a first look and CI)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(run=_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except DataError as exc:
        _close_progress_bars()
        print(f"error: {exc}", file=sys.stderr)
        return 2
