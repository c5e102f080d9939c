"""A demo class, graded end to end: what ``make course`` shows an instructor.

For every assignment three students hand in the release: ``ada`` with every answer
cell filled from the instructor's solution, ``blaise`` with only the first half of
them, and ``carl`` with nothing changed. The class is graded by ``autograder.grade``,
feedback is written without hidden tests, and nbgrader exports the grade table.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.cells import grade_id, is_solution
from autograder.layout import ROOT, assignments

STUDENTS = {"ada": "correct", "blaise": "partly correct", "carl": "blank"}


def answers(source_nb, kind=None) -> dict[str, str]:
    """Return {grade_id: source} of the answer cells (of one cell type) of a notebook."""
    return {grade_id(c): c.source for c in source_nb.cells
            if is_solution(c) and kind in (None, c.cell_type)}


def fill(release_nb, answers: dict[str, str]):
    """Return a copy of a release notebook with the given answer cells filled in."""
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers:
            cell.source = answers[gid]
    return nb


def submissions(assignment: str) -> dict[str, object]:
    """Return the demo students' notebooks {student: notebook} for one assignment."""
    name = f"{assignment}.ipynb"
    release = nbformat.read(ROOT / "release" / assignment / name, as_version=4)
    source = nbformat.read(ROOT / "source" / assignment / name, as_version=4)
    everything = answers(source)
    code = list(answers(source, "code").items())
    half = dict(code[: max(1, len(code) // 2)])
    return {"ada": fill(release, everything), "blaise": fill(release, half),
            "carl": fill(release, {})}


def setup(course: Path) -> list[str]:
    """Create a fresh course directory holding the config, source/, release/ and submissions."""
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "source", course / "source")
    names = assignments()  # those of source/, from which release/ is generated
    for assignment in names:  # creates the demo's gradebook and its release/
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                        "--log-level=WARN"], check=True, cwd=course)
        for student, nb in submissions(assignment).items():
            path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
    return names


def _sandbox_available() -> bool:
    from autograder.sandbox import confinement as sandbox

    try:
        sandbox.check_sandbox()
    except Exception as e:  # the grader says why; the demo only runs our own notebooks
        print(f"  note: {e}\n  The demo submissions are the course's own notebooks, so they "
              "are graded without the sandbox.")
        return False
    return True


def run(course: Path) -> Path:
    """Build and grade the demo class in course; return the path of the grade table."""
    from autograder.grade import grade, summary_table

    names = setup(course)
    safe = _sandbox_available()
    for assignment in names:
        print(f"  {assignment}:")
        results = grade(assignment, root=course, progress=False, unsafe_no_sandbox=not safe)
        print(summary_table(results))
        subprocess.run([sys.executable, "-m", "autograder", "feedback", assignment,
                        "--root", str(course)], check=True, cwd=course)
    table = course / "grades.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(table),
                    "--log-level=WARN"], check=True, cwd=course)
    print_table(table)
    print(f"  grade table: {table}\n  feedback:    {course / 'feedback'}")
    return table


def manual_points(course: Path) -> dict[tuple[str, str], float]:
    """Return {(assignment, student): points still to be graded by hand} from the gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for sub in gb.assignment_submissions(assignment.name):
                out[assignment.name, sub.student_id] = sum(
                    g.max_score for nb in sub.notebooks for g in nb.grades
                    if g.needs_manual_grade)
    return out


def print_table(table: Path, course: Path | None = None) -> None:
    """Print nbgrader's exported grades, one row per assignment and student."""
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    manual = manual_points(course or table.parent)
    print(f"  {'assignment':<28}{'student':<9}{'submission':<16}{'score':>7}{'max':>6}"
          f"{'to grade by hand':>18}")
    for r in sorted(rows, key=lambda r: (r["assignment"], r["student_id"])):
        kind = STUDENTS.get(r["student_id"], "")
        todo = manual.get((r["assignment"], r["student_id"]), 0.0)
        print(f"  {r['assignment']:<28}{r['student_id']:<9}{kind:<16}"
              f"{float(r['score']):>7.1f}{float(r['max_score']):>6.1f}{todo:>18.1f}")
    print("  Written answers are graded by hand in formgrader; until then they count 0.")


if __name__ == "__main__":
    run(ROOT / "build" / "demo")
