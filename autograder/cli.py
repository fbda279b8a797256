"""The command line of the course machinery (``python -m autograder --help``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .course import REPO


def _generate(args) -> int:
    from .generate import generate
    done = generate(REPO, notebooks=not args.no_notebooks, force=args.force)
    print(done.message(REPO))
    return 1 if done.kept else 0


def _check(args) -> int:
    from .grader import grade
    impl = Path(args.impl).resolve() if args.impl else REPO
    report = grade(impl, lesson=args.lesson, exercises=args.exercise, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.table(details=not args.brief))
    return 0 if report.total >= report.max else 1


def _lessons(args) -> int:
    from .lessons import run_lessons
    impl = Path(args.impl).resolve() if args.impl else REPO
    results = run_lessons(impl, grading=args.grading, lessons=args.lesson, data_dir=args.data_dir,
                          quick=args.quick)
    if args.json:
        print(json.dumps({"lessons": results}, indent=2))
    else:
        for r in results:
            status = "ok " if r["ok"] else "FAILED"
            print(f"lesson {r['lesson']}: {status} in {r['seconds']:.1f} s"
                  + (f"\n    {r['error']}" if r["error"] else ""))
    return 0 if all(r["ok"] for r in results) else 1


def _nbgrader(args) -> int:
    from .nbgrader_course import build_course
    root = build_course(args.dir)
    print(f"nbgrader course written to {root}\n"
          f"next: cd {root} && nbgrader generate_assignment lesson1 (see the README's instructor guide)")
    return 0


def _demo(args) -> int:
    from .demo import run_demo
    return run_demo(Path(args.out), data_dir=args.data_dir)


def _mutate(args) -> int:
    from .mutate import run_mutation
    return run_mutation(lesson=args.lesson, exercises=args.exercise, data_dir=args.data_dir,
                        json_out=args.json, limit=args.limit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="The machinery of the ecg-course: generated files, "
                                                 "graders, lessons, the nbgrader course.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="regenerate ecglab/ and lessons/ from solutions/")
    p.add_argument("--no-notebooks", action="store_true", help="only the package (no nbgrader run)")
    p.add_argument("--force", action="store_true",
                   help="also replace edited generated files, after moving each to a dated backup")
    p.set_defaults(run=_generate)

    p = sub.add_parser("check", help="grade an ecglab package against the reference")
    p.add_argument("--impl", metavar="DIR", help="folder that contains the package ecglab "
                                                  "(default: this repository)")
    p.add_argument("--lesson", type=int, help="only this lesson")
    p.add_argument("--exercise", action="append", metavar="ID", help="only this exercise (repeatable)")
    p.add_argument("--data-dir", metavar="DIR", help="data directory for the real-data cases")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--brief", action="store_true", help="the table only, no failure details")
    p.set_defaults(run=_check)

    p = sub.add_parser("lessons", help="execute the lesson notebooks against an ecglab")
    p.add_argument("--impl", metavar="DIR", help="folder that contains the package ecglab")
    p.add_argument("--grading", action="store_true", help="as nbgrader runs them (NBGRADER_EXECUTION)")
    p.add_argument("--lesson", type=int, action="append", help="only this lesson (repeatable)")
    p.add_argument("--data-dir", metavar="DIR", help="data directory (sets ECGLAB_DATA)")
    p.add_argument("--quick", action="store_true",
                   help="small training settings in lessons 3-4 (sets ECGLAB_QUICK=1)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=_lessons)

    p = sub.add_parser("nbgrader", help="the nbgrader course")
    nb = p.add_subparsers(dest="action", required=True)
    b = nb.add_parser("build", help="write a complete nbgrader course directory")
    b.add_argument("dir", help="where to write it")
    b.set_defaults(run=_nbgrader)

    p = sub.add_parser("demo", help="the whole course, built and demonstrated end to end")
    p.add_argument("--out", default="build/demo", help="output folder (default: build/demo)")
    p.add_argument("--data-dir", metavar="DIR", help="data directory (default: ECGLAB_DATA or data/)")
    p.set_defaults(run=_demo)

    p = sub.add_parser("mutate", help="mutation run: how many wrong versions of the reference the checks catch")
    p.add_argument("--lesson", type=int, help="only this lesson (default: all)")
    p.add_argument("--exercise", action="append", metavar="ID", help="only this exercise (repeatable)")
    p.add_argument("--limit", type=int, help="at most this many mutants per exercise")
    p.add_argument("--data-dir", metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_mutate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError) as exc:  # incl. GenerateError, CheckError
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
