"""The two nbconvert preprocessors the grader swaps into nbgrader's ``Autograde``.

* :class:`SandboxedExecute` replaces nbgrader's ``Execute``: it ships the sanitized
  notebook to a worker (:mod:`autograder.workers`), which runs it in a sandbox and
  judges the recorded outputs (:func:`autograder.task.run_task`);
* :class:`JudgeScores` runs after ``SaveAutoGrades`` and sets the score of every test cell
  from the judge's verdict, whatever the notebook printed.
"""

from __future__ import annotations

from dataclasses import asdict

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
from traitlets import Unicode

from autograder.cells import grade_id
from autograder.task import TaskResult, TestVerdict
from autograder.workers import RUNNERS, Runner

__all__ = ["SandboxedExecute", "JudgeScores", "AUTOGRADE_PREPROCESSORS"]


class _WithRunner(NbGraderPreprocessor):
    runner_id = Unicode("", help="key of this run's Runner in RUNNERS").tag(config=True)

    @property
    def runner(self) -> Runner:
        return RUNNERS[self.runner_id]


class SandboxedExecute(_WithRunner):
    """Execute the notebook in a sandbox on a worker and keep the judge's verdicts."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = self.runner.run(nb, info["student"], info["assignment"], info["notebook"])
        executed = nbformat.reads(result.notebook, as_version=4)
        # Keep our own cells (metadata, sources) and take only what execution produced.
        if len(executed.cells) == len(nb.cells):
            for mine, theirs in zip(nb.cells, executed.cells):
                if mine.cell_type == "code":
                    mine.outputs = theirs.get("outputs", [])
                    mine.execution_count = theirs.get("execution_count")
        resources.setdefault("autograder", {})[info["notebook"]] = result
        self.runner.local.results[info["notebook"]] = result
        return nb, resources


def _missing_verdict(result: TaskResult) -> TestVerdict:
    """The verdict of a test cell the judge said nothing about."""
    if result.judge_error:
        return TestVerdict(False, f"the grader could not judge this notebook: "
                                  f"{result.judge_error}")
    return TestVerdict(False, "this test did not run (no result recorded)")


class JudgeScores(_WithRunner):
    """Score every test cell from the judge's verdict (after ``SaveAutoGrades``)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result: TaskResult = resources["autograder"][info["notebook"]]
        default = _missing_verdict(result)
        with Gradebook(info["db_url"]) as gb:
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            solutions = {c.name for c in source_nb.solution_cells}
            tests = {c.name for c in source_nb.grade_cells
                     if c.cell_type == "code" and c.name not in solutions}
            sub = gb.find_submission_notebook(info["notebook"], info["assignment"],
                                              info["student"])
            for grade in sub.grades:
                if grade.name in tests:
                    v = result.verdicts.get(grade.name, default)
                    grade.auto_score = grade.max_score if v.passed else 0.0
                    grade.needs_manual_grade = False
            gb.db.commit()
        for cell in nb.cells:
            gid = grade_id(cell)
            if gid in tests:
                cell.metadata["autograder"] = asdict(result.verdicts.get(gid, default))
        self.runner.local.tests[info["notebook"]] = {
            gid: result.verdicts.get(gid, default) for gid in sorted(tests)}
        return nb, resources


AUTOGRADE_PREPROCESSORS = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    JudgeScores,
    AssignLatePenalties,
    CheckCellMetadata,
]
