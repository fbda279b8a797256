"""One source of truth: the generated student side matches a fresh generation and leaks nothing."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

from autograder.course import load_course
from autograder.generate import (BACKUP_SUFFIX, BEGIN, END, GenerateError, drift_message,
                                 exercise_modules, fresh_files, generate, has_solutions, module_is_generated,
                                 out_of_sync, ready_made_files, strip_source, with_fingerprint)
from autograder.nbgrader_course import build_course, lesson_notebook, student_files

from .conftest import REPO, SOLUTIONS

COURSE = load_course()


def _assert_in_sync(drift):
    edited = [d for d in drift if d.kind == "edited"]
    if edited and not os.environ.get("CI") and len(edited) == len(drift):
        pytest.skip("not checked here: " + drift_message(drift))
    assert not drift, drift_message(drift)


@pytest.fixture(scope="module")
def fresh() -> dict:
    """``{path: text}`` of every generated file as a fresh generation makes it. The tests of what
    students get read these, not the working copy, whose ``ecglab/`` and ``lessons/`` may hold a
    student's work; the in-sync tests make sure the committed files are these."""
    return fresh_files(REPO)


def test_exercise_modules_match_a_fresh_generation():
    _assert_in_sync(out_of_sync(notebooks=False))


@pytest.mark.slow
def test_lesson_notebooks_match_a_fresh_generation(fresh):
    assert sorted((REPO / "lessons").glob("*.ipynb")), "no lesson notebook in lessons/"
    _assert_in_sync(out_of_sync(fresh=fresh))


def _fresh_repo(tmp_path) -> Path:
    """A folder laid out like the repository's student side, freshly generated (no notebooks)."""
    done = generate(tmp_path, notebooks=False)
    assert not done.kept and len(done.written) == len(COURSE.lessons)
    return tmp_path


def test_out_of_sync_tells_stale_from_edited(tmp_path):
    repo = _fresh_repo(tmp_path)
    assert out_of_sync(repo, notebooks=False) == []
    module = repo / "ecglab" / "preprocess.py"
    header = "".join(module.read_text().splitlines(keepends=True)[:3])
    # generated, but from another solutions/: safe to regenerate
    module.write_text(with_fingerprint(re.sub(r"[0-9a-f]{12}\)", "{})", header), "x = 1\n"))
    assert [(d.path, d.kind) for d in out_of_sync(repo, notebooks=False)] == [("ecglab/preprocess.py", "stale")]
    module.write_text(module.read_text() + "# my work\n")
    assert [d.kind for d in out_of_sync(repo, notebooks=False)] == ["edited"]
    module.unlink()
    assert [d.kind for d in out_of_sync(repo, notebooks=False)] == ["missing"]


def test_generate_never_replaces_an_edit_and_force_backs_it_up(tmp_path):
    repo = _fresh_repo(tmp_path)
    module = repo / "ecglab" / "preprocess.py"
    mine = module.read_text().replace('raise NotImplementedError("exercise 1.8', 'return 0  # mine\n'
                                      '    raise NotImplementedError("exercise 1.8')
    module.write_text(mine)
    done = generate(repo, notebooks=False)
    assert done.kept == [module] and module.read_text() == mine
    assert "preprocess.py holds edits" in done.message(repo) and "--force" in done.message(repo)
    done = generate(repo, notebooks=False, force=True)
    [backup] = done.backups.values()
    assert backup.read_text() == mine and backup.name.startswith("preprocess.py.")
    assert backup.suffix == BACKUP_SUFFIX and module_is_generated(module.read_text())
    assert out_of_sync(repo, notebooks=False) == []   # a backup is not a generated file
    assert generate(repo, notebooks=False).kept == []


def test_generated_notebooks_carry_a_fingerprint_that_outputs_break(tmp_path):
    import nbformat

    from autograder.generate import notebook_is_generated
    from autograder.nbgrader_course import fingerprinted
    nb = lesson_notebook(COURSE.lesson(1), COURSE)
    text = fingerprinted(nbformat.writes(nb), "lesson1")
    assert notebook_is_generated(text)
    run = nbformat.reads(text, as_version=4)
    run.cells[3].outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    assert not notebook_is_generated(nbformat.writes(run))
    assert not notebook_is_generated("{ not json")


