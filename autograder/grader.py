"""Grade a student's ``ecglab`` against the reference, one exercise at a time.

This is the one implementation behind every way of grading: the in-notebook ``check()``, the
command ``python -m autograder check``, the pytest plugin and nbgrader's autograde (whose check
cells call ``check()``). For each exercise:

1. the exercise's check (``autograder/checks/lessonN/``) makes its cases, seeded by the
   exercise id, so grading the same code twice gives the same points;
2. the reference computes the expected result of every call, here, in the grader's process;
3. the student's function runs on the same inputs in a worker process of its own
   (:mod:`autograder.sandbox`), with the other exercises it calls replaced by the reference;
4. each case passes or fails as a whole; the exercise scores ``points * passed / cases``.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import time
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .cases import Case, Raised, check_raised, show
from .course import REPO, Course, Exercise, load_course
from . import probes
from .reference import reference_module, reference_object
from .sandbox import ReferenceServer, WorkerOutcome, run_exercise
from .worker import decode, encode

CHECKS: dict[str, Callable[["Context"], list[Case]]] = {}


def check(exercise_id: str):
    """Register the case maker of an exercise: ``@check("1.2") def cases(ctx): ...``."""

    def register(make_cases):
        known = CHECKS.get(exercise_id)
        if known is not None and known.__qualname__ != make_cases.__qualname__:
            raise ValueError(f"{make_cases.__module__}: a second check for exercise {exercise_id} "
                             f"({known.__module__}.{known.__qualname__} is the first)")
        CHECKS[exercise_id] = make_cases
        return make_cases

    return register


def _load_checks() -> None:
    from .checks import load_all
    load_all()


class Context:
    """What a check may use to make its cases: a seeded random generator and ECG windows."""

    def __init__(self, exercise: Exercise, data_dir: str | os.PathLike | None = None):
        self.exercise = exercise
        self.rng = np.random.default_rng(zlib.crc32(exercise.id.encode()))
        self.data_dir = data_dir

    def reference(self, qualname: str):
        return reference_object(qualname)


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ""
    figure: dict | None = None


@dataclass
class ExerciseResult:
    """The grade of one exercise (the fields of the command contract, plus details)."""

    id: str
    lesson: int
    name: str
    points: float
    max: float
    message: str
    status: str = "ok"      # ok, partial, failed, not-implemented, timeout, memory, crash, import...
    cases: list = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""          # graded with reference helpers, and what the student's own give

    @property
    def full_marks(self) -> bool:
        return self.points >= self.max

    def to_json(self) -> dict:
        # field by field: the cases' figures hold what the student's code returned, which a
        # report must not walk (asdict would recurse into it)
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "cases"}
        data["cases"] = [{"name": c.name, "passed": c.passed, "message": c.message} for c in self.cases]
        return data


@dataclass
class Report:
    impl: str
    exercises: list

    @property
    def total(self) -> float:
        return round(sum(e.points for e in self.exercises), 2)

    @property
    def max(self) -> float:
        return round(sum(e.max for e in self.exercises), 2)

    def to_json(self) -> dict:
        return {"total": self.total, "max": self.max, "impl": self.impl,
                "exercises": [e.to_json() for e in self.exercises]}

    def table(self, details: bool = True) -> str:
        """The per-exercise table students and instructors read."""
        lines = [f"Grading the ecglab in {self.impl}", ""]
        lines.append(f"{'':2}{'id':<5} {'exercise':<20} {'points':>11}   message")
        for e in self.exercises:
            mark = "✓" if e.full_marks else "✗"
            first = e.message.splitlines()[0] if e.message else ""
            lines.append(f"{mark:2}{e.id:<5} {e.name:<20} {e.points:>5g} / {e.max:<3g}   {first}")
        lines.append(f"{'':2}{'':<5} {'total':<20} {self.total:>5g} / {self.max:<3g}")
        if details:
            for e in self.exercises:
                rest = e.message.splitlines()[1:] + ["note: " + line for line in e.note.splitlines()]
                if rest:
                    lines += ["", f"{e.id} {e.name}:"] + ["  " + line for line in rest]
        return "\n".join(lines)


def exercise_summary(result: ExerciseResult) -> str:
    """What a check cell prints: a ✓/✗ line per case, the first failure explained, the points."""
    lines = [f"Exercise {result.id} ({result.name}): {result.points:g} / {result.max:g} points"]
    if result.status in ("ok", "partial", "failed"):
        for case in result.cases:
            lines.append(f"  {'✓' if case.passed else '✗'} {case.name}")
        first = next((c for c in result.cases if not c.passed), None)
        if first is not None:
            lines += ["", "First failure:"] + ["  " + line for line in first.message.splitlines()]
    else:
        lines += ["  ✗ " + line for line in result.message.splitlines()]
    if result.note:
        lines += [""] + ["ℹ " + result.note.splitlines()[0]] + ["  " + l for l in result.note.splitlines()[1:]]
    return "\n".join(lines)


# --- running the reference -----------------------------------------------------------------------

def _run_reference(function: Callable, args: tuple, kwargs: dict, probe: str | None = None) -> Any:
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        if probe:
            return getattr(probes, probe)(function, *args, **kwargs)
        return function(*args, **kwargs)
    except Exception as exc:
        return Raised(type(exc).__name__, str(exc))


def _as_returned(value: Any) -> Any:
    """A value of the grader's in the form a worker's result arrives in (tensors as
    ``Tensorlike``, tuples and dicts as they decode), so that a comparison sees one form."""
    if isinstance(value, Raised):
        return value
    return decode(json.dumps(encode(value)))


def _preload(exercise: Exercise, calls: list[dict] = ()) -> tuple:
    """The libraries the worker loads before its guard: torch where the exercise module uses it,
    and what the probes of ``calls`` import lazily (``probes.PRELOAD``)."""
    module = reference_module(exercise.module)
    uses_torch = any(getattr(v, "__name__", "").split(".")[0] == "torch"
                     for v in vars(module).values() if inspect.ismodule(v))
    extra = sorted({name for c in calls for name in probes.PRELOAD.get(c.get("probe"), ())})
    return (("numpy", "torch") if uses_torch else ("numpy",)) + tuple(extra)


def stand_ins_of(exercise: Exercise, course: Course) -> list[str]:
    """The other exercises of the module that the worker replaces by the reference: functions only
    (a class cannot travel as data; an exercise built on one is graded with the student's own,
    and its check says how it keeps a mistake there from costing twice)."""
    if exercise.student_helpers:
        return []
    return [other.qualname for other in course.exercises
            if other.module == exercise.module and other.id != exercise.id
            and inspect.isfunction(reference_object(other.qualname))
            and exercise.function not in _calls_transitively(other, course)]


def _calls_transitively(exercise: Exercise, course: Course) -> set[str]:
    """The exercises the reference of ``exercise`` calls, directly or through others: a stand-in
    that calls the exercise under test would hand the student its reference."""
    found, todo = set(), [exercise]
    while todo:
        for name in _exercises_called(todo.pop(), course):
            if name not in found:
                found.add(name)
                todo.append(next(e for e in course.exercises
                                 if e.module == exercise.module and e.function == name))
    return found


def _serve_reference(target: str, args: list, kwargs: dict) -> Any:
    return reference_object(target)(*args, **kwargs)


def _call_text(function: Callable, name: str, args: tuple, kwargs: dict) -> list[str]:
    """``name(a, b=2)`` plus one line per array argument, as students see it."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
        items = list(bound.arguments.items())
        positional = len(args)
    except TypeError:
        items = [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
        positional = len(args)
    shown, detail = [], []
    for i, (key, value) in enumerate(items):
        if isinstance(value, np.ndarray):
            shown.append(key if i < positional else f"{key}={key}")
            detail.append(f"  {key} = {show(value)}")
        else:
            shown.append(repr(value) if i < positional else f"{key}={value!r}")
    return [f"{name}({', '.join(shown)})"] + detail


# --- grading -------------------------------------------------------------------------------------

#: Seconds for the ungraded run of an exercise with the student's own helpers (see grade_exercise).
OWN_HELPERS_TIMEOUT = 10.0
#: Calls of each helper per case on which the student's own helper is compared with the reference.
HELPER_CALLS_PER_CASE = 8

STATUS_TEXT = {
    "timeout": "timed out: {detail}; is there an endless loop?",
    "memory": "ran out of memory (limit {memory} MB); is an array much larger than it needs to be?",
    "crash": "crashed: {detail} (sys.exit, os._exit or a crash in compiled code?)",
    "import": "could not be imported: {detail}",
    "wrong-package": "graded the wrong package: {detail}",
    "refused": "refused: {detail}; the exercise gets 0",
    "protocol": "broke the grader's protocol: {detail}; the exercise gets 0",
}
PROBES_SOURCE = Path(probes.__file__).read_text()


def grade_exercise(exercise: Exercise, impl_dir: str | os.PathLike, course: Course | None = None,
                   data_dir: str | os.PathLike | None = None,
                   compare_own_helpers: bool = True) -> ExerciseResult:
    """Grade one exercise of the ``ecglab`` in ``impl_dir``.

    The other exercises it calls are the reference's (unless ``student_helpers``), so a mistake
    in a helper costs only the helper. With ``compare_own_helpers``, an exercise whose code did
    call such stand-ins is run once more with the student's own helpers, ungraded, and
    ``ExerciseResult.note`` says so where the student's own pipeline gives other results.
    """
    _load_checks()
    course = course or load_course()
    ref_function = reference_object(exercise.qualname)
    cases, expected, calls = _prepared(exercise, data_dir)
    stand_ins = stand_ins_of(exercise, course)
    request = {"module": exercise.module, "function": exercise.function,
               "stand_ins": stand_ins, "calls": calls,
               "probes": PROBES_SOURCE if any(c["probe"] for c in calls) else None}
    preload = _preload(exercise, calls)
    outcome = run_exercise(impl_dir, request, _serve_reference, course.timeout_seconds,
                           course.memory_mb, preload)
    result = ExerciseResult(exercise.id, exercise.lesson, exercise.function, 0.0, exercise.points,
                            "", seconds=round(outcome.seconds, 3))
    if outcome.status != "ok":
        return _failed_run(result, outcome, course)
    try:
        result = _score(result, exercise, cases, expected, outcome, ref_function)
    except Exception as exc:  # what came back broke a comparison: this exercise only
        result.points, result.status, result.cases = 0.0, "protocol", []
        result.message = (f"the grader could not score what your code returned "
                          f"({type(exc).__name__}: {str(exc)[:200]}); the exercise gets 0")
        return result
    if compare_own_helpers and outcome.reference_calls and result.status != "not-implemented":
        result.note = _own_helpers_note(exercise, impl_dir, course, cases, expected, calls,
                                        stand_ins, outcome, preload)
    return result


_PREPARED: dict = {}


def _prepared(exercise: Exercise, data_dir) -> tuple[list[Case], list, list[dict]]:
    """An exercise's cases, the reference's results and the worker's calls, made once per grader
    process (cases are seeded by the exercise id; a mutation run or a class reuses them)."""
    key = (exercise.id, exercise.qualname, None if data_dir is None else str(data_dir))
    if key not in _PREPARED:
        ref_function = reference_object(exercise.qualname)
        cases = CHECKS[exercise.id](Context(exercise, data_dir))
        expected, calls = [], []
        for case in cases:
            for c in case.calls:
                expected.append(_as_returned(_run_reference(ref_function, c.args, c.kwargs, c.probe)))
                if c.oracle is not None:
                    c.oracle = _as_returned(c.oracle)
                calls.append({"id": len(calls), "args": list(c.args), "kwargs": dict(c.kwargs),
                              "probe": c.probe})
        _PREPARED[key] = (cases, expected, calls)
    cases, expected, calls = _PREPARED[key]
    # each grading gets its own copy of what it may touch (results are compared, never changed)
    return cases, expected, copy.deepcopy(calls)


def _own_helpers_note(exercise: Exercise, impl_dir, course: Course, cases: list[Case],
                      expected: list, calls: list, stand_ins: list, graded: WorkerOutcome,
                      preload: tuple) -> str:
    """What the student reads about the reference helpers an exercise was graded with.

    One more run, ungraded and with the student's own helpers all the way down: the exercise's
    calls again, and each helper the student's code called, on the inputs it called it with.
    Where the exercise's results change, the lesson's own cells (which use the student's code)
    will too; a helper whose results differ from the reference's on those inputs is the place
    to look, or one of the exercises it calls.
    """
    # only the stand-ins this exercise's request named (the worker's word is not trusted)
    by_qualname = {e.qualname: e for e in course.exercises if e.qualname in stand_ins}
    helpers = sorted((by_qualname[q] for q in graded.reference_calls if q in by_qualname),
                     key=lambda e: e.id)
    head = ("Graded with the reference " + ", ".join(f"{h.function} ({h.id})" for h in helpers)
            + " in place of yours, so a mistake there costs only that exercise; the lesson's own "
              "cells use yours.")
    # a few of each helper's calls per case, so that every case's inputs are tried
    case_of = [n for n, case in enumerate(cases) for _ in case.calls]
    per_case: dict = {}
    helper_calls = []
    for during, target, a, k in graded.reference_log:
        key = (case_of[min(during, len(case_of) - 1)], target)
        per_case[key] = per_case.get(key, 0) + 1
        if target in by_qualname and per_case[key] <= HELPER_CALLS_PER_CASE:
            helper_calls.append((by_qualname[target], a, k))
    request = {"module": exercise.module, "function": exercise.function, "stand_ins": [],
               "calls": calls + [{"id": len(calls) + i, "function": h.function, "args": a, "kwargs": k}
                                 for i, (h, a, k) in enumerate(helper_calls)]}
    # ungraded, so it gets a shorter limit: a hanging helper must not double the wait
    own = run_exercise(impl_dir, request, _serve_reference,
                       min(course.timeout_seconds, OWN_HELPERS_TIMEOUT), course.memory_mb, preload)
    if own.status != "ok":
        return head + f"\nWith your own versions the run did not finish ({own.status}): the " \
                      f"lesson's own cells will fail the same way until those exercises pass."
    differ, index = [], 0
    for case in cases:
        bad = False
        for _ in case.calls:
            graded_ok = _judge(case, graded.results.get(index, {}), expected[index]) is None
            own_ok = _judge(case, own.results.get(index, {}), expected[index]) is None
            bad |= graded_ok and not own_ok
            index += 1
        if bad:
            differ.append(case.name)
    suspects = []
    # the helpers' inputs came from the worker: the reference runs on them in a server of its
    # own, time-bounded, as during grading
    server = ReferenceServer(_serve_reference, course.memory_mb)
    deadline = time.monotonic() + OWN_HELPERS_TIMEOUT
    try:
        wanted = [server.value(h.qualname, a, k, deadline) for h, a, k in helper_calls]
    except Exception:
        return head
    finally:
        server.close()
    for helper in helpers:
        mine = [i for i, (h, a, k) in enumerate(helper_calls) if h is helper]
        wrong = sum(_differs(own.results.get(len(calls) + i, {}), wanted[i]) for i in mine)
        if wrong:
            inner = _exercises_called(helper, course)
            suspects.append(f"your {helper.function} ({helper.id}) gives other results than the "
                            f"reference on {wrong} of {_plural(len(mine), 'input')} "
                            f"{exercise.function} gave it here"
                            + (f" (it calls {', '.join(inner)}: the mistake may be there)" if inner else ""))
    if not differ and not suspects:
        return head
    lines = [head]
    if differ:
        lines.append(f"With your own versions, {_plural(len(differ), 'case')} of {len(cases)} "
                     f"{'gives' if len(differ) == 1 else 'give'} other results (first: {differ[0]}), "
                     f"and so will the lesson's own cells.")
    lines += [s[0].upper() + s[1:] + "." for s in suspects]
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _exercises_called(exercise: Exercise, course: Course) -> list[str]:
    """The other exercises of the same module that the reference of ``exercise`` calls by name."""
    code = getattr(reference_object(exercise.qualname), "__code__", None)
    names = set(code.co_names) if code is not None else set()
    return [e.function for e in course.exercises
            if e.module == exercise.module and e.id != exercise.id and e.function in names]


def _differs(reply: dict, want: Any) -> bool:
    """Whether a helper's result is not the reference's (plain data: arrays, numbers, None...)."""
    if not reply:
        return True
    if isinstance(want, Raised):
        return check_raised(reply.get("error"), want) is not None
    return bool(reply.get("error")) or not _same_data(reply.get("value"), want)


def _same_data(a: Any, b: Any) -> bool:
    if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
        try:
            a, b = np.asarray(a), np.asarray(b)
            return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-6, equal_nan=True))
        except (TypeError, ValueError, OverflowError):
            return False
    if isinstance(b, (tuple, list)) and isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_data(x, y) for x, y in zip(a, b))
    if isinstance(b, float) or isinstance(a, float):
        try:
            return bool(np.isclose(float(a), float(b), atol=1e-9))
        except (TypeError, ValueError, OverflowError):  # 10**400 from the worker is just "other"
            return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _failed_run(result: ExerciseResult, outcome: WorkerOutcome, course: Course) -> ExerciseResult:
    result.status = outcome.status
    detail = outcome.detail
    if outcome.error:
        err = outcome.error
        detail = f"{err['type']}: {err['message']}"
        if err.get("where"):
            detail += f" ({err['where']})"
    text = STATUS_TEXT.get(outcome.status, "{detail}").format(detail=detail, memory=course.memory_mb)
    lines = [text]
    if outcome.stdout.strip():
        lines.append("it printed: " + " ".join(outcome.stdout.strip().splitlines()[-3:])[:300])
    result.message = "\n".join(lines)
    return result


