"""Static checks of the assignments: nbgrader metadata, test cells, and the release.

The release must hold every cell of the source with solutions replaced by stubs and the
hidden tests removed: no line of a solution or of a hidden test may appear in it.
"""

import ast
import re

import nbformat
import pytest
from fixtures.assignments.nbcourse import ASSIGNMENTS, REPO

from autograder import cells, checks
from autograder.cells import grade_id, hidden_lines, remove_hidden_regions
from autograder.judge import check_calls

FORBIDDEN_IMPORTS = re.compile(
    r"^\s*(from|import)\s+(course\.(activations|losses|layers|network|optim|gradcheck|"
    r"autodiff)|autograd|torch|jax)\b|from\s+course\s+import\s+.*\b(activations|losses|"
    r"layers|network|optim|gradcheck|autodiff)\b", re.M)


def load(kind, name):
    return nbformat.read(str(REPO / kind / name / f"{name}.ipynb"), as_version=4)


def meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_lines(nb):
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            s = line.strip()
            if s == "### BEGIN SOLUTION":
                inside = True
            elif s == "### END SOLUTION":
                inside = False
            elif inside and len(s) >= 12:
                lines.append(s)
        if meta(cell).get("solution") and cell.cell_type == "markdown":
            lines += [s.strip() for s in cell.source.splitlines() if len(s.strip()) >= 12]
    return lines


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_grade_ids_are_unique_snake_case(name):
    ids = [grade_id(c) for c in load("source", name).cells if meta(c)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_test_cell_has_a_docstring_and_visible_then_hidden_checks(name):
    nb = load("source", name)
    tests = cells.test_cells(nb)
    assert len(tests) >= 4
    calls = check_calls(nb)
    for cell in tests:
        gid = grade_id(cell)
        assert meta(cell)["locked"] and meta(cell)["points"] > 0, gid
        assert ast.get_docstring(ast.parse(cell.source)), f"{gid} opens without a docstring"
        flags = [c.hidden for c in calls[gid]]
        assert flags and not flags[0], f"{gid}: a visible check must come first"
        assert True in flags, f"{gid} has no hidden check"
        visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
        assert "hidden=True" not in visible and "hidden=True" in hidden
        for c in calls[gid]:
            assert c.name in checks.CHECKS, c.name


def test_every_check_is_used_by_an_assignment():
    used = {c.name for name in ASSIGNMENTS for calls in check_calls(load("source", name)).values()
            for c in calls}
    assert used == set(checks.CHECKS)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_cells_and_written_answers(name):
    nb = load("source", name)
    code = [c for c in nb.cells if meta(c).get("solution") and c.cell_type == "code"]
    written = [c for c in nb.cells if meta(c).get("solution") and meta(c).get("grade")
               and c.cell_type == "markdown"]
    assert code and all("### BEGIN SOLUTION" in c.source for c in code)
    assert written and all(meta(c)["points"] > 0 for c in written)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_cells_never_import_the_course_answers(name):
    for cell in load("source", name).cells:
        if cell.cell_type == "code":
            assert not FORBIDDEN_IMPORTS.search(remove_hidden_regions(cell.source)), cell.source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solutions_or_hidden_tests(name):
    source, release = load("source", name), load("release", name)
    text = "\n".join(c.source for c in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    public = "\n".join(remove_hidden_regions(c.source) for c in source.cells
                       if not meta(c).get("solution"))
    secret = [line for line in solution_lines(source) + hidden_lines(source)
              if line not in public]
    assert any("hidden=True" in line for line in secret) and len(secret) > 10
    leaked = [line for line in secret if line in text]
    assert not leaked


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_test_cells_are_the_visible_part_of_the_source(name):
    source = {grade_id(c): c for c in cells.test_cells(load("source", name))}
    release = {grade_id(c): c for c in cells.test_cells(load("release", name))}
    assert source.keys() == release.keys()
    for gid, cell in source.items():
        assert release[gid].source.strip() == remove_hidden_regions(cell.source).strip()
