"""One assignment of a course directory: its gradebook, source notebooks and submissions.

:class:`CourseAssignment` checks them when it is created (a missing gradebook, an
unknown assignment or student stops the run with a :class:`GradingError` saying what to
do) and does the gradebook writes the grader needs besides nbgrader's own.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning, SQLAlchemyError
from traitlets.config import Config

from autograder.config import GradingError, safe_url
from autograder.sanitize import student_id_problem

__all__ = ["CourseAssignment"]


class CourseAssignment:
    """An assignment of a course directory, checked on creation."""

    def __init__(self, root: Path, assignment: str, cfg: Config,
                 students: list[str] | None = None):
        self.root = root
        self.assignment = assignment
        self.coursedir = CourseDirectory(config=cfg)
        self.db_url = self.coursedir.db_url
        self._check_gradebook()
        self.notebook_names = self._notebook_names()
        self._read_sources()
        self.students = self._find_students(students)

    def _check_gradebook(self) -> None:
        if self.db_url.startswith("sqlite:///"):
            path = Path(self.db_url[len("sqlite:///"):])
            if not path.is_absolute():
                path = self.root / path
            if not path.is_file():
                raise GradingError(
                    f"no gradebook at {path}: run `nbgrader generate_assignment "
                    f"{self.assignment}` in {self.root} first (or pass --db)")

    def _notebook_names(self) -> list[str]:
        try:
            with Gradebook(self.db_url, self.coursedir.course_id) as gb:
                try:
                    assignment = gb.find_assignment(self.assignment)
                except MissingEntry:
                    known = ", ".join(sorted(a.name for a in gb.assignments)) or "none"
                    raise GradingError(
                        f"unknown assignment '{self.assignment}' (the gradebook knows: "
                        f"{known}); run `nbgrader generate_assignment {self.assignment}` "
                        "first") from None
                return [nb.name for nb in assignment.notebooks]
        except (SQLAlchemyError, ImportError, ValueError) as e:
            raise GradingError(f"cannot open the gradebook {safe_url(self.db_url)}: "
                               f"{str(e).splitlines()[0]}") from None

    def _read_sources(self) -> None:
        source_dir = self.source_dir
        self.source_notebooks_text = {}
        self.source_notebooks = {}
        for name in self.notebook_names:
            path = source_dir / f"{name}.ipynb"
            if not path.is_file():
                raise GradingError(f"source notebook {path} is missing")
            self.source_notebooks_text[name] = path.read_text()
            self.source_notebooks[name] = nbformat.reads(self.source_notebooks_text[name], 4)

    def _find_students(self, students: list[str] | None) -> list[str]:
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, "*",
                                                    self.assignment)).parent.parent
        found = sorted(p.name for p in submitted.glob("*")
                       if (p / self.assignment).is_dir()) if submitted.is_dir() else []
        # folders whose name is not a plain id are refused, never graded nor recorded
        self.refused = {s: why for s in found if (why := student_id_problem(s))}
        found = [s for s in found if s not in self.refused]
        if students:
            bad = [s for s in students if student_id_problem(s)]
            if bad:
                raise GradingError("; ".join(student_id_problem(s) for s in bad))
            unknown = [s for s in students if s not in found]
            if unknown:
                raise GradingError(
                    f"no submission of '{self.assignment}' for student(s) "
                    f"{', '.join(unknown)} under {submitted}")
            found, self.refused = list(students), {}
        if not found:
            raise GradingError(f"no submissions of '{self.assignment}' under {submitted}"
                               + "".join(f"; {why}" for why in self.refused.values()))
        return found

    @property
    def source_dir(self) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.source_directory, ".",
                                               self.assignment))

    def autograded_dir(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student,
                                               self.assignment))

    def submitted_dir(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                               self.assignment))

    def has_submission(self, student: str) -> bool:
        """Return whether the gradebook holds a submission of this student."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                gb.find_submission(self.assignment, student)
            except MissingEntry:
                return False
        return True

    def zero_submission(self, student: str) -> None:
        """Record a submission scoring zero (no notebook could be graded)."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's autoflush chatter
            gb.update_or_create_student(student)
            ts = self.coursedir.get_existing_timestamp(str(self.submitted_dir(student)))
            kw = {"timestamp": ts} if ts else {}
            sub = gb.update_or_create_submission(self.assignment, student, **kw)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
            gb.db.commit()
        out = self.autograded_dir(student)
        if out.exists():
            shutil.rmtree(out)

    def forget_unscored(self, student: str) -> bool:
        """Remove the student's submission from the gradebook if no cell of it has a score:
        what nbgrader leaves when a notebook could not be run (a machine's failure, a
        stopped run). A submission graded before (by the grader or by hand) is kept."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                sub = gb.find_submission(self.assignment, student)
            except MissingEntry:
                return False
            if any(g.auto_score is not None or g.manual_score is not None
                   for nb in sub.notebooks for g in nb.grades):
                return False
            gb.remove_submission(self.assignment, student)
        return True

    def scores(self, student: str) -> tuple[float, float]:
        """Return (score, max score) of a student's submission in the gradebook."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            sub = gb.find_submission(self.assignment, student)
            return float(sub.score), float(sub.max_score)
