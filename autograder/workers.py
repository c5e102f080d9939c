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
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import nbformat

from autograder.course_assignment import CourseAssignment
from autograder.sandbox.confinement import Limits, SandboxError, own_uids
from autograder.seeds import student_seed
from autograder.task import GradingTask, TaskResult, run_task

__all__ = ["Runner", "WorkerError", "WorkersLost", "LocalPool"]

FILES_BUDGET = 64 * 2**20  # bytes of a submission's other files sent with its notebook


class WorkerError(Exception):
    """A notebook could not be run or judged for a reason that is not the student's: the
    sandbox is missing, a worker died or could not be reached."""


class WorkersLost(WorkerError):
    """The workers can no longer grade anyone (the Dask scheduler went away, no worker
    that passed the grader's check is left, or the run was stopped): the run stops."""


class Runner:
    """Sends one notebook at a time to the workers and returns what they send back.

    Every notebook takes this one path: a student's, through nbgrader's ``Autograde``
    (:class:`autograder.preprocessors.SandboxedExecute`), and the instructor's solution in
    the self-check (:mod:`autograder.selfcheck`). Shared by the student threads of a run;
    it holds no per-student state.
    """

    def __init__(self, course: CourseAssignment, submit: Callable, *, limits: Limits,
                 unsafe_no_sandbox: bool = False, judge: Callable | None = None):
        self.course = course
        self.submit = submit  # (function, task, student) -> an object whose result() waits
        self.limits = limits
        self.unsafe_no_sandbox = unsafe_no_sandbox
        self.judge = judge  # None: autograder.judge.judge_notebook

    @staticmethod
    def _files(work: Path | None) -> dict[str, bytes]:
        files, budget = {}, FILES_BUDGET
        for p in sorted(work.rglob("*")) if work is not None and work.is_dir() else []:
            if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb":
                data = p.read_bytes()
                budget -= len(data)
                if budget < 0:
                    break
                files[str(p.relative_to(work))] = data
        return files

    def task(self, nb, notebook: str, *, seed: int, work: Path | None,
             real_judge: bool = False) -> GradingTask:
        """Return the task of one notebook: run with ``seed`` beside the other files of the
        folder ``work``, judged by the run's judge (the real one if ``real_judge``)."""
        return GradingTask(
            notebook=nbformat.writes(nb), notebook_id=notebook,
            source_notebook=self.course.source_notebooks_text[notebook],
            files=self._files(work), seed=seed, limits=self.limits,
            unsafe_no_sandbox=self.unsafe_no_sandbox,
            judge=None if real_judge else self.judge)

    def run(self, nb, notebook: str, *, seed: int, work: Path | None,
            real_judge: bool = False, student: str | None = None) -> TaskResult:
        """Run and judge one notebook (of ``student``, or the instructor's) on a worker;
        raise :class:`WorkerError` if that fails for a reason of the machine."""
        task = self.task(nb, notebook, seed=seed, work=work, real_judge=real_judge)
        try:
            return self.submit(run_task, task, student).result()
        except WorkerError:
            raise
        except SandboxError as e:
            raise WorkerError(str(e)) from None
        except Exception as e:
            raise WorkerError(f"worker failed: {type(e).__name__}: {e}") from None

    def run_student(self, nb, student: str, notebook: str) -> TaskResult:
        """Run and judge one notebook of a student (nbgrader has copied the submission's
        other files to its autograded folder)."""
        return self.run(nb, notebook, seed=student_seed(student, self.course.assignment),
                        work=self.course.autograded_dir(student), student=student)


class LocalPool:
    """A process pool of trusted workers on this machine, renewed if a worker dies.

    Each worker's address space is capped, so that a record crafted to make the judge
    allocate without bound raises MemoryError (that student's judge error) instead of
    taking the machine or the pool down. If a worker dies anyway, the student it was
    grading fails with a message and the next ones get a fresh pool. The workers ignore
    Ctrl-C (a terminal sends SIGINT to them too): the grader decides what stops
    (:meth:`stop`).
    """

    def __init__(self, n: int, import_judge: bool, address_space: int,
                 warm_kernels: bool = False):
        self.n, self.import_judge, self.address_space = n, import_judge, address_space
        self.warm_kernels = warm_kernels  # each worker starts its zygote of warm kernels
        self.lock = threading.Lock()
        self.closed = False
        self.lost = None  # a local pool is never lost: a dead worker is replaced
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

    def submit(self, fn: Callable, task: GradingTask, student: str | None = None):
        pool = self.pool
        outer = self

        class _Result:
            def result(self_inner):
                try:
                    return pool.submit(_in_thread, fn, task).result()
                except BrokenProcessPool:
                    with outer.lock:
                        if outer.pool is pool and not outer.closed:
                            pool.shutdown(wait=False, cancel_futures=True)
                            outer.pool = outer._start()
                    raise RuntimeError("the grading worker died while running or judging "
                                       "this submission") from None

        return _Result()

    def notes(self) -> list[str]:
        return []

    def stop(self) -> None:
        """Stop every student now (the run is interrupted): kill the workers, and with
        them the sandboxes they run (bwrap dies with its parent)."""
        with self.lock:
            self.closed = True
            pool = self.pool
        if hasattr(pool, "kill_workers"):  # Python 3.14
            pool.kill_workers()
        else:  # its table of processes, which shutdown() empties
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        self.closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)


def _in_thread(fn: Callable, task: GradingTask):
    """Run ``fn(task)`` in a thread of this worker, not in its main thread, as a Dask worker
    does: nbclient then sets no signal handler of its own (it would take Ctrl-C as an order
    to shut the student's kernel down, and restore Python's default handler after), so
    SIGINT stays ignored here and never cuts a notebook short."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(fn, task).result()


def _end_with_grader(grader: int, every: float = 0.5) -> None:
    """A worker's watch: once the grader's process is gone (killed, not stopped through
    :meth:`LocalPool.stop`), the worker exits too instead of waiting for work forever, and
    its sandboxes end with it (bwrap dies with its parent)."""
    while os.getppid() == grader:
        time.sleep(every)
    os._exit(1)


def _limit_worker(address_space: int) -> None:
    import resource
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_grader, args=(os.getppid(),), daemon=True,
                     name="end-with-grader").start()

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
