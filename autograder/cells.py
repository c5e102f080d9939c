"""The one reader of nbgrader cell text: what the grader asks about a cell and its source.

- which cells are autograded test cells, and a cell's ``grade_id``: :func:`grade_id`,
  :func:`is_test`, :func:`test_cells` (on ``nbgrader.utils``). An autograded test cell is a
  code cell marked ``grade`` and not ``solution`` (a cell marked both is an answer cell
  that nbgrader also scores, and is never replaced);
- hidden-test regions: :func:`remove_hidden_regions` (what the release shows of a cell,
  as nbgrader's ``generate_assignment`` writes it) and :func:`hidden_lines`;
- IPython magics and shell lines: :func:`python_only` (a cell made plain Python);
- calls of the trusted checks in a test cell: :func:`check_calls_in`.

Where the notebooks of a course lie is :mod:`autograder.layout`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from nbgrader.utils import is_grade, is_solution

# nbgrader's delimiters (``ClearHiddenTests.begin_test_delimeter``): a line containing one
# opens (closes) a hidden-test region, as in ``generate_assignment``.
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

__all__ = ["BEGIN_HIDDEN", "END_HIDDEN", "CheckCallSite", "check_calls_in", "grade_id",
           "hidden_lines", "is_solution", "is_test", "python_only", "remove_hidden_regions",
           "test_cells"]


def grade_id(cell: Any) -> str | None:
    """Return a cell's nbgrader ``grade_id``, or None (also for malformed metadata)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def is_test(cell: Any) -> bool:
    """Return whether a cell is an autograded test cell."""
    return cell.cell_type == "code" and bool(is_grade(cell)) and not is_solution(cell)


def test_cells(nb: Any) -> list:
    """Return the autograded test cells of a notebook, in order."""
    return [cell for cell in nb.cells if is_test(cell)]


def _split_hidden(source: str) -> tuple[list[str], list[str]]:
    """Return (lines outside, lines inside) the hidden-test regions of a source.

    Markers are dropped; a region left open runs to the end of the cell (nbgrader refuses
    such a cell when it generates the release; here nothing of it is ever shown).
    """
    outside: list[str] = []
    inside: list[str] = []
    hidden = False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        else:
            (inside if hidden else outside).append(line)
    return outside, inside


def remove_hidden_regions(source: str) -> str:
    """Return a cell's source without its hidden-test regions (markers included)."""
    return "\n".join(_split_hidden(source)[0])


def hidden_lines(nb: Any) -> list[str]:
    """Return the non-trivial lines (six characters or more, stripped) inside the
    hidden-test regions of a notebook."""
    return [line.strip() for cell in nb.cells for line in _split_hidden(cell.source)[1]
            if len(line.strip()) >= 6]


def python_only(source: str) -> str:
    """Return a cell's source with IPython magics and shell lines (``%``, ``!``) blanked,
    so that it parses and runs as Python with its line numbers kept."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


@dataclass(frozen=True)
class CheckCallSite:
    """One call ``checks.<name>(...)`` in a test cell's source."""

    name: str
    hidden: bool  # called with ``hidden=True``
    arguments: tuple[str, ...]  # the names passed positionally (the student's functions)


def check_calls_in(source: str) -> list[CheckCallSite]:
    """Return the calls of ``checks.<name>(...)`` in a cell's source, in source order."""
    found = []
    for node in ast.walk(ast.parse(python_only(source))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"):
            hidden = False
            for kw in node.keywords:
                if kw.arg == "hidden":
                    hidden = bool(isinstance(kw.value, ast.Constant) and kw.value.value)
            names = tuple(a.id for a in node.args if isinstance(a, ast.Name))
            found.append(((node.lineno, node.col_offset),
                          CheckCallSite(node.func.attr, hidden, names)))
    return [site for _, site in sorted(found, key=lambda f: f[0])]