def _score(result: ExerciseResult, exercise: Exercise, cases: list[Case], expected: list,
           outcome: WorkerOutcome, ref_function: Callable) -> ExerciseResult:
    index = 0
    not_implemented = 0
    n_calls = sum(len(case.calls) for case in cases)
    for case in cases:
        case_result = CaseResult(case.name, True)
        for c in case.calls:
            reply = outcome.results.get(index, {})
            want = expected[index]
            index += 1
            error = reply.get("error")
            if error and error["type"] == "NotImplementedError" \
                    and not _other_exercise(error.get("message", ""), exercise.id):
                not_implemented += 1
            problem = _judge(case, reply, want, exercise.id)
            if problem is None and c.oracle is not None:
                problem = _judge(case, reply, c.oracle, exercise.id)
                if problem:
                    problem += f" (so says {c.oracle_name}, which computes the same thing)"
            if problem and case_result.passed:
                case_result.passed = False
                case_result.message = _failure_text(case, c, problem, reply, want, exercise, ref_function)
                case_result.figure = {"kind": case.figure, "args": c.args, "kwargs": c.kwargs,
                                      "expected": want, "actual": reply.get("value")} if case.figure else None
        result.cases.append(case_result)
    passed = sum(c.passed for c in result.cases)
    result.points = round(exercise.points * passed / len(cases), 2) if cases else 0.0
    if not_implemented == n_calls:
        result.status = "not-implemented"
        result.message = (f"not implemented yet: {exercise.function} raises NotImplementedError "
                          f"(write it in ecglab/{exercise.module}.py)")
        return result
    failures = [c for c in result.cases if not c.passed]
    if not failures:
        result.status = "ok"
        result.message = f"all {len(cases)} cases pass"
    else:
        result.status = "partial" if passed else "failed"
        result.message = "\n".join([f"{passed} of {len(cases)} cases pass; first failure: "
                                    f"{failures[0].name}"] + failures[0].message.splitlines()
                                   + ([f"also failing: {'; '.join(c.name for c in failures[1:])}"]
                                      if len(failures) > 1 else []))
    return result