def test_solutions_hold_only_exercise_modules_and_lesson_sources():
    files = {str(p.relative_to(SOLUTIONS)) for p in SOLUTIONS.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    allowed = {"ecglab/__init__.py"} | {f"ecglab/{m}.py" for m in exercise_modules(COURSE)} \
        | {f"lessons/{l.notebook}.py" for l in COURSE.lessons}
    assert files <= allowed, f"not exercise modules or lesson sources: {sorted(files - allowed)}"


def test_no_ready_made_file_is_also_in_solutions():
    ready = {str(p.relative_to(REPO / "ecglab")) for p in ready_made_files()}
    assert ready and not ready & {str(p.relative_to(SOLUTIONS / "ecglab"))
                                  for p in (SOLUTIONS / "ecglab").rglob("*.py")} - {"__init__.py"}


def test_ready_made_code_never_imports_the_grader(fresh):
    sources = {p: p.read_text() for p in ready_made_files() if p.suffix == ".py"}
    sources.update({p: t for p, t in fresh.items() if p.suffix == ".py"})
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "autograder" for n in names), f"{path} imports autograder"


def test_the_reference_is_solutions_over_the_ready_made_package():
    from autograder.reference import reference_module
    assert Path(reference_module("preprocess").__file__).resolve() == SOLUTIONS / "ecglab" / "preprocess.py"
    assert Path(reference_module("data").__file__).resolve() == REPO / "ecglab" / "data" / "__init__.py"


def _solution_lines() -> dict[str, set[str]]:
    """Distinctive lines of every solution region, per module file."""
    found = {}
    for path in exercise_modules(COURSE).values():
        inside, lines = False, set()
        for line in path.read_text().splitlines():
            if line.strip() == BEGIN:
                inside = True
            elif line.strip() == END:
                inside = False
            elif inside and len(line.strip()) >= 20:
                lines.add(line.strip())
        if lines:
            found[str(path.relative_to(SOLUTIONS / "ecglab"))] = lines
    return found


def _code_lines(source: str) -> set[str]:
    """The stripped lines of Python code, docstrings excluded (their APPROACH steps may quote
    a line of the solution on purpose: that is the exercise sheet)."""
    tree = ast.parse(source)
    docstring_lines = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstring_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return {line.strip() for i, line in enumerate(source.splitlines(), 1) if i not in docstring_lines}


def test_no_solution_leaks_into_the_student_side(fresh):
    lines = _solution_lines()
    assert lines, "no solution regions found"
    code = {p: _code_lines(p.read_text()) for p in ready_made_files()}
    for path, text in fresh.items():
        if path.suffix == ".py":
            code[path] = _code_lines(text)
        else:
            cells = json.loads(text)["cells"]
            code[path] = {line.strip() for c in cells if c["cell_type"] == "code"
                          for line in "".join(c["source"]).splitlines()}
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path
    for path, student_lines in code.items():
        for module, solution in lines.items():
            leaked = sorted(solution & student_lines)
            assert not leaked, f"{path} holds solution lines of {module}: {leaked[:3]}"


def test_stubs_name_the_exercise_and_keep_signature_and_docstring(fresh):
    student = ast.parse(fresh[REPO / "ecglab" / "preprocess.py"])
    reference = ast.parse((SOLUTIONS / "ecglab" / "preprocess.py").read_text())
    functions = {n.name: n for n in student.body if isinstance(n, ast.FunctionDef)}
    for node in reference.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        stub = functions[node.name]
        assert ast.dump(stub.args) == ast.dump(node.args)
        assert ast.get_docstring(stub) == ast.get_docstring(node)
        exercise = next(e for e in COURSE.exercises if e.function == node.name)
        raised = stub.body[-1]
        assert isinstance(raised, ast.Raise)
        message = raised.exc.args[0].value
        assert f"exercise {exercise.id}" in message and f"lesson {exercise.lesson}" in message


