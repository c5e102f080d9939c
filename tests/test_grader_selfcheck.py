"""The grader grades the instructor's solution first, and the kernel imports its packages.

- A grading environment that cannot grade the instructor's own solution stops the run
  with an error naming the failing test and why, before any student is graded: nothing
  reaches the gradebook or ``autograded/``.
- A course directory anywhere (here a copy outside the repository holding its own
  ``course`` and ``autograder`` packages, graded from that directory) is graded with
  exactly those packages: the sandboxed kernel imports what the grader imports.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from fixtures.grader import gradertools as gt

from autograder.grade import GradingError, grade

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parents[1]


def _edit_source(course: Path, grade_id: str, old: str, new: str) -> None:
    path = course / "source" / gt.ASSIGNMENT / f"{gt.ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, 4)
    cell = next(c for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
                or (grade_id == "setup" and i == 1))
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)


def _nothing_written(course: Path) -> None:
    assert gt.scores(course) == {}
    assert not (course / "autograded").exists()


@pytest.fixture
def course(tmp_path_factory, tmp_path):
    course = gt.new_course(gt.shared_template(tmp_path_factory), tmp_path / "course")
    for student in ("alice", "bob"):
        gt.submit(course, student)
    return course


def test_a_kernel_missing_a_package_stops_the_run(course):
    """The instructor's notebook imports a package the sandbox lacks: nobody is graded."""
    _edit_source(course, "setup", "from autograder import checks",
                 "from autograder_elsewhere import checks")
    r = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", "--root",
                        str(course), "--no-progress"], capture_output=True, text=True,
                       env=gt.venv_env(), timeout=600)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "the instructor's solution" in r.stderr
    assert "No module named 'autograder_elsewhere'" in r.stderr
    for test in gt.POINTS:
        assert f"{test}: " in r.stderr, test
    _nothing_written(course)


def test_a_test_the_solution_fails_is_named(course):
    """A hidden test the reference cannot pass (here a wrong reference relu)."""
    _edit_source(course, "relu_solution", "return np.maximum(z, 0)", "return np.abs(z)")
    with pytest.raises(GradingError) as e:
        grade("ps1", root=course, workers=2, progress=False)
    msg = str(e.value)
    assert "ps1.ipynb with seed 1234: test_relu: relu, case 1" in msg
    assert "test_sigmoid" not in msg and "test_tanh" not in msg
    _nothing_written(course)


def test_a_course_outside_the_repository_with_its_own_packages(tmp_path_factory, tmp_path):
    """Graded from a copy of the course that carries its own course and autograder."""
    course = gt.new_course(gt.shared_template(tmp_path_factory), tmp_path / "copy")
    for package in ("course", "autograder"):
        shutil.copytree(ROOT / package, course / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (course / "autograder" / "_origin.py").write_text("WHERE = 'the copy'\n")
    probe = "from autograder import _origin\nprint('ORIGIN', _origin.WHERE)\n"
    gt.submit(course, "alice", gt.student_notebook(course, prelude=probe))
    env = gt.venv_env()
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", "--no-progress"],
                       cwd=course, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert gt.scores(course)["alice"] == gt.POINTS
    graded = nbformat.read(course / "autograded" / "alice" / "ps1" / "ps1.ipynb", 4)
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    assert "ORIGIN the copy" in printed


def test_the_solution_and_the_students_take_the_same_path_to_the_workers(tmp_path_factory,
                                                                         tmp_path, monkeypatch):
    """The self-check grades source/ through Runner.run as nbgrader grades a student: with
    the other files of its folder beside the notebook (here a data file the solution's
    set-up cell reads, as a student's does from their submission folder)."""
    from autograder.workers import Runner

    course = gt.new_course(gt.shared_template(tmp_path_factory), tmp_path / "course")
    _edit_source(course, "setup", "from autograder import checks",
                 "from autograder import checks\nSCALE = float(open('scale.txt').read())")
    (course / "source" / gt.ASSIGNMENT / "scale.txt").write_text("2.5")
    for student in ("alice", "bob"):
        folder = gt.submit(course, student, gt.student_notebook(
            course, prelude="SCALE = float(open('scale.txt').read())"))
        (folder / "scale.txt").write_text("2.5")
    calls = []
    real_run = Runner.run

    def run(self, nb, notebook, *, seed, work, real_judge=False, **kw):
        calls.append((Path(work).parts[-3:], real_judge))
        return real_run(self, nb, notebook, seed=seed, work=work, real_judge=real_judge,
                        **kw)

    monkeypatch.setattr(Runner, "run", run)
    results = grade("ps1", root=course, workers=2, progress=False)
    assert [(r.student, r.status, r.score) for r in results] == [
        ("alice", "graded", gt.total(gt.POINTS)), ("bob", "graded", gt.total(gt.POINTS))]
    source_calls = [c for c in calls if c[0][-2:] == ("source", gt.ASSIGNMENT)]
    student_calls = sorted(c for c in calls if c[0][0] == "autograded")
    assert len(source_calls) >= 1 and all(real for _, real in source_calls)
    assert student_calls == [(("autograded", s, gt.ASSIGNMENT), False)
                             for s in ("alice", "bob")]
    assert len(calls) == len(source_calls) + len(student_calls)