def _judge(case: Case, reply: dict, want: Any, exercise_id: str | None = None) -> str | None:
    if not reply:
        return "no result came back"
    error = reply.get("error")
    if isinstance(want, Raised):
        return check_raised(error, want)
    if error:
        if error["type"] == "NotImplementedError":
            other = _other_exercise(error.get("message", ""), exercise_id)
            if other:
                return f"needs exercise {other}, which is not written yet (it raises NotImplementedError)"
            return "not implemented yet (raises NotImplementedError)"
        where = f" at {error['where']}" if error.get("where") else ""
        code = f": `{error['line']}`" if error.get("line") else ""
        return f"raised {error['type']}: {error['message']}{where}{code}"
    if reply.get("modified"):
        which = ", ".join(str(m) for m in reply["modified"])
        return f"changed its input in place (argument {which}); work on a copy"
    try:
        return case.compare(reply.get("value"), want)
    except Exception as exc:  # e.g. 10**400 where a float is expected
        return f"returned a value the grader cannot compare ({type(exc).__name__}: {str(exc)[:120]})"


_EXERCISE_IN_STUB = re.compile(r"^exercise (\d+\.\d+) ")


def _other_exercise(message: str, this: str | None) -> str | None:
    """The exercise id a stub's NotImplementedError names, where it is not ``this`` one."""
    match = _EXERCISE_IN_STUB.match(message)
    return match.group(1) if match and match.group(1) != this else None