def test_strip_keeps_indentation_and_compiles():
    source = (
        "class Net:\n"
        "    def forward(self, x):\n"
        '        """Doc."""\n'
        "        ### BEGIN SOLUTION\n"
        "        y = x + 1\n"
        "        return y\n"
        "        ### END SOLUTION\n")
    course = load_course()
    exercise = course.exercises[0]
    fake = course.__class__(**{**course.__dict__, "lessons": (
        course.lessons[0].__class__(**{**course.lessons[0].__dict__, "exercises": (
            exercise.__class__(**{**exercise.__dict__, "function": "Net"}),)}),)})
    out = strip_source(source, Path("x.py"), exercise.module, fake)
    assert "        raise NotImplementedError(" in out and "x + 1" not in out
    compile(out, "x.py", "exec")
    solved = strip_source(source, Path("x.py"), exercise.module, fake, solved={exercise.id})
    assert "        y = x + 1" in solved and "BEGIN" not in solved


@pytest.mark.parametrize("source,problem", [
    ("def to_windows():\n    ### BEGIN SOLUTION\n    pass\n", "without a matching"),
    ("def to_windows():\n    pass\n    ### END SOLUTION\n", "without ### BEGIN"),
    ("def helper():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n", "outside every exercise"),
])
def test_strip_errors_name_file_and_line(source, problem):
    with pytest.raises(GenerateError, match=problem) as info:
        strip_source(source, Path("solutions/ecglab/preprocess.py"), "preprocess", COURSE)
    assert re.search(r"preprocess\.py:\d+", str(info.value))


def test_reference_package_imports_itself_only_relatively():
    """The graders load the reference under another name: an absolute `import ecglab` inside it
    would pull in the student's package instead."""
    for path in list(exercise_modules(COURSE).values()) + ready_made_files():
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                     else [])
            assert not any(n == "ecglab" or n.startswith("ecglab.") for n in names), (
                f"{path}: absolute import of ecglab; use a relative import")


def test_every_exercise_module_has_its_regions():
    for exercise in COURSE.exercises:
        path = SOLUTIONS / "ecglab" / (exercise.module.replace(".", "/") + ".py")
        assert has_solutions(path.read_text()), path


def test_lesson_notebook_structure():
    lesson = COURSE.lesson(1)
    nb = lesson_notebook(lesson, COURSE)
    assert "colab.research.google.com" in nb.cells[1].source
    assert nb.cells[2].metadata["nbgrader"]["grade_id"] == "setup"
    assert "setup(lesson=1, keep_on_drive=KEEP_ON_DRIVE)" in nb.cells[2].source
    grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata["nbgrader"]["grade_id"] for c in grade_cells] == [e.grade_id for e in lesson.exercises]
    assert [c.metadata["nbgrader"]["points"] for c in grade_cells] == [e.points for e in lesson.exercises]
    for cell, exercise in zip(grade_cells, lesson.exercises):
        assert "from autograder.notebook import check" in cell.source  # each grade cell imports check
        assert f'check("{exercise.id}")' in cell.source
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_generated_notebooks_have_no_outputs_and_a_badge(fresh):
    notebooks = {p: t for p, t in fresh.items() if p.suffix == ".ipynb"}
    assert len(notebooks) == len(COURSE.lessons)
    for path, text in notebooks.items():
        nb = json.loads(text)
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), path
        assert "Open In Colab" in "".join(nb["cells"][1]["source"]), path


def test_nbgrader_course_layout(tmp_path):
    root = build_course(tmp_path / "course")
    config = (root / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.course_id = "ecg-course"' in config
    assert f"c.Execute.timeout = {COURSE.cell_timeout_seconds}" in config
    assert "ecglab/preprocess.py" in config
    compile(config, "nbgrader_config.py", "exec")
    lesson1 = root / "source" / "lesson1"
    assert (lesson1 / "01_preprocessing.ipynb").is_file()
    assert "raise NotImplementedError" in (lesson1 / "ecglab" / "preprocess.py").read_text()
    assert student_files(COURSE.lesson(1)) == ["ecglab/preprocess.py"]


def test_course_yml_data_settings_are_what_ecglab_does(repo, tmp_path, monkeypatch):
    import yaml

    from ecglab import config
    settings = yaml.safe_load((repo / "course.yml").read_text())["data"]
    monkeypatch.delenv(settings["env"], raising=False)
    assert config.data_dir() == repo / settings["default_dir"]
    monkeypatch.setenv(settings["env"], str(tmp_path))
    assert config.data_dir() == tmp_path
    assert config.data_dir("elsewhere") == Path("elsewhere")
