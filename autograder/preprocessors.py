"""The two nbconvert preprocessors the grader swaps into nbgrader's ``Autograde``, made
for one student at a time (:func:`autograde_preprocessors`), and the :class:`StudentRun`
they fill for the grader.

* :class:`SandboxedExecute` replaces nbgrader's ``Execute``: it ships the sanitized
  notebook to a worker (:mod:`autograder.workers`), which runs it in a sandbox and
  judges the recorded outputs (:func:`autograder.task.run_task`);
* :class:`JudgeScores` runs after ``SaveAutoGrades`` and sets the score of every test cell
  from the judge's verdict, whatever the notebook printed.

And ``SaveAutoGrades`` itself is :class:`SaveAutoGradesAtOnce`: the same rows, written in
one transaction per notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    SaveAutoGrades,
)
from traitlets import Callable as CallableTrait
from traitlets import Instance

from autograder.cells import grade_id
from autograder.results import Verdict
from autograder.task import TaskResult
from autograder.workers import WorkerError

__all__ = ["StudentRun", "SandboxedExecute", "SaveAutoGradesAtOnce", "JudgeScores",
           "autograde_preprocessors"]


@dataclass
class StudentRun:
    """What the grading of one student's notebooks gives back to the grader.

    nbgrader's ``Autograde`` calls the preprocessors once per notebook and returns nothing;
    the two preprocessors below, made for this one student, put here what the grader reads
    when ``Autograde`` is done.
    """

    student: str
    results: dict[str, TaskResult] = field(default_factory=dict)  # notebook -> worker's result
    tests: dict[str, dict[str, Verdict]] = field(default_factory=dict)  # notebook -> cells
    machine_error: str | None = None  # why no notebook could be run, if not the student's


class SandboxedExecute(NbGraderPreprocessor):
    """Execute the notebook in a sandbox on a worker and keep the judge's verdicts."""

    execute = CallableTrait(help="(notebook, notebook id) -> the worker's TaskResult")
    student_run = Instance(StudentRun, help="this student's StudentRun")

    def preprocess(self, nb, resources):
        notebook = resources["nbgrader"]["notebook"]
        try:
            result = self.execute(nb, notebook)
        except WorkerError as e:
            self.student_run.machine_error = str(e)
            raise
        executed = nbformat.reads(result.notebook, as_version=4)
        # Keep our own cells (metadata, sources) and take only what execution produced.
        if len(executed.cells) == len(nb.cells):
            for mine, theirs in zip(nb.cells, executed.cells):
                if mine.cell_type == "code":
                    mine.outputs = theirs.get("outputs", [])
                    mine.execution_count = theirs.get("execution_count")
        self.student_run.results[notebook] = result
        return nb, resources


def _missing_verdict(result: TaskResult) -> Verdict:
    """The verdict of a test cell the judge said nothing about."""
    if result.judge_error:
        return Verdict(False, f"the grader could not judge this notebook: "
                              f"{result.judge_error}")
    return Verdict(False, "this test did not run (no result recorded)")


class SaveAutoGradesAtOnce(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades``, writing a notebook's scores and comments in one
    transaction. nbgrader commits after every grade and solution cell, and each commit
    also expires every row loaded so far, which the next cell reads again: a third of the
    grader's own work for each notebook. The rows written are the same; a notebook whose
    saving fails leaves none of its rows half-written."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        self.gradebook = Gradebook(self.db_url)
        with self.gradebook:
            session = self.gradebook.db
            session.commit = session.flush  # what each cell commits (nbgrader) is flushed
            try:
                nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
            finally:
                del session.commit
            session.commit()
        return nb, resources


class JudgeScores(NbGraderPreprocessor):
    """Score every test cell from the judge's verdict (after ``SaveAutoGrades``)."""

    student_run = Instance(StudentRun, help="this student's StudentRun")

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = self.student_run.results[info["notebook"]]
        default = _missing_verdict(result)
        with Gradebook(info["db_url"]) as gb:
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            solutions = {c.name for c in source_nb.solution_cells}
            tests = {c.name for c in source_nb.grade_cells
                     if c.cell_type == "code" and c.name not in solutions}
            verdicts = {gid: result.verdicts.get(gid, default) for gid in sorted(tests)}
            sub = gb.find_submission_notebook(info["notebook"], info["assignment"],
                                              info["student"])
            for grade in sub.grades:
                if grade.name in verdicts:
                    grade.auto_score = grade.max_score if verdicts[grade.name].passed else 0.0
                    grade.needs_manual_grade = False
            gb.db.commit()
        for cell in nb.cells:
            gid = grade_id(cell)
            if gid in verdicts:
                cell.metadata["autograder"] = verdicts[gid].to_metadata()
        self.student_run.tests[info["notebook"]] = verdicts
        return nb, resources


def autograde_preprocessors(run: StudentRun, execute: Callable, config) -> list:
    """nbgrader's ``Autograde`` preprocessors with ``Execute`` swapped for
    :class:`SandboxedExecute`, ``SaveAutoGrades`` for :class:`SaveAutoGradesAtOnce` and
    :class:`JudgeScores` after it; SandboxedExecute and JudgeScores are made for one
    student (``run``), the others from their configured classes."""
    return [
        SandboxedExecute(execute=execute, student_run=run, config=config),
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGradesAtOnce,
        JudgeScores(student_run=run, config=config),
        AssignLatePenalties,
        CheckCellMetadata,
    ]
