"""Grade tables that a spreadsheet opens without running anything.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheet programs as a formula, so a student id or a name from an LMS such as
``=HYPERLINK("http://...")`` would run when the instructor opens the grades. Every CSV the
course writes goes through :func:`spreadsheet_safe`, which puts an apostrophe before such
a text (numbers, negative ones included, are left as numbers), and is written by Python's
``csv`` module, so a comma or a line break inside a name stays inside its cell.

:class:`CsvExport` is ``nbgrader export``'s CSV plugin with both properties (nbgrader's
own joins the fields with commas as they are); ``nbgrader_config.py`` selects it with
``c.ExportApp.plugin_class``.
"""

from __future__ import annotations

import csv
import re

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import CsvExportPlugin

__all__ = ["spreadsheet_safe", "write_rows", "CsvExport"]

FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_safe(value) -> str:
    """``value`` as a CSV cell that a spreadsheet shows as text, never as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA) and not NUMBER.match(text):
        return "'" + text
    return text


def write_rows(path, header: list[str], rows) -> None:
    """Write a CSV table whose every cell has gone through :func:`spreadsheet_safe`."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([spreadsheet_safe(h) for h in header])
        for row in rows:
            writer.writerow([spreadsheet_safe(v) for v in row])


KEYS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
        "email", "raw_score", "late_submission_penalty", "score", "max_score"]


def _row(gradebook: Gradebook, assignment, student) -> list:
    try:
        sub = gradebook.find_submission(assignment.name, student.id)
    except MissingEntry:
        timestamp, raw, penalty = "", 0.0, 0.0
    else:
        timestamp, raw, penalty = sub.timestamp, sub.score, sub.late_submission_penalty
    return [assignment.name, assignment.duedate, timestamp, student.id, student.last_name,
            student.first_name, student.email, raw, penalty, max(0.0, raw - penalty),
            assignment.max_score]


class CsvExport(CsvExportPlugin):
    """``nbgrader export`` to CSV: the columns of nbgrader's own plugin, each cell quoted as
    CSV needs and safe to open in a spreadsheet."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        students = {str(s) for s in self.student}
        assignments = {str(a) for a in self.assignment}
        self.log.info("Exporting grades to %s", dest)
        rows = [_row(gradebook, a, s)
                for a in gradebook.assignments if not assignments or a.name in assignments
                for s in gradebook.students if not students or s.id in students]
        write_rows(dest, KEYS, rows)
