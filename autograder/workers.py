"""Workers: where the grader sends each notebook to be run and judged.

A :class:`Runner` turns a notebook of one student into a :class:`~autograder.task.GradingTask`
and submits it to a local pool of trusted worker processes (:class:`LocalPool`) or to
a Dask cluster; either runs :func:`autograder.task.run_task` and sends back a
:class:`~autograder.task.TaskResult`.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Protocol

import nbformat

from autograder.sandbox.confinement import Limits, SandboxError, own_uids
from autograder.seeds import student_seed
from autograder.task import GradingTask, TaskResult, run_task

__all__ = ["RUNNERS", "GradingRun", "Runner", "LocalPool"]

FILES_BUDGET = 64 * 2**20  # bytes of a submission's other files sent with its notebook

RUNNERS: dict[str, "Runner"] = {}


class GradingRun(Protocol):
    """What a :class:`Runner` and the self-check read of one grading run
    (:class:`autograder.grade.Grader`, which imports this module, not the reverse)."""

    assignment: str
    coursedir: Any  # nbgrader's CourseDirectory
    source_notebooks: dict[str, Any]  # notebook id -> the instructor's source notebook
    source_notebooks_text: dict[str, str]
    limits: Limits
    unsafe_no_sandbox: bool
    judge: Callable | None
    lock: threading.Lock


class Runner:
    """Sends notebooks to the workers; shared by the student threads of one run.

    nbgrader calls :meth:`run` (through ``SandboxedExecute``) while the grader holds its
    gradebook lock; the lock is released while the worker runs, so that other students'
    gradebook I/O can go on, and taken back before nbgrader continues.
    """

    def __init__(self, grader: GradingRun, submit: Callable):
        self.grader = grader
        self.submit = submit
        self.local = threading.local()
        self.key = f"runner-{id(self)}"
        RUNNERS[self.key] = self

    def start_student(self) -> None:
        """Reset this thread's results before nbgrader grades a student."""
        self.local.machine_error = None
        self.local.results = {}
        self.local.tests = {}

    def close(self) -> None:
        RUNNERS.pop(self.key, None)

    def _files(self, work: Path) -> dict[str, bytes]:
        files, budget = {}, FILES_BUDGET
        for p in sorted(work.rglob("*")) if work.is_dir() else []:
            if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb":
                data = p.read_bytes()
                budget -= len(data)
                if budget < 0:
                    break
                files[str(p.relative_to(work))] = data
        return files

    def task(self, nb, student: str, assignment: str, notebook: str) -> GradingTask:
        """Return the task of one notebook of one student."""
        g = self.grader
        work = Path(g.coursedir.format_path(g.coursedir.autograded_directory, student,
                                            assignment))
        return GradingTask(
            notebook=nbformat.writes(nb), notebook_id=notebook,
            source_notebook=g.source_notebooks_text[notebook], files=self._files(work),
            seed=student_seed(student, assignment), limits=g.limits,
            unsafe_no_sandbox=g.unsafe_no_sandbox, judge=g.judge)

    def run(self, nb, student: str, assignment: str, notebook: str) -> TaskResult:
        task = self.task(nb, student, assignment, notebook)
        lock = self.grader.lock
        lock.release()
        try:
            return self.submit(run_task, task).result()
        except SandboxError as e:
            self.local.machine_error = str(e)
            raise
        except Exception as e:
            self.local.machine_error = f"worker failed: {type(e).__name__}: {e}"
            raise
        finally:
            lock.acquire()
            # nbgrader's utils.setenv deletes NBGRADER_EXECUTION when the execution block
            # ends (it never restores a previous value); another student's block may have
            # deleted it meanwhile, so put it back while we hold the lock.
            os.environ["NBGRADER_EXECUTION"] = "autograde"


class LocalPool:
    """A process pool of trusted workers on this machine, renewed if a worker dies.

    Each worker's address space is capped, so that a record crafted to make the judge
    allocate without bound raises MemoryError (that student's judge error) instead of
    taking the machine or the pool down. If a worker dies anyway, the student it was
    grading fails with a message and the next ones get a fresh pool.
    """

    def __init__(self, n: int, import_judge: bool, address_space: int,
                 warm_kernels: bool = False):
        self.n, self.import_judge, self.address_space = n, import_judge, address_space
        self.warm_kernels = warm_kernels  # each worker starts its zygote of warm kernels
        self.lock = threading.Lock()
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        """Start every worker now, from this thread and directory (nbgrader's converters
        chdir later).

        While this process has no other thread (the first pool of a run), the workers
        are forked from it after it has imported the sandbox and the judge, and start in
        milliseconds; a pool renewed later, with the students' threads running, is
        spawned, and its workers import them anew.
        """
        forked = threading.active_count() == 1
        if forked:
            _warm_up(self.import_judge)
        pool = ProcessPoolExecutor(self.n, mp_context=get_context("fork" if forked else "spawn"),
                                   initializer=_limit_worker, initargs=(self.address_space,))
        pause = 0.0 if forked else 0.2  # a fork pool starts every worker at once
        for f in [pool.submit(_warm_up, self.import_judge, pause, self.warm_kernels)
                  for _ in range(self.n)]:
            f.result()
        return pool

    def submit(self, fn: Callable, task: GradingTask):
        pool = self.pool
        outer = self

        class _Result:
            def result(self_inner):
                try:
                    return pool.submit(fn, task).result()
                except BrokenProcessPool:
                    with outer.lock:
                        if outer.pool is pool:
                            pool.shutdown(wait=False, cancel_futures=True)
                            outer.pool = outer._start()
                    raise RuntimeError("the grading worker died while running or judging "
                                       "this submission") from None

        return _Result()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _limit_worker(address_space: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > address_space:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def _warm_up(import_judge: bool, pause: float = 0.0, warm_kernels: bool = False) -> None:
    # pause: keep a spawned worker busy, so that the next warm-up starts another one
    time.sleep(pause)
    if warm_kernels and own_uids():  # the sandboxes will be able to take warm kernels
        from autograder.sandbox.warm_kernels import Zygote

        Zygote.start()
    if import_judge:
        try:
            import autograder.judge  # noqa: F401
        except ImportError:
            pass
