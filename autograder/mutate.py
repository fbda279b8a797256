"""Mutation run: how many small wrong versions of the reference do the checks catch?

For every exercise, each mutation operator below is applied, one place at a time, to the
reference code inside the exercise's solution region (comparisons flipped, arithmetic swapped,
constants nudged, ``median`` for ``mean`` and the like, a wrapping ``round()`` dropped, an ``if``
removed). Each such *mutant* is graded with the exercise's check: it is *killed* when it loses
points (or crashes, or times out), and *survives* when it still gets full marks. A survivor is
either a gap in the check — add a case that catches it — or an *equivalent* mutant that behaves
exactly like the reference; those are listed, with the reason, in ``EQUIVALENT_MUTANTS`` of the
lesson's ``autograder/checks/lessonN/teeth.py``.

``python -m autograder mutate [--lesson N] [--exercise ID] [--json]`` (``make mutation``).
"""

from __future__ import annotations

import ast
import copy
import json
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from .course import SOLUTIONS, Exercise, load_course, module_file
from .generate import render_package, write_tree

COMPARE_SWAPS = {
    ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt, ast.LtE), ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
BINOP_SWAPS = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,), ast.Mod: (ast.FloorDiv,), ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,),
}
#: Calls swapped for a plausible neighbour (attribute or plain name).
CALL_SWAPS = {
    "median": "mean", "mean": "median", "min": "max", "max": "min", "argmax": "argmin",
    "argmin": "argmax", "floor": "ceil", "ceil": "floor", "zeros": "ones", "zeros_like": "ones_like",
    "concatenate": "stack", "diff": "gradient", "flatnonzero": "argwhere",
}

@dataclass
class Mutant:
    exercise: str
    description: str
    line: int
    source: str = ""
    status: str = ""           # killed, survived, equivalent
    detail: str = ""