def _failure_text(case, c, problem, reply, want, exercise, ref_function) -> str:
    lines = [f"✗ {case.name}: {problem}"]
    if c.probe:
        lines += ["  " + line for line in _probe_text(exercise.function, c)]
    else:
        call_lines = _call_text(ref_function, exercise.function, c.args, c.kwargs)
        lines.append("  call: " + call_lines[0])
        lines += ["  " + line for line in call_lines[1:]]
    if c.about:
        lines.append(f"  input: {c.about}")
    if not c.probe:   # a probe's result is a record of data: its comparison says what differs
        lines.append(f"  expected: {show(want)}")
        if "value" in reply and not reply.get("error"):
            lines.append(f"  got:      {show(reply['value'])}")
    if case.hint:
        lines.append(f"  hint: {case.hint}")
    return "\n".join(lines)


def _spec_text(spec) -> str:
    """A model spec of :func:`autograder.probes.make_model` as the student would write it."""
    parts = []
    for kind, arguments in spec:
        if kind == "same":
            parts.append(f"layer {arguments}")
        elif kind == "Sequential":
            parts.append(_spec_text(arguments))
        elif kind == "Headed":
            parts.append(f"a module with .body = {_spec_text(arguments[0])} and "
                         f".head = Linear({arguments[1]}, {arguments[2]})")
        else:
            parts.append(f"{kind}({', '.join(map(repr, arguments))})")
    return "nn.Sequential(" + ", ".join(parts) + ")"


