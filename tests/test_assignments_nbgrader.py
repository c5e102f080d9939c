"""Every assignment end to end through nbgrader's own generate_assignment, autograde and
generate_feedback, in temporary course directories (one per assignment, graded two at a
time).

Students of each assignment:

* ``alice`` and ``bob`` hand in the release filled in with the reference solution, plus
  a few lines that log a digest of every input the checks give their functions
  (``spy.jsonl``);
* ``blank`` hands in the release untouched;
* ``cheater`` lets the course package or autograd do a graded part;
* in a3 only, ``buggy`` hands in a known-bug variant from the audit's library.
"""

import html
import importlib
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from fixtures.assignments import nbcourse as nbc

from autograder import checks
from autograder.audit import load_variants
from autograder.cells import hidden_lines

pytestmark = pytest.mark.slow

PIPELINE = Path(__file__).parent / "fixtures" / "assignments" / "pipeline.py"

BUGGY = ("a3_backprop", "mlp_backward_skips_last_activation", {"test_mlp_backward"})


def variant(assignment, name):
    return next(v for v in load_variants(assignment) if v.name == name)


def cheat(assignment):
    """(variant name, test cells it must lose) of ``autograder/bugs/<assignment>.py``, or
    None when the assignment names no cheat (then only its own test fails)."""
    bugs = importlib.import_module(f"autograder.bugs.{assignment}")
    if not hasattr(bugs, "CHEAT"):
        return None
    return bugs.CHEAT, set(bugs.CHEAT_LOSES)


def grade(root: Path, assignment: str) -> dict:
    course = nbc.new_course(root, assignment)
    src = nbc.source_nb(assignment)

    def hand_in(student, patches=(), append=None):
        nb = nbc.filled_release(assignment, nbc.patched(src, patches, append))
        nbc.submit(course, assignment, student, nb)

    hand_in("alice", append=nbc.SPY)
    hand_in("bob", append=nbc.SPY)
    students = ["alice", "bob"]
    if cheat(assignment):
        hand_in("cheater", variant(assignment, cheat(assignment)[0]).patches)
        students.append("cheater")
    if assignment == BUGGY[0]:
        hand_in("buggy", variant(assignment, BUGGY[1]).patches)
        students.append("buggy")
    # blank: the release as generated (by the pipeline), handed in untouched
    proc = subprocess.run([sys.executable, str(PIPELINE), str(course), assignment, *students],
                          env=nbc.env(), capture_output=True, text=True, timeout=900)
    if proc.returncode == 0:
        release = course / "release" / assignment / f"{assignment}.ipynb"
        nbc.submit(course, assignment, "blank", nbformat.read(str(release), 4))
        proc2 = subprocess.run([sys.executable, str(PIPELINE), str(course), assignment, "blank"],
                               env=nbc.env(), capture_output=True, text=True, timeout=900)
        proc = proc2 if proc2.returncode else proc
    return {"course": course, "proc": proc}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("courses")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(nbc.ASSIGNMENTS, pool.map(lambda a: grade(root, a), nbc.ASSIGNMENTS)))
    for a, run in runs.items():
        p = run["proc"]
        assert p.returncode == 0, f"{a}: nbgrader pipeline failed\n{p.stdout[-4000:]}\n" \
                                  f"{p.stderr[-4000:]}"
        run["scores"] = nbc.scores(run["course"], a)
    return runs


def auto_cells(student_scores):
    return {gid: s for gid, s in student_scores.items() if not s[2] and s[1] and
            gid.startswith("test_")}


@pytest.mark.parametrize("a", nbc.ASSIGNMENTS)
def test_release_in_the_repository_matches_a_fresh_generate_assignment(graded, a):
    def cells(path):
        nb = nbformat.read(str(path), 4)
        return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]

    fresh = graded[a]["course"] / "release" / a / f"{a}.ipynb"
    committed = nbc.REPO / "release" / a / f"{a}.ipynb"
    assert cells(fresh) == cells(committed), "release/ is stale: regenerate it from source/"


@pytest.mark.parametrize("a", nbc.ASSIGNMENTS)
def test_reference_solution_gets_full_marks(graded, a):
    for student in ("alice", "bob"):
        s = graded[a]["scores"][student]
        tests = auto_cells(s)
        assert len(tests) >= 4
        assert all(auto == top for auto, top, _ in tests.values()), (student, s)
        written = [g for g, v in s.items() if v[2]]
        assert written, "the written answers wait for manual grading"


@pytest.mark.parametrize("a", nbc.ASSIGNMENTS)
def test_untouched_release_gets_zero(graded, a):
    s = graded[a]["scores"]["blank"]
    assert s and all(auto == 0 for auto, _, _ in s.values()), s


@pytest.mark.parametrize("a", nbc.ASSIGNMENTS)
def test_using_the_course_package_or_autograd_loses_those_points(graded, a):
    assert cheat(a), f"autograder/bugs/{a}.py names no CHEAT and CHEAT_LOSES"
    s = auto_cells(graded[a]["scores"]["cheater"])
    _, lost = cheat(a)
    assert {g for g, (auto, top, _) in s.items() if auto < top} == lost
    fb = feedback_text(graded[a]["course"], a, "cheater")
    assert "graded functions must be your own code" in fb


def test_a_known_bug_loses_its_points_and_the_feedback_says_why(graded):
    a, name, lost = BUGGY
    s = auto_cells(graded[a]["scores"]["buggy"])
    assert {g for g, (auto, top, _) in s.items() if auto < top} == lost
    assert "skipped the" in feedback_text(graded[a]["course"], a, "buggy")


# Hidden checks that measure time and depth, not values: one case for the whole class
# (a5's chain of 10 000 operations, whose trusted gradients the judge then computes once).
CLASS_WIDE = {name for name, check in checks.CHECKS.items()
              if getattr(check, "HIDDEN_SEED", None) is not None}


@pytest.mark.parametrize("a", nbc.ASSIGNMENTS)
def test_two_students_get_different_hidden_inputs(graded, a):
    cases = {}
    for student in ("alice", "bob"):
        for name, hidden, digest in nbc.spy_log(graded[a]["course"], a, student):
            cases.setdefault((name, hidden), {}).setdefault(student, []).append(digest)
    assert cases
    hidden = [k for k in cases if k[1]]
    assert len(hidden) >= 4
    for (name, is_hidden), seen in cases.items():
        assert len(seen["alice"]) == len(seen["bob"])
        if is_hidden and name in CLASS_WIDE:  # one hidden case for the whole class
            assert seen["alice"] == seen["bob"], name
        elif is_hidden:  # drawn from each student's seed (a fixed edge case may repeat)
            assert seen["alice"] != seen["bob"], name
        else:  # the visible checks are the same for everyone
            assert seen["alice"] == seen["bob"], name


def feedback_text(course, a, student):
    page = (course / "feedback" / student / a / f"{a}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize("a", nbc.ASSIGNMENTS)
def test_feedback_never_shows_hidden_tests(graded, a):
    course = graded[a]["course"]
    secret = hidden_lines(nbc.source_nb(a))
    assert secret
    autograded = (course / "autograded" / "alice" / a / f"{a}.ipynb").read_text()
    assert "hidden=True" in autograded  # what nbgrader itself would render (its #917)
    for student in ("alice", "blank", "cheater"):
        text = feedback_text(course, a, student)
        assert "checks." in text  # the visible checks are shown
        assert not [line for line in secret if line in text], student
        assert "BEGIN HIDDEN TESTS" not in text