def _region_lines(source: str) -> set[int]:
    """Line numbers inside solution regions."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _exercise_node(tree: ast.Module, name: str) -> ast.AST:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node
    raise KeyError(f"{name} is not defined at the top of its module")


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _options(node: ast.AST) -> list[tuple[str, callable]]:
    """The mutations of one node: ``[(kind, apply(node) -> replacement node or None)]``."""
    out = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in COMPARE_SWAPS.get(type(op), ()):
                def apply(n, i=i, new=new):
                    n.ops[i] = new()
                    return n
                out.append(("compare", apply))
    elif isinstance(node, ast.BinOp):
        for new in BINOP_SWAPS.get(type(node.op), ()):
            def apply(n, new=new):
                n.op = new()
                return n
            out.append(("arithmetic", apply))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append(("constant", lambda n: ast.Constant(not n.value)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, int):
        out.append(("constant", lambda n: ast.Constant(n.value + 1)))
        out.append(("constant", lambda n: ast.Constant(n.value - 1)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, float):
        out.append(("constant", lambda n: ast.Constant(n.value * 1.5 if n.value else 1.0)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        out.append(("unary", lambda n: n.operand))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(("boolean", lambda n, new=new: ast.BoolOp(new(), n.values)))
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        if name in CALL_SWAPS:
            def apply(n, new=CALL_SWAPS[name]):
                if isinstance(n.func, ast.Attribute):
                    n.func.attr = new
                else:
                    n.func.id = new
                return n
            out.append(("call", apply))
        if isinstance(node.func, ast.Attribute) and name in ("copy", "astype"):
            out.append(("unwrap", lambda n: n.func.value))   # x.astype(t) -> x
        elif node.args:
            out.append(("unwrap", lambda n: n.args[0]))      # f(x, ...) -> x: the call forgotten
        for k in range(len(node.keywords)):
            def apply(n, k=k):
                del n.keywords[k]
                return n
            out.append(("keyword", apply))                   # an argument left at its default
    elif isinstance(node, ast.Slice):
        if node.lower is not None:
            out.append(("slice", lambda n: ast.Slice(None, n.upper, n.step)))
        if node.upper is not None:
            out.append(("slice", lambda n: ast.Slice(n.lower, None, n.step)))
    elif isinstance(node, ast.If):
        out.append(("statement", lambda n: ast.Pass()))
    elif isinstance(node, (ast.Assign, ast.AugAssign)) and any(
            isinstance(t, ast.Subscript) for t in getattr(node, "targets", [getattr(node, "target", None)])):
        out.append(("statement", lambda n: ast.Pass()))     # a write into an array left out
    return out


def mutants(exercise: Exercise) -> list[Mutant]:
    """Every mutant of an exercise's reference code (the module's whole source, mutated once)."""
    path = SOLUTIONS / "ecglab" / module_file(exercise.module)
    source = path.read_text()
    region = _region_lines(source)
    tree = ast.parse(source)
    target = _exercise_node(tree, exercise.function)
    docstrings = {id(n.body[0].value) for n in ast.walk(target)
                  if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    places = [(i, node) for i, node in enumerate(ast.walk(target))
              if getattr(node, "lineno", None) in region and id(node) not in docstrings]
    found = []
    for index, node in places:
        for k, (kind, _) in enumerate(_options(node)):
            fresh = ast.parse(source)
            parent_map, chosen = {}, None
            for j, candidate in enumerate(ast.walk(_exercise_node(fresh, exercise.function))):
                for child in ast.iter_child_nodes(candidate):
                    parent_map[id(child)] = candidate
                if j == index:
                    chosen = candidate
            before = ast.unparse(chosen)
            replacement = _options(chosen)[k][1](copy.deepcopy(chosen) if kind != "statement" else chosen)
            _replace_node(parent_map[id(chosen)], chosen, replacement)
            after = ast.unparse(replacement)
            if before == after:
                continue
            ast.fix_missing_locations(fresh)
            found.append(Mutant(exercise.id, f"{before} -> {after}", node.lineno, ast.unparse(fresh)))
    return found


def _replace_node(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise ValueError("node not found under its parent")


def run_mutants(exercise: Exercise, data_dir=None, limit: int | None = None,
                timeout: float = 10.0) -> list[Mutant]:
    """Grade every mutant of an exercise; each gets its status."""
    from .checks import teeth
    from .grader import grade_exercise

    course = replace(load_course(), timeout_seconds=timeout)
    rel = module_file(exercise.module)
    base = render_package(solved_lessons=frozenset(l.number for l in course.lessons), course=course)
    results = mutants(exercise)[:limit]
    with tempfile.TemporaryDirectory(prefix="ecglab-mutant-") as tmp:
        for mutant in results:
            files = dict(base)
            files[rel] = mutant.source
            write_tree(files, Path(tmp) / "ecglab")
            graded = grade_exercise(exercise, tmp, course, data_dir, compare_own_helpers=False)
            reason = teeth(exercise.lesson).EQUIVALENT_MUTANTS.get((exercise.id, mutant.description))
            if not graded.full_marks:
                mutant.status = "killed"
                first = next((c for c in graded.cases if not c.passed), None)
                mutant.detail = first.name if first else graded.status
            else:
                mutant.status = "equivalent" if reason else "survived"
                mutant.detail = reason or ""
    return results


def run_mutation(lesson: int | None = None, exercises: list[str] | None = None, data_dir=None,
                 json_out: bool = False, limit: int | None = None) -> int:
    """Print the kill rate per exercise (all lessons, or one); exit 0 when no non-equivalent
    mutant survives."""
    course = load_course()
    pool = course.lesson(lesson).exercises if lesson is not None else course.exercises
    chosen = [e for e in pool if not exercises or e.id in exercises]
    started = time.perf_counter()
    rows, survivors = [], []
    for exercise in chosen:
        results = run_mutants(exercise, data_dir, limit)
        counts = {s: sum(m.status == s for m in results) for s in ("killed", "survived", "equivalent")}
        rows.append({"id": exercise.id, "name": exercise.function, "mutants": len(results), **counts})
        survivors += [m for m in results if m.status == "survived"]
        if not json_out:
            print(f"{exercise.id} {exercise.function:<20} {len(results):>4} mutants  "
                  f"{counts['killed']:>4} killed  {counts['equivalent']:>3} equivalent  "
                  f"{counts['survived']:>3} survived", flush=True)
            for m in results:
                if m.status != "killed":
                    print(f"      {m.status}: line {m.line}: {m.description}"
                          + (f"  ({m.detail})" if m.detail else ""))
    total = sum(r["mutants"] for r in rows)
    killed = sum(r["killed"] for r in rows)
    equivalent = sum(r["equivalent"] for r in rows)
    rate = killed / max(1, total - equivalent)
    summary = {"exercises": rows, "mutants": total, "killed": killed, "equivalent": equivalent,
               "survived": len(survivors), "kill_rate": round(rate, 4),
               "seconds": round(time.perf_counter() - started, 1)}
    if json_out:
        summary["survivors"] = [{"id": m.exercise, "line": m.line, "mutant": m.description}
                                for m in survivors]
        print(json.dumps(summary, indent=2))
    else:
        print(f"\n{killed} of {total - equivalent} non-equivalent mutants killed ({100 * rate:.1f} %), "
              f"{equivalent} equivalent, in {summary['seconds']} s")
    return 0 if not survivors else 1
