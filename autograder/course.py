"""The course manifest (``course.yml``) as Python objects.

Every part of the course machinery reads the lessons, exercises, points and limits from here, so
``course.yml`` is the one place to change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
MANIFEST = REPO / "course.yml"


def module_file(module: str) -> str:
    """The file of an ``ecglab`` module, relative to the package: ``"data.beats"`` -> ``"data/beats.py"``."""
    return module.replace(".", "/") + ".py"


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: a function or class that students write.

    ``student_helpers``: when True, the exercise is graded with the student's own versions of the
    other exercises it calls; by default they are replaced by the reference, so that a mistake in
    a helper costs only the helper's exercise.
    """

    id: str
    lesson: int
    module: str            # module of the ecglab package, e.g. "preprocess"
    function: str          # function or class name inside it
    points: float
    student_helpers: bool = False

    @property
    def qualname(self) -> str:
        """``"preprocess.normalize"``."""
        return f"{self.module}.{self.function}"

    @property
    def grade_id(self) -> str:
        """The nbgrader grade id of the exercise's check cell (nbgrader allows [A-Za-z0-9_-])."""
        return "check-" + self.id.replace(".", "-")


@dataclass(frozen=True)
class Lesson:
    number: int
    id: str
    title: str
    notebook: str
    module: str
    uses: tuple[str, ...]
    exercises: tuple[Exercise, ...]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)


@dataclass(frozen=True)
class Course:
    course_id: str
    title: str
    repository: str
    branch: str
    timeout_seconds: float
    memory_mb: int
    cell_timeout_seconds: int
    kernel_name: str
    lessons: tuple[Lesson, ...] = field(default_factory=tuple)

    def lesson(self, number: int) -> Lesson:
        for lesson in self.lessons:
            if lesson.number == number:
                return lesson
        raise KeyError(f"course.yml: there is no lesson {number}")

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(e for lesson in self.lessons for e in lesson.exercises)

    def exercise(self, exercise_id: str) -> Exercise:
        for ex in self.exercises:
            if ex.id == exercise_id:
                return ex
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"course.yml: there is no exercise {exercise_id!r} (known: {known})")

    def colab_url(self, lesson: Lesson) -> str:
        return (f"https://colab.research.google.com/github/{self.repository}/blob/{self.branch}/"
                f"lessons/{lesson.notebook}.ipynb")


@lru_cache(maxsize=4)
def load_course(path: Path = MANIFEST) -> Course:
    """Read and check ``course.yml``; a mistake in it is reported with the file and the key."""
    raw = yaml.safe_load(Path(path).read_text())
    grading = raw.get("grading", {})
    lessons = []
    for entry in raw.get("lessons", []):
        number = int(entry["number"])
        exercises = tuple(
            Exercise(id=str(ex["id"]), lesson=number, module=entry["module"],
                     function=ex["function"], points=float(ex["points"]),
                     student_helpers=bool(ex.get("student_helpers", False)))
            for ex in entry.get("exercises", [])
        )
        if not exercises:
            raise ValueError(f"{path}: lesson {number} has no exercises (list them, or leave the "
                             f"lesson out until it has some)")
        for ex in exercises:
            if not ex.id.startswith(f"{number}."):
                raise ValueError(f"{path}: exercise {ex.id} is listed under lesson {number}")
        lessons.append(Lesson(number=number, id=entry["id"], title=entry["title"],
                              notebook=entry["notebook"], module=entry["module"],
                              uses=tuple(str(u) for u in entry.get("uses", [])),
                              exercises=exercises))
    modules = [lesson.module for lesson in lessons]
    if len(modules) != len(set(modules)):
        raise ValueError(f"{path}: two lessons share an exercise module: {modules}")
    ids = [e.id for lesson in lessons for e in lesson.exercises]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: exercise ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
    return Course(course_id=raw["course_id"], title=raw["title"], repository=raw["repository"],
                  branch=raw.get("branch", "main"),
                  timeout_seconds=float(grading.get("timeout_seconds", 30)),
                  memory_mb=int(grading.get("memory_mb", 3072)),
                  cell_timeout_seconds=int(grading.get("cell_timeout_seconds", 600)),
                  kernel_name=grading.get("kernel_name", "python3"),
                  lessons=tuple(lessons))
