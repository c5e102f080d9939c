"""Before grading anyone, the grader grades the instructor's solution.

The instructor's notebooks in ``source/`` (solutions and hidden tests) run on the same
workers, in the same sandbox and through the same judge as the students' notebooks, with
the visible seed and the seeds of the first students to be graded. Unless they earn every
autograded point, the run stops with an error naming each failing test cell and its
message, before anything is written to the gradebook: a grading environment that cannot
grade its own solution (a kernel importing another ``autograder``, a missing package, a
check that rejects the reference) would otherwise give every student zero in silence.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import nbformat

from autograder.cells import grade_id, is_test, test_cells
from autograder.checks.framework import VISIBLE_SEED
from autograder.config import GradingError
from autograder.seeds import student_seed
from autograder.task import GradingTask, TaskResult, run_task

if TYPE_CHECKING:
    from autograder.workers import GradingRun, Runner

__all__ = ["STUDENT_SEEDS", "self_check"]

STUDENT_SEEDS = 2  # students whose seeds the instructor's solution is also graded with


def _tasks(grader: "GradingRun", students: list[str]) -> list[GradingTask]:
    seeds = [VISIBLE_SEED] + [student_seed(s, grader.assignment)
                              for s in students[:STUDENT_SEEDS]]
    return [GradingTask(notebook=text, notebook_id=nb_id, source_notebook=text, seed=seed,
                        limits=grader.limits, unsafe_no_sandbox=grader.unsafe_no_sandbox)
            for nb_id, text in sorted(grader.source_notebooks_text.items())
            for seed in dict.fromkeys(seeds)]


def _errors(notebook: str, where: str) -> list[str]:
    """The first error a cell other than a test cell raised (a missing module, say)."""
    nb = nbformat.reads(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_test(cell):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return [f"{where}: code cell {i + 1} raised {out.get('ename')}: "
                        f"{out.get('evalue')}"]
    return []


def _failures(grader: "GradingRun", task: GradingTask, result: TaskResult | Exception) -> list[str]:
    where = f"{task.notebook_id}.ipynb with seed {task.seed}"
    if isinstance(result, Exception):
        return [f"{where}: the worker failed: {type(result).__name__}: {result}"]
    if result.judge_error:
        return [f"{where}: the judge failed: {result.judge_error}"]
    out = _errors(result.notebook, where)
    for cell in test_cells(grader.source_notebooks[task.notebook_id]):
        gid = grade_id(cell)
        verdict = result.verdicts.get(gid)
        if verdict is None or not verdict.passed:
            why = verdict.message if verdict else "no verdict"
            out.append(f"{where}: {gid}: {why}")
    return out


def self_check(grader: "GradingRun", runner: "Runner", students: list[str]) -> None:
    """Grade the instructor's solution like a student's; raise GradingError unless it
    earns every autograded point. The judge is always the real one."""
    tasks = _tasks(grader, students)

    def run(task: GradingTask) -> TaskResult | Exception:
        try:
            return runner.submit(run_task, task).result()
        except Exception as e:  # reported with the rest
            return e

    with ThreadPoolExecutor(len(tasks)) as pool:
        results = list(pool.map(run, tasks))
    failures = [f for task, r in zip(tasks, results) for f in _failures(grader, task, r)]
    if failures:
        raise GradingError(
            f"the instructor's solution (source/{grader.assignment}/) does not earn every "
            "autograded point in the grading sandbox, so no student was graded and nothing "
            "was written to the gradebook:\n  " + "\n  ".join(failures[:12])
            + (f"\n  ... and {len(failures) - 12} more" if len(failures) > 12 else "")
            + "\nCheck the grading environment: the packages the kernel imports, the "
            "system packages of ci/provision.sh, and the test cells of source/.")
