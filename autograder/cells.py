"""The nbgrader questions the grader asks about a cell, on ``nbgrader.utils``.

An autograded test cell is a code cell marked ``grade`` and not ``solution`` (a cell
marked both is an answer cell that nbgrader also scores, and is never replaced).
"""

from __future__ import annotations

from typing import Any

from nbgrader.utils import is_grade, is_solution

__all__ = ["grade_id", "is_test", "test_cells", "is_solution"]


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