#: How a probe that runs a *function of a model* calls it, as the student reads it.
_FUNCTION_PROBES = {
    "call_on_model": "{name}(model, {kwargs})",
    "train_epoch": "{name}(model, loader, optimizer, loss_fn) with torch.optim.SGD and batches "
                   "of {batches} beats",
    "predict_on": "{name}(model, X{batch})",
    "replace_head_on": "{name}(model, {n})",
    "set_trainable_on": "{name}(model, n) for n in {steps}, one call after the other",
}


def _first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring, on one line, without reST markup."""
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    end = paragraph.find(". ")
    return (paragraph if end < 0 else paragraph[:end + 1]).replace("``", "")


def _probe_text(name: str, c) -> list[str]:
    """What a probe call did, as the student reads it (the probe's first docstring line)."""
    lines = [f"the check: {_first_sentence(getattr(probes, c.probe).__doc__) or c.probe}"]
    if c.probe in _FUNCTION_PROBES:
        spec = c.args[0]
        kwargs = ", ".join(f"{k}={v!r}" for k, v in c.kwargs.items()
                           if k not in ("frozen", "seed", "x") and not isinstance(v, np.ndarray))
        batches = [len(b[0]) for b in c.args[1]] if c.probe == "train_epoch" else []
        lines.append("call: " + _FUNCTION_PROBES[c.probe].format(
            name=name, kwargs=kwargs, batches=batches or "no",
            batch=f", batch_size={c.kwargs['batch_size']}" if c.kwargs.get("batch_size") else "",
            n=c.args[1] if len(c.args) > 1 else "", steps=c.args[1] if len(c.args) > 1 else ""))
        lines.append(f"  model = {_spec_text(spec)}"
                     + (f", layers {list(c.kwargs['frozen'])} frozen" if c.kwargs.get("frozen") else ""))
        if c.probe == "train_epoch":
            lines.append(f"  loss_fn: {c.kwargs.get('loss', 'cross_entropy')}"
                         + (" (weighted)" if c.kwargs.get("weight") is not None else "")
                         + f"; the model starts in {'train' if c.kwargs.get('train') else 'eval'} mode")
        if c.probe == "predict_on":
            lines.append(f"  X = {show(c.args[1])}" + (" (as a torch tensor)" if c.kwargs.get("tensor") else ""))
        return lines
    if c.probe == "loss_on":
        built = dict(c.kwargs.get("kwargs") or {})
        if c.kwargs.get("weight") is not None:
            built["weight"] = np.asarray(c.kwargs["weight"]).tolist()
        lines.append(f"call: {name}({', '.join(f'{k}={v!r}' for k, v in built.items())})(logits, target)")
        lines.append(f"  logits = {show(c.args[0])}")
        lines.append(f"  target = {show(c.args[1])}")
        return lines
    if c.probe == "call_with_tensors":
        lines.append(f"call: {name}(" + ", ".join("torch.tensor(...)" if i in c.kwargs.get("tensors", (0,))
                                                 else repr(a) for i, a in enumerate(c.args)) + ")")
        lines.append(f"  with the tensor of {show(c.args[0])}")
        return lines
    args = c.args[0] if c.args and isinstance(c.args[0], tuple) else ()
    built = c.kwargs.get("kwargs") or {}
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in built.items()])
    lines.append(f"model: {name}({shown}), built after torch.manual_seed(0)"
                 + (" with a stand-in for ResidualBlock (the reference block's parameters "
                    "and outputs), so that only your network's own code counts here"
                    if c.kwargs.get("stand_in") else ""))
    if isinstance(c.kwargs.get("x"), np.ndarray):
        lines.append(f"input: x = {show(c.kwargs['x'])}")
    return lines


