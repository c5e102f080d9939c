"""Grade a whole class with nbgrader, in parallel, in a sandbox, judged outside it.

For each student the grader runs nbgrader's own ``Autograde`` converter (so the
gradebook, ``autograded/``, late penalties, ``nbgrader export`` and formgrader work as
usual) with two preprocessors swapped in (:mod:`autograder.preprocessors`): one sends
the notebook to a worker (:mod:`autograder.workers`), which runs it in a sandbox and
judges it (:mod:`autograder.task`); the other scores every test cell from the verdicts.

Before that, each submission is checked and repaired in a staging copy
(:mod:`autograder.staging`), each problem becoming a message for that student.
Gradebook I/O happens in this process only, one student at a time (a lock released
while the sandbox runs), so SQLite and PostgreSQL gradebooks see the same sequence of
writes. Configuration and limits: :mod:`autograder.config`.

A run stopped midway, by Ctrl-C or a lost Dask cluster (:mod:`autograder.cluster`),
raises :class:`GradingStopped`: the students in flight are stopped and leave nothing in
the gradebook, those graded stay, and the same command grades the rest.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from autograder.config import STATE_DIR, GradingError, limits_from_config, open_course
from autograder.course_assignment import CourseAssignment
from autograder.gradebook import one_engine_per_database
from autograder.preprocessors import StudentRun, autograde_preprocessors
from autograder.results import StudentResult, summary_table
from autograder.sandbox.confinement import Limits, check_sandbox
from autograder.selfcheck import self_check
from autograder.staging import stage_submission, submission_hash
from autograder.workers import LocalPool, Runner

__all__ = ["grade", "Grader", "GradingError", "GradingStopped", "StudentResult",
           "summary_table"]

LEFT = "left"  # a student the run stopped before grading (never among the results)


class GradingStopped(Exception):
    """The run stopped before every student was graded: Ctrl-C, or the Dask cluster was
    lost. The students graded are in the gradebook, complete (one whose grading was cut
    short leaves nothing behind); running the same command again grades the others."""

    def __init__(self, why: str, results: list[StudentResult], left: list[str],
                 exit_code: int):
        self.why, self.results, self.left, self.exit_code = why, results, left, exit_code
        graded = sum(r.status == "graded" for r in results)
        super().__init__(
            f"{why}: {graded} student(s) graded and kept in the gradebook, {len(left)} "
            f"left to grade; run the same command again to grade them (students already "
            f"graded are skipped)")


@contextmanager
def _sigint_ignored():
    """No second Ctrl-C while a stopped run cleans up (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _ErrorCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@contextmanager
def _student_log(root: Path, assignment: str, student: str):
    """nbgrader's log of one student, in .autograder/logs/<assignment>/<student>.log.

    Yields (logger, error collector, log path).
    """
    log = logging.getLogger(f"autograder.nbgrader.{assignment}.{student}")
    log.propagate = False
    log.setLevel(logging.INFO)
    for h in log.handlers[:]:
        log.removeHandler(h)
        h.close()
    log_path = root / STATE_DIR / "logs" / assignment / f"{student}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_path, mode="w")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    collector = _ErrorCollector()
    log.addHandler(file_handler)
    log.addHandler(collector)
    try:
        yield log, collector, log_path
    finally:
        file_handler.close()
        log.removeHandler(file_handler)


class Grader:
    """One grading run of one assignment (see :func:`grade`)."""

    def __init__(self, assignment: str, *, root: Path | str | None = None,
                 students: list[str] | None = None, workers: int | None = None,
                 scheduler: str | None = None, db_url: str | None = None,
                 force: bool = False, progress: bool = True,
                 unsafe_no_sandbox: bool = False, judge: Callable | None = None,
                 limits: Limits | None = None, config: Config | None = None):
        # nbgrader runs `alembic` from PATH when it creates or upgrades a gradebook.
        bindir = str(Path(sys.executable).parent)
        if bindir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        opened = open_course(root, config=config, db_url=db_url)
        self.root, self.cfg = opened.root, opened.config
        self.assignment = assignment
        self.workers = workers or len(os.sched_getaffinity(0)) or 1
        self.scheduler = scheduler
        self.force = force
        self.progress = progress
        self.unsafe_no_sandbox = unsafe_no_sandbox
        self.judge = judge
        self.limits = limits or limits_from_config(self.cfg)
        self.lock = threading.Lock()
        self.pool: Any = None  # LocalPool or autograder.cluster.DaskPool, while running
        self.stop_reason: tuple[str, int] | None = None  # (why, exit code) once stopping
        self.notes: list[str] = []  # what the workers had to say about the run
        self.state_dir = self.root / STATE_DIR / "state" / assignment
        self.stage_root = self.root / STATE_DIR / "staging" / assignment
        self.course = CourseAssignment(self.root, assignment, self.cfg, students)

    # -- one student
    def _state_path(self, student: str) -> Path:
        return self.state_dir / f"{student}.json"

    def _up_to_date(self, student: str, digest: str) -> StudentResult | None:
        try:
            state = json.loads(self._state_path(student).read_text())
        except (OSError, ValueError):
            return None
        if state.get("hash") != digest or state.get("status") != "graded":
            return None
        if not self.course.has_submission(student):
            return None
        res = StudentResult(**{k: v for k, v in state["result"].items()})
        res.status = "skipped"
        return res

    def _execute(self, runner: Runner) -> Callable:
        """The function :class:`~autograder.preprocessors.SandboxedExecute` runs a notebook
        with: on a worker, without the gradebook lock (other students' gradebook I/O goes on
        meanwhile), which it takes back before nbgrader continues."""
        def execute(nb, student: str, notebook: str):
            self.lock.release()
            try:
                return runner.run_student(nb, student, notebook)
            finally:
                self.lock.acquire()
                # nbgrader's utils.setenv deletes NBGRADER_EXECUTION when the execution
                # block ends (it never restores a previous value); another student's block
                # may have deleted it meanwhile, so put it back while we hold the lock.
                os.environ["NBGRADER_EXECUTION"] = "autograde"
        return execute

    def grade_student(self, student: str, runner: Runner) -> StudentResult:
        if self.stop_reason:
            return StudentResult(student, LEFT)
        t0 = time.monotonic()
        res = StudentResult(student, "graded")
        digest = None
        with self.lock:
            try:
                digest = self._grade_student_locked(student, runner, res)
            except Exception as e:  # never stop the batch
                res.status = "failed"
                res.messages.append(f"grader error: {type(e).__name__}: {e}")
            res.seconds = time.monotonic() - t0
            if res.status == "graded" and digest:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                self._state_path(student).write_text(json.dumps(
                    {"hash": digest, "status": "graded", "result": asdict(res)}, indent=1))
        return res

    def _grade_student_locked(self, student: str, runner: Runner,
                              res: StudentResult) -> str | None:
        """Grade one student (holding the lock); return the submission hash to record."""
        submitted = self.course.submitted_dir(student)
        digest = submission_hash(submitted)
        if not self.force:
            done = self._up_to_date(student, digest)
            if done is not None:
                res.__dict__.update(asdict(done))
                return None
        stage_sub = self.stage_root / student / student / self.assignment
        msgs, n = stage_submission(submitted, stage_sub, self.course.source_notebooks)
        res.messages.extend(msgs)
        if n == 0:
            self.course.zero_submission(student)
        elif not self._autograde(student, runner, res):
            return None
        res.score, res.max_score = self.course.scores(student)
        return digest

    def _student_config(self, student: str) -> Config:
        cfg = Config()
        cfg.merge(self.cfg)
        cfg.CourseDirectory.submitted_directory = str(self.stage_root / student)
        cfg.CourseDirectory.assignment_id = self.assignment
        cfg.CourseDirectory.student_id = student
        cfg.OverwriteCells.add_missing_cells = False
        return cfg

    def _autograde(self, student: str, runner: Runner, res: StudentResult) -> bool:
        """Run nbgrader's Autograde on the staged submission; False on a machine error."""
        cfg = self._student_config(student)
        run = StudentRun(student)
        execute = self._execute(runner)
        cwd = os.getcwd()
        with _student_log(self.root, self.assignment, student) as (log, collector, log_path):
            converter = Autograde(coursedir=CourseDirectory(config=cfg), config=cfg, log=log)
            converter.autograde_preprocessors = autograde_preprocessors(
                run, lambda nb, notebook: execute(nb, student, notebook), cfg)
            converter.force = True
            try:
                converter.start()
            except Exception as e:
                if run.machine_error:
                    self._machine_error(student, run.machine_error, res)
                    return False
                errors = [line.strip().splitlines()[-1] for line in collector.lines
                          if "Traceback" in line] or [str(e)]
                res.messages.append(
                    f"nbgrader could not autograde this submission ({errors[0]}; "
                    f"log: {log_path.relative_to(self.root)}); it scores zero")
                self.course.zero_submission(student)
            finally:
                os.chdir(cwd)
        self._collect(run, res)
        return True

    def _machine_error(self, student: str, error: str, res: StudentResult) -> None:
        """No notebook result for a reason of the machine: leave nothing half-written, and
        stop the run if the workers are lost."""
        self.course.forget_unscored(student)
        lost = getattr(self.pool, "lost", None)
        if lost and not self.stop_reason:
            self.stop_reason = (lost, 2)
        if self.stop_reason:
            res.status = LEFT
            return
        res.status = "failed"
        res.messages.append(f"grader error: {error}")

    @staticmethod
    def _collect(run: StudentRun, res: StudentResult) -> None:
        """Add the tests and events of the student's notebooks to their result."""
        for nb_id, r in sorted(run.results.items()):
            tests = run.tests.get(nb_id, {})
            res.tests_total += len(tests)
            res.tests_passed += sum(1 for v in tests.values() if v.passed)
            res.messages.extend(f"{nb_id}: {e}" for e in r.events)
            if r.judge_error:
                res.messages.append(f"{nb_id}: judge error: {r.judge_error}")

    # -- the whole class
    def _todo(self) -> tuple[list[StudentResult], list[str]]:
        """Return (results of students unchanged since last graded, students to grade)."""
        results, todo = [], []
        for student in self.course.students:  # unchanged since last graded: skip, start nothing
            done = None if self.force else self._up_to_date(
                student, submission_hash(self.course.submitted_dir(student)))
            if done is not None:
                results.append(done)
            else:
                todo.append(student)
        return results, todo

    def _start_workers(self, n_students: int) -> tuple[Runner, int]:
        """Start the local pool or join the Dask cluster; return (runner, threads)."""
        if self.scheduler:
            from autograder.cluster import DaskPool

            self.pool = DaskPool(self.scheduler, sandbox=not self.unsafe_no_sandbox)
            return self._runner(self.pool.submit), self.pool.nthreads() + 1
        n = min(self.workers, n_students)
        self.pool = LocalPool(n, self.judge is None,
                              max(4096, 2 * self.limits.memory_mb) * 2**20,
                              warm_kernels=not self.unsafe_no_sandbox)
        return self._runner(self.pool.submit), n + 1

    def _runner(self, submit: Callable) -> Runner:
        return Runner(self.course, submit, limits=self.limits,
                      unsafe_no_sandbox=self.unsafe_no_sandbox, judge=self.judge)

    def run(self) -> list[StudentResult]:
        """Grade the class; raise :class:`GradingStopped` if the run stops before the end."""
        if not self.unsafe_no_sandbox:
            check_sandbox()
        results, todo = self._todo()
        results += [StudentResult(student, "refused", messages=[why])
                    for student, why in self.course.refused.items()]
        if todo:
            runner, n_threads = self._start_workers(len(todo))
            try:  # the instructor's solution first: a broken environment grades nobody
                self_check(self.course, runner, todo)
                with one_engine_per_database():
                    results += self._grade_class(todo, runner, n_threads, results)
            except BaseException:
                self.pool.stop()
                raise
            finally:
                self.notes = self.pool.notes()
                self.pool.shutdown()
        return sorted(results, key=lambda r: r.student)

    def _grade_class(self, todo: list[str], runner: Runner, n_threads: int,
                     before: list[StudentResult]) -> list[StudentResult]:
        """A thread per student (as many as the workers take at once); on Ctrl-C or a lost
        cluster, stop the students in flight and raise :class:`GradingStopped`."""
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"grading {self.assignment}", unit="student",
                       file=sys.stderr)
        cwd = os.getcwd()
        threads = ThreadPoolExecutor(min(n_threads, len(todo)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's autoflush chatter
            futures: list = []
            try:
                for student in todo:
                    futures.append(threads.submit(self.grade_student, student, runner))
                for _ in as_completed(futures):
                    if bar is not None:
                        bar.update(1)
                    if self.stop_reason:
                        break
            except KeyboardInterrupt:
                self.stop_reason = self.stop_reason or ("interrupted (Ctrl-C)", 130)
            finally:
                with _sigint_ignored():
                    if self.stop_reason:
                        for f in futures:
                            f.cancel()
                        self.pool.stop()  # the students in flight end as LEFT
                    threads.shutdown(wait=True)
                    os.chdir(cwd)
                    if bar is not None:
                        bar.close()
        done = [r for f in futures if f.done() and not f.cancelled()
                if (r := f.result()).status != LEFT]
        if self.stop_reason:
            graded = {r.student for r in done if r.status == "graded"}
            raise GradingStopped(self.stop_reason[0], sorted(before + done,
                                                             key=lambda r: r.student),
                                 [s for s in todo if s not in graded], self.stop_reason[1])
        return done


def grade(assignment: str, **kwargs: Any) -> list[StudentResult]:
    """Grade ``assignment`` for every submitted student (or ``students=[...]``).

    Keyword arguments are those of :class:`Grader`; ``judge`` replaces
    ``autograder.judge.judge_notebook`` (tests use a stand-in).
    """
    return Grader(assignment, **kwargs).run()
