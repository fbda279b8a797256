"""``python -m autograder demo``: the course built and demonstrated end to end (the README's main job).

1. the data: where it comes from, loudly when it is synthetic;
2. the student release: the generated files are in sync with ``solutions/``, the nbgrader course
   is built and every lesson released with ``nbgrader generate_assignment``;
3. every lesson notebook run top to bottom with the reference, then in grading mode;
4. a demo class (the reference, blank stubs, half done, plausible bugs, a syntax error, a deleted
   check cell) autograded by nbgrader, the gradebook compared with ``autograder check``, feedback
   generated and grades exported;
5. the reference pipeline (``python -m ecglab reproduce``) and its report.

Everything goes under ``--out`` (default ``build/demo``); a summary is printed at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .course import SOLUTIONS, load_course
from .generate import drift_message, out_of_sync


def _banner(text: str) -> None:
    print(f"\n{'=' * 78}\n{text}\n{'=' * 78}", flush=True)


def run_demo(out: Path, data_dir: str | None = None) -> int:
    from . import grade
    from .lessons import run_lessons
    from .nbgrader_course import autograde_class, build_course, run_nbgrader
    from .reference import reference_module
    from .submissions import demo_class, write_package_for

    started = time.perf_counter()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, also in a pipe
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if data_dir:
        os.environ["ECGLAB_DATA"] = str(Path(data_dir).resolve())
    course = load_course()
    problems = []

    _banner("1. Data")
    data = reference_module("data")
    source = data.mitbih_source()
    if source == "generator":
        print("*** SYNTHETIC DATA *** No MIT-BIH records or Kaggle CSVs were found in "
              f"{reference_module('config').data_dir()}.\n"
              "Everything below runs on ecglab's synthetic ECG generator, not on patients.\n"
              "For real data: `python -m ecglab data fetch mitbih`, or set ECGLAB_DATA.")
    else:
        print(f"REAL DATA: MIT-BIH ({source}) in {reference_module('config').data_dir()}")

    _banner("2. Student release")
    drift = out_of_sync()
    if drift:
        problems.append(f"generated files not in sync: {', '.join(map(str, drift))}")
        print("✗ " + drift_message(drift))
    else:
        print("✓ the exercise modules in ecglab/ and the notebooks in lessons/ are exactly what "
              "solutions/ generates")
    course_dir = build_course(out / "course")
    for lesson_dir in sorted((course_dir / "source").iterdir()):
        run_nbgrader(["generate_assignment", lesson_dir.name, "--force"], course_dir)
        files = sorted(p.relative_to(course_dir) for p in (course_dir / "release" / lesson_dir.name).rglob("*")
                       if p.is_file())
        print(f"✓ released {lesson_dir.name}: {len(files)} files in {course_dir / 'release' / lesson_dir.name}")

    _banner("3. Every lesson, run with the reference")
    for grading in (False, True):
        for r in run_lessons(SOLUTIONS, grading=grading):
            mode = "grading mode" if grading else "full"
            mark = "✓" if r["ok"] else "✗"
            print(f"{mark} lesson {r['lesson']} ({mode}): {r['seconds']:.1f} s"
                  + (f" — {r['error']}" if r["error"] else ""))
            if not r["ok"]:
                problems.append(f"lesson {r['lesson']} ({mode}) failed: {r['error']}")

    _banner("4. A demo class, autograded by nbgrader")
    for lesson in course.lessons:
        if not (course_dir / "source" / lesson.id).is_dir():
            continue
        students = demo_class(lesson.number, course)
        result = autograde_class(out / "class", lesson.number, students, course)
        per_student = result["autograde_seconds"] / max(1, len(students))
        print(f"nbgrader autograde: {len(students)} students in {result['autograde_seconds']:.1f} s "
              f"({per_student:.1f} s per student)\n")
        print(f"  {'student':<10} {'nbgrader':>9} {'check':>7}  {'':3} handed in")
        for student in students:
            with tempfile.TemporaryDirectory() as tmp:
                report = grade(write_package_for(student, Path(tmp), course), lesson=lesson.number)
            nbgrader_scores = result["scores"].get(student.name, {})
            same = all(abs(nbgrader_scores.get(course.exercise(e.id).grade_id, 0.0) - e.points) < 1e-6
                       for e in report.exercises)
            total = sum(nbgrader_scores.values())
            print(f"  {student.name:<10} {total:>9.2f} {report.total:>7.2f}  {'✓' if same else '✗':3} "
                  f"{student.description}")
            if not same:
                problems.append(f"nbgrader and autograder check disagree on {student.name}")
        print(f"\n  grades exported to {result['grades_csv']}")
        print(f"  feedback, e.g. {next(iter(v for v in result['feedback'].values() if v), ['-'])[0]}")

    _banner("5. The reference pipeline (python -m ecglab reproduce)")
    env = dict(os.environ, PYTHONPATH=str(SOLUTIONS))
    proc = subprocess.run([sys.executable, "-m", "ecglab", "reproduce", "--out", str(out / "results")],
                          env=env, cwd=str(out), text=True)
    if proc.returncode != 0:
        problems.append("ecglab reproduce failed")

    _banner("Summary")
    print(f"data: {'SYNTHETIC' if source == 'generator' else 'real'}; outputs in {out}; "
          f"{time.perf_counter() - started:.0f} s")
    for problem in problems:
        print(f"✗ {problem}")
    print("✓ all steps succeeded" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0
