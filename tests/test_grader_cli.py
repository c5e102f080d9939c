"""`python -m autograder grade`: bad input, re-runs, --force, --student, the summary,
refusing to run without bubblewrap, and scores that follow the (injected) judge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.grader import gradertools as gt

from autograder.grade import grade
from autograder.results import Verdict

WRONG_RELU = "def relu(z):\n    return np.abs(z)\n\n\ndef relu_grad(z):\n    return 1 + 0 * z\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return gt.shared_template(tmp_path_factory)


@pytest.fixture
def course(template, tmp_path):
    return gt.new_course(template, tmp_path / "course")


class Run:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys):
    """Run the command line in this process (as `python -m autograder` would)."""
    from autograder.__main__ import main

    def run(course: Path, *args: str) -> Run:
        capsys.readouterr()
        rc = main([*args, "--root", str(course)])
        out = capsys.readouterr()
        return Run(rc, out.out, out.err)

    return run


def test_python_dash_m_entry_point(course):
    r = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps9", "--root",
                        str(course)], capture_output=True, text=True, env=gt.venv_env())
    assert r.returncode == 2 and "unknown assignment 'ps9'" in r.stderr


def test_unknown_assignment_student_and_missing_gradebook(course, cli):
    gt.submit(course, "alice")
    r = cli(course, "grade", "ps9")
    assert r.returncode == 2 and "unknown assignment 'ps9'" in r.stderr
    r = cli(course, "grade", "ps1", "--student", "ghost")
    assert r.returncode == 2 and "no submission of 'ps1' for student(s) ghost" in r.stderr
    r = cli(course, "grade", "ps1", "--db", "postgresql://grader:secret@127.0.0.1:1/gb")
    assert r.returncode == 2 and "cannot open the gradebook" in r.stderr
    assert "secret" not in r.stderr
    r = cli(course, "grade", "ps1", "--scheduler", "tcp://127.0.0.1:1")
    assert r.returncode == 2 and "cannot reach the Dask scheduler" in r.stderr
    (course / "gradebook.db").unlink()
    r = cli(course, "grade", "ps1")
    assert r.returncode == 2 and "no gradebook" in r.stderr
    r = cli(course / "nowhere", "grade", "ps1")
    assert r.returncode == 2 and "does not exist" in r.stderr


@pytest.mark.sandbox
def test_refuses_without_bubblewrap_unless_unsafe(course, cli, monkeypatch):
    gt.submit(course, "alice")
    monkeypatch.setenv("PATH", "/nonexistent")
    r = cli(course, "grade", "ps1", "--no-progress")
    assert r.returncode == 2
    assert "bubblewrap (bwrap) is not available" in r.stderr
    assert "--unsafe-no-sandbox" in r.stderr
    assert not (course / "autograded").exists()
    r = cli(course, "grade", "ps1", "--no-progress", "--unsafe-no-sandbox")
    assert r.returncode == 0, r.stderr
    assert gt.scores(course)["alice"] == {"test_sigmoid": 2.0, "test_relu": 3.0,
                                          "test_tanh": 1.0}


@pytest.mark.sandbox
def test_rerun_skips_unchanged_submissions_force_regrades(course, cli):
    gt.submit(course, "alice")
    gt.submit(course, "bob", gt.student_notebook(course, {"relu_solution": WRONG_RELU}))
    r = cli(course, "grade", "ps1", "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "grading ps1" in r.stderr  # the progress bar
    assert "graded: 2  skipped (unchanged): 0  failed: 0" in r.stdout
    assert "3/6" in r.stdout and "6/6" in r.stdout
    # Unchanged: nothing is graded again (and the gradebook is untouched).
    before = (course / "gradebook.db").stat().st_mtime_ns
    r = cli(course, "grade", "ps1", "--no-progress")
    assert "graded: 0  skipped (unchanged): 2" in r.stdout, r.stdout
    assert (course / "gradebook.db").stat().st_mtime_ns == before
    assert "grading ps1" not in r.stderr
    # bob fixes his notebook: only bob is graded again.
    gt.submit(course, "bob")
    r = cli(course, "grade", "ps1", "--no-progress")
    assert "graded: 1  skipped (unchanged): 1" in r.stdout, r.stdout
    assert gt.scores(course)["bob"]["test_relu"] == 3.0
    # --force with --student: that student only, even though unchanged.
    r = cli(course, "grade", "ps1", "--no-progress", "--force", "--student", "alice")
    assert "graded: 1  skipped (unchanged): 0" in r.stdout, r.stdout
    assert "bob" not in r.stdout


def judge_always_pass(source, record_dir, seed):
    return {g: Verdict(True, "stand-in: pass") for g in gt.POINTS}


def judge_always_fail(source, record_dir, seed):
    return {g: Verdict(False, "stand-in: fail") for g in gt.POINTS}


@pytest.mark.sandbox
def test_scores_come_from_the_judge_not_the_notebook(course):
    """A failing notebook judged 'pass' gets full marks; a correct one judged 'fail' zero."""
    gt.submit(course, "wrong", gt.student_notebook(course, {"relu_solution": WRONG_RELU}))
    res = grade("ps1", root=course, workers=1, progress=False, judge=judge_always_pass)
    assert res[0].status == "graded" and res[0].score == 6
    assert gt.scores(course)["wrong"]["test_relu"] == 3.0
    res = grade("ps1", root=course, workers=1, progress=False, judge=judge_always_fail,
                force=True)
    assert res[0].score == 0
    assert gt.scores(course)["wrong"] == {g: 0.0 for g in gt.POINTS}


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize("line, named", [
    ("c.Autograder.memory_md = 512", "unknown setting Autograder.memory_md"),
    ("c.Autograder.memory_mb = '512 MB'", "'memory_mb' trait"),
    ("c.Autograde.memory_mb = 512", "unknown section Autograde"),
    ("c.Similarity.treshold = 0.3", "unknown setting Similarity.treshold"),
])
def test_a_misspelt_or_mistyped_setting_stops_before_anything_is_graded(course, cli, line,
                                                                       named):
    gt.submit(course, "alice")
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\n{line}\n")
    r = cli(course, "grade", "ps1", "--no-progress", "--unsafe-no-sandbox")
    assert r.returncode == 2 and named in r.stderr, r.stderr
    assert str(course / "nbgrader_config.py") in r.stderr
    assert not (course / "autograded").exists()
    r = cli(course, "feedback", "ps1")
    assert r.returncode == 2 and named in r.stderr, r.stderr


def test_a_misspelt_setting_suggests_the_right_one_and_says_where(course, cli):
    r = cli(course, "grade", "ps1", "--Autograder.memory_md=512")
    assert r.returncode == 2
    assert "Autograder.memory_md on the command line; did you mean Autograder.memory_mb?" \
        in r.stderr
    r = cli(course, "grade", "ps1", "--cell-timeout", "soon")
    assert r.returncode == 2 and "cell_timeout" in r.stderr and "soon" in r.stderr


@pytest.fixture
def limits_used(monkeypatch):
    """The limits each grading run would use (the run itself does nothing)."""
    from autograder.grade import Grader

    seen = []

    def run(self):
        seen.append(self.limits)
        return []

    monkeypatch.setattr(Grader, "run", run)
    return seen


def test_a_flag_is_an_alias_of_its_setting(course, cli, limits_used):
    gt.submit(course, "alice")
    spellings = (["--cell-timeout", "17"], ["--cell-timeout=17"],
                 ["--Autograder.cell_timeout=17"], ["--Autograder.cell_timeout", "17"])
    for args in spellings:
        assert cli(course, "grade", "ps1", *args).returncode == 0
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("\nc.Autograder.cell_timeout = 17\n")
    assert cli(course, "grade", "ps1").returncode == 0
    assert len(limits_used) == len(spellings) + 1
    assert all(lim == limits_used[-1] for lim in limits_used)
    assert limits_used[-1].cell_timeout == 17
    # The command line goes over the file.
    assert cli(course, "grade", "ps1", "--Autograder.cell_timeout=19").returncode == 0
    assert limits_used[-1].cell_timeout == 19