def grade(impl_dir: str | os.PathLike | None = None, lesson: int | None = None,
          exercises: list[str] | None = None, data_dir: str | os.PathLike | None = None,
          course: Course | None = None) -> Report:
    """Grade the ``ecglab`` in ``impl_dir`` (default: this repository's): all, one lesson, or some exercises.

    Parameters
    ----------
    impl_dir : path, optional
        A folder that contains a package named ``ecglab``.
    lesson : int, optional
        Only this lesson's exercises.
    exercises : list of str, optional
        Only these exercise ids (``["1.2", "1.4"]``).
    """
    from .checks import validate

    course = course or load_course()
    impl_dir = Path(impl_dir or REPO).resolve()
    validate(course)
    if lesson is not None and lesson not in {l.number for l in course.lessons}:
        raise KeyError(f"there is no lesson {lesson}; the lessons are "
                       f"{', '.join(str(l.number) for l in course.lessons)}")
    chosen = [e for e in course.exercises
              if (lesson is None or e.lesson == lesson) and (exercises is None or e.id in exercises)]
    if exercises:
        unknown = sorted(set(exercises) - {e.id for e in chosen})
        if unknown:
            raise KeyError(f"there is no exercise {', '.join(unknown)}"
                           + (f" in lesson {lesson}" if lesson is not None else "")
                           + f"; the exercises are {', '.join(e.id for e in course.exercises)}")
    return Report(str(impl_dir), [grade_exercise(e, impl_dir, course, data_dir) for e in chosen])
