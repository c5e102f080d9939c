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
from autograder.task import TaskResult
from autograder.workers import WorkerError, WorkersLost

if TYPE_CHECKING:
    from autograder.course_assignment import CourseAssignment
    from autograder.workers import Runner

__all__ = ["STUDENT_SEEDS", "self_check"]

STUDENT_SEEDS = 2  # students whose seeds the instructor's solution is also graded with


def _runs(course: "CourseAssignment", students: list[str]) -> list[tuple[str, int]]:
    """(notebook, seed) of every run: the visible seed and those of the first students."""
    seeds = [VISIBLE_SEED] + [student_seed(s, course.assignment)
                              for s in students[:STUDENT_SEEDS]]
    return [(nb_id, seed) for nb_id in sorted(course.source_notebooks)
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


def _failures(course: "CourseAssignment", nb_id: str, seed: int,
              result: TaskResult | WorkerError) -> list[str]:
    where = f"{nb_id}.ipynb with seed {seed}"
    if isinstance(result, WorkerError):
        return [f"{where}: {result}"]
    if result.judge_error:
        return [f"{where}: the judge failed: {result.judge_error}"]
    out = _errors(result.notebook, where)
    for cell in test_cells(course.source_notebooks[nb_id]):
        gid = grade_id(cell)
        verdict = result.verdicts.get(gid)
        if verdict is None or not verdict.passed:
            why = verdict.message if verdict else "no verdict"
            out.append(f"{where}: {gid}: {why}")
    return out


def self_check(course: "CourseAssignment", runner: "Runner", students: list[str]) -> None:
    """Grade the instructor's solution like a student's, through :meth:`Runner.run` (the
    source folder's other files beside it); raise GradingError unless it earns every
    autograded point. The judge is always the real one."""
    runs = _runs(course, students)

    def run(nb_id: str, seed: int) -> TaskResult | WorkerError:
        try:
            return runner.run(course.source_notebooks[nb_id], nb_id, seed=seed,
                              work=course.source_dir, real_judge=True)
        except WorkerError as e:  # reported with the rest
            return e

    pool = ThreadPoolExecutor(len(runs))
    try:
        results = list(pool.map(lambda r: run(*r), runs))
    finally:  # on Ctrl-C, return at once: the grader stops the workers these wait for
        pool.shutdown(wait=False, cancel_futures=True)
    lost = [r for r in results if isinstance(r, WorkersLost)]
    if lost:
        raise GradingError(f"{lost[0]}; no student was graded")
    failures = [f for (nb_id, seed), r in zip(runs, results)
                for f in _failures(course, nb_id, seed, r)]
    if failures:
        raise GradingError(
            f"the instructor's solution (source/{course.assignment}/) does not earn every "
            "autograded point in the grading sandbox, so no student was graded and nothing "
            "was written to the gradebook:\n  " + "\n  ".join(failures[:12])
            + (f"\n  ... and {len(failures) - 12} more" if len(failures) > 12 else "")
            + "\nCheck the grading environment: the packages the kernel imports, the "
            "system packages of ci/provision.sh, and the test cells of source/.")
