"""The notebook side (``autograder.notebook``): the set-up cell in Colab, work kept across runtime
resets, and what a check cell shows. Colab is played by a stand-in ``google.colab`` module."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import notebook
from autograder.course import load_course
from autograder.generate import write_package
from autograder.nbgrader_course import lesson_notebook

from .conftest import REPO

COURSE = load_course()
STUB_LINE = 'raise NotImplementedError("exercise 1.8 (lesson 1): write aami_class")'


def _stand_in_colab(folder: Path) -> Path:
    """A ``google.colab`` package whose ``drive.mount(path)`` makes ``path/MyDrive``."""
    package = folder / "google" / "colab"
    package.mkdir(parents=True)
    (folder / "google" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "drive.py").write_text(textwrap.dedent("""\
        import os
        mounted = []
        def mount(mountpoint, **kwargs):
            os.makedirs(os.path.join(mountpoint, "MyDrive"), exist_ok=True)
            mounted.append(mountpoint)
        """))
    return folder


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A Colab runtime: the stand-in module imported, Drive mounted under tmp, a course clone."""
    monkeypatch.syspath_prepend(str(_stand_in_colab(tmp_path / "site")))
    for name in [m for m in sys.modules if m == "google" or m.startswith("google.")]:
        monkeypatch.delitem(sys.modules, name)
    import google.colab  # noqa: F401  (what makes notebook.in_colab() true)
    monkeypatch.setattr(notebook, "DRIVE_MOUNT", tmp_path / "drive")
    clone = tmp_path / "content" / "ecg-course"
    write_package(clone / "ecglab")
    monkeypatch.setattr(notebook, "package_dir", lambda: clone / "ecglab")
    monkeypatch.setattr(notebook, "_keep", {"folder": None})
    return clone


def _write_my_work(clone: Path) -> str:
    module = clone / "ecglab" / "preprocess.py"
    mine = module.read_text().replace(STUB_LINE, "return None  # my work")
    module.write_text(mine)
    return mine


def test_work_survives_a_runtime_reset_through_drive(colab):
    mine = _write_my_work(colab)
    [saved] = notebook.save_work()
    assert saved.read_text() == mine and saved.is_relative_to(notebook.DRIVE_MOUNT / "MyDrive")
    write_package(colab / "ecglab")                      # the reset: a fresh clone, stubs again
    assert STUB_LINE in (colab / "ecglab" / "preprocess.py").read_text()
    notebook._keep["folder"] = None
    notebook.setup(1, keep_on_drive=True)
    assert (colab / "ecglab" / "preprocess.py").read_text() == mine


def test_restore_never_replaces_work_done_here(colab, capsys):
    _write_my_work(colab)
    notebook.save_work()
    here = (colab / "ecglab" / "preprocess.py").read_text() + "# more work, not saved yet\n"
    (colab / "ecglab" / "preprocess.py").write_text(here)
    assert notebook.restore_work() == []
    assert (colab / "ecglab" / "preprocess.py").read_text() == here
    assert "kept your preprocess.py" in capsys.readouterr().out


def test_untouched_stubs_are_not_saved_and_outside_colab_a_folder_is_named(tmp_path, monkeypatch):
    write_package(tmp_path / "ecglab")
    monkeypatch.setattr(notebook, "package_dir", lambda: tmp_path / "ecglab")
    monkeypatch.setattr(notebook, "_keep", {"folder": None})
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    with pytest.raises(ValueError, match="name the folder"):
        notebook.save_work()
    assert notebook.save_work(tmp_path / "backup") == []


def test_setup_offers_to_keep_work_and_names_a_fetch_command_that_works_here(colab, capsys,
                                                                            empty_data_dir):
    notebook.setup(1)
    out = capsys.readouterr().out
    assert "SYNTHETIC DATA" in out and "save_work()" in out
    assert f"!cd {colab} && python -m ecglab data fetch mitbih" in out


def test_a_check_cell_shows_the_summary_not_a_bare_number():
    points = notebook.Points(0.67)
    assert float(points) == 0.67 and repr(points) == "0.67"   # what nbgrader reads
    assert points._repr_html_() == ""                        # what the notebook shows


def _run_setup_cell(clone_parent: Path, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    cell = lesson_notebook(COURSE.lesson(1), COURSE).cells[2].source
    cell = cell.replace("/content/", f"{clone_parent}/")
    code = textwrap.dedent(f"""\
        import google.colab
        from IPython.terminal.interactiveshell import TerminalInteractiveShell as InteractiveShell
        result = InteractiveShell.instance().run_cell({cell!r})
        raise SystemExit(0 if result.success else 1)
        """)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{site}:{REPO}", "MPLBACKEND": "Agg",
           "ECGLAB_DATA": str(cwd / "no-data")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_colab_set_up_cell_runs_again_after_a_restart(tmp_path):
    """After "Restart session" the clone is there already: the cell must still find it."""
    site = _stand_in_colab(tmp_path / "site")
    clone = tmp_path / "content" / "ecg-course"
    write_package(clone / "ecglab")
    (clone / "lessons").mkdir()
    (clone / "course.yml").write_text((REPO / "course.yml").read_text())
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    proc = _run_setup_cell(tmp_path / "content", site, elsewhere)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"ecglab from {clone / 'ecglab'}" in proc.stdout


def test_in_self_study_a_function_of_yours_that_raises_is_explained(capsys):
    from autograder.reference import reference_module
    reference = reference_module("preprocess").nominal_period
    broken = notebook.exercises("preprocess")._explained("nominal_period", lambda r: 1 / 0, reference)
    assert broken([0, 100, 200]) == 100.0
    out = capsys.readouterr().out
    assert "your nominal_period raised ZeroDivisionError" in out and "goes on with the reference" in out
    with pytest.raises(ValueError):
        broken([5])                      # the reference fails too: the input is the problem
    assert "the input is the problem" in capsys.readouterr().out
