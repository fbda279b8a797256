"""The checks, one package per lesson: ``lessonN/__init__.py`` registers ``@check("N.M")`` for each
exercise, and ``lessonN/teeth.py`` proves that they have teeth (other correct implementations that
must get full marks, plausible mistakes that must not, equivalent mutants with the reason).

Check packages are found, not listed: :func:`load_all` imports every ``lesson<N>`` of this
package. :func:`validate` makes sure that checks and ``course.yml`` agree exactly — an exercise
without a check, a check without an exercise, or a check registered in another lesson's module is
an error at generation, when grading and in the test suite, so a check can never go missing
silently. (``ecg.py`` is a helper: the ECG inputs the checks share.)
"""

from __future__ import annotations

import importlib
import pkgutil
import re

LESSON_MODULE = re.compile(r"lesson(\d+)$")


class CheckError(ValueError):
    """Checks and ``course.yml`` disagree; the message says where."""


def check_modules() -> dict[int, str]:
    """``{lesson number: module name}`` of the check modules in this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        match = LESSON_MODULE.match(info.name)
        if match:
            found[int(match.group(1))] = f"{__name__}.{info.name}"
    return found


def teeth(lesson: int):
    """The ``teeth`` module of a lesson's checks (``CORRECT``, ``WRONG``, ``EQUIVALENT_MUTANTS``)."""
    return importlib.import_module(f"{check_modules()[lesson]}.teeth")


def load_all() -> dict:
    """Import every check module; returns the registry ``{exercise id: case maker}``."""
    from ..grader import CHECKS
    for module in check_modules().values():
        importlib.import_module(module)
    return CHECKS


def validate(course=None) -> None:
    """Raise :class:`CheckError` unless every exercise of ``course.yml`` has exactly one check,
    in its own lesson's module, and every check belongs to an exercise."""
    from ..course import load_course
    course = course or load_course()
    checks = load_all()
    exercises = {e.id: e for e in course.exercises}
    problems = []
    for exercise_id in exercises:
        if exercise_id not in checks:
            lesson = exercises[exercise_id].lesson
            problems.append(f"exercise {exercise_id} of course.yml has no check "
                            f"(add @check(\"{exercise_id}\") to autograder/checks/lesson{lesson}/__init__.py)")
    for exercise_id, make_cases in checks.items():
        if exercise_id not in exercises:
            problems.append(f"{make_cases.__module__}: check {exercise_id} is of no exercise of course.yml")
            continue
        expected = f"{__name__}.lesson{exercises[exercise_id].lesson}"
        if make_cases.__module__ != expected:
            problems.append(f"{make_cases.__module__}: check {exercise_id} belongs in {expected}")
    for number in check_modules():
        if number not in {lesson.number for lesson in course.lessons}:
            problems.append(f"autograder/checks/lesson{number}: course.yml has no lesson {number}")
    if problems:
        raise CheckError("; ".join(problems))
