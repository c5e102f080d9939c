"""A Dask cluster as the grader's workers (``grade --scheduler tcp://host:8786``).

:class:`DaskPool` connects to a running ``dask scheduler`` and checks every worker
before any student is sent to it (:func:`worker_problem`, run on each worker with
``client.run``): bubblewrap, prlimit and setpriv work there, and it imports the
packages the grader needs, with ``course`` and ``autograder`` the same as this
process's (a hash of their source files). Students go only to the workers that passed;
a worker that joins later (a nanny's restart, an autoscaler) is checked when it
appears. While the class is graded the pool watches the cluster:

* a worker dies: Dask sends the students it held to other workers; each student still
  gets one result, written to the gradebook once, by the grader's own process, and
  :meth:`DaskPool.notes` names the worker and the students sent elsewhere (from the
  scheduler's ``remove-worker`` events);
* the scheduler goes away, or no worker that passed the check is left for
  :data:`GRACE` seconds: every waiting student raises :class:`WorkersLost`, and the
  grader stops the run (students already graded stay graded).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import sys
import threading
import time
import uuid
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Callable

from autograder.config import GradingError
from autograder.sandbox.confinement import PACKAGES, SandboxError, check_sandbox
from autograder.workers import WorkersLost

__all__ = ["DaskPool", "worker_problem", "packages_fingerprint"]

CONNECT_TIMEOUT = "10s"  # to reach the scheduler (Dask's Client also retries within it)
POLL = 1.0  # seconds between looks at the cluster while a student waits
GRACE = 30.0  # seconds without any worker that passed the check before the run stops
FIRST_WORKER = 30.0  # seconds to wait at start for a first worker to connect
NEEDED = ("autograder.judge", "ipykernel", "nbclient")  # imported by the worker or its kernel


def packages_fingerprint() -> dict[str, str | None]:
    """{package: sha256 of its ``.py`` files (paths and bytes), or None if not importable}
    for ``course`` and ``autograder``, as this process would import them."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            out[name] = None
            continue
        h = hashlib.sha256()
        for root in map(Path, spec.submodule_search_locations):
            for p in sorted(root.rglob("*.py")):
                h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
        out[name] = h.hexdigest()
    return out


def worker_problem(expected: dict[str, str | None], sandbox: bool = True) -> str | None:
    """Why this process (a Dask worker) cannot grade for a grader whose packages have the
    fingerprint ``expected``; None if it can. Run on every worker by :class:`DaskPool`."""
    mine = packages_fingerprint()
    for name in PACKAGES:
        if mine.get(name) is None:
            return f"it cannot import the `{name}` package"
        if mine[name] != expected.get(name):
            return (f"its `{name}` package differs from the grader's (another version of "
                    "the course): install the grader's version on this worker")
    for module in NEEDED:
        try:
            importlib.import_module(module)
        except Exception as e:
            return f"it cannot import {module} ({type(e).__name__}: {e})"
    if sandbox:
        try:
            check_sandbox()
        except SandboxError as e:
            return f"no sandbox: {e}"
    return None


def _to_stderr(line: str) -> None:
    print(f"autograder: {line}", file=sys.stderr, flush=True)


class _Handle:
    """What :meth:`DaskPool.submit` returns: ``result()`` waits for the student's
    notebook, sending it again if every worker it was allowed is gone."""

    def __init__(self, pool: "DaskPool", fn: Callable, task, student: str | None):
        self.pool, self.fn, self.task, self.student = pool, fn, task, student
        self.future, self.workers = pool._submit(fn, task, student)

    def result(self):
        return self.pool._wait(self)


class DaskPool:
    """The workers of a Dask cluster that passed the grader's check (see the module)."""

    def __init__(self, address: str, *, sandbox: bool = True,
                 notify: Callable[[str], None] = _to_stderr):
        from distributed import Client

        self.address, self.sandbox, self.notify = address, sandbox, notify
        try:
            self.client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise GradingError(
                f"cannot reach the Dask scheduler at {address} ({e}); no student was graded "
                "and nothing was written. Start the scheduler (`dask scheduler`) or check "
                "the address given to --scheduler.") from None
        self.expected = packages_fingerprint()
        self.good: set[str] = set()
        self.refused: dict[str, str] = {}
        self.labels: dict[str, str] = {}  # task key -> student
        self.departures: list[tuple[str, bool, set]] = []  # (worker, expected, its keys)
        self.lost: str | None = None
        self._seen: set[str] = set()
        self._alive: set[str] = set()
        self._lock = threading.Lock()
        self._last_look = 0.0
        self._none_since: float | None = None
        try:
            self.client.subscribe_topic("all", self._event)
            self._admit(self._first_workers())
            if not self.good:
                raise GradingError(
                    f"no worker of the Dask cluster at {address} can grade, so no student "
                    "was graded:\n  " + "\n  ".join(self.notes()))
        except BaseException:
            self.shutdown()
            raise

    # -- workers
    def _first_workers(self) -> set[str]:
        try:
            self.client.wait_for_workers(1, timeout=FIRST_WORKER)
        except TimeoutError:
            raise GradingError(f"no worker is connected to the Dask scheduler at "
                               f"{self.address} (waited {FIRST_WORKER:g} s); start "
                               "`dask worker` processes first") from None
        return set(self.client.nthreads())

    def _admit(self, addresses: set[str]) -> None:
        """Check the workers not seen before; keep those that pass."""
        new = sorted(set(addresses) - self._seen)
        if not new:
            return
        self._seen.update(new)
        answers = self.client.run(worker_problem, self.expected, self.sandbox, workers=new,
                                  on_error="return")
        for addr in new:
            answer = answers.get(addr, "it left before answering the check")
            if isinstance(answer, BaseException):
                answer = (f"it cannot run the grader's check ({type(answer).__name__}: "
                          f"{answer})")
            if answer:
                self.refused[addr] = answer
                self.notify(f"worker {addr} refused, no student is sent to it: {answer}")
            else:
                self.good.add(addr)

    def nthreads(self) -> int:
        """Threads of the workers that passed the check."""
        threads = self.client.nthreads()
        return sum(n for addr, n in threads.items() if addr in self.good)

    # -- submitting and waiting
    def submit(self, fn: Callable, task, student: str | None = None) -> _Handle:
        """Send one notebook (of ``student``, or the instructor's) to a worker that passed."""
        return _Handle(self, fn, task, student)

    def _submit(self, fn: Callable, task, student: str | None):
        if self.lost:
            raise WorkersLost(self.lost)
        workers = sorted(self.good)
        key = f"autograder-{student or 'source'}-{task.notebook_id}-{uuid.uuid4().hex}"
        if student:
            self.labels[key] = student
        future = self.client.submit(fn, task, key=key, workers=workers,
                                    allow_other_workers=False, pure=False)
        return future, set(workers)

    def _wait(self, handle: _Handle):
        while True:
            try:
                return handle.future.result(timeout=POLL)
            except TimeoutError:
                self._watch(handle)
            except CancelledError as e:
                if getattr(e, "reason", "") == "scheduler-connection-lost" or (
                        self.client.status not in ("running", "closing", "closed")):
                    self._lose(f"lost the connection to the Dask scheduler at {self.address}")
                if self.lost:
                    raise WorkersLost(self.lost) from None
                raise

    def _watch(self, handle: _Handle) -> None:
        """While a student waits: look at the cluster (once per POLL for all threads);
        send the student again if every worker it was allowed has gone."""
        with self._lock:
            if time.monotonic() - self._last_look >= POLL:
                self._last_look = time.monotonic()
                self._look()
            if self.lost:
                raise WorkersLost(self.lost)
            if not handle.workers & self._alive and self.good & self._alive:
                self.client.cancel([handle.future])
                handle.future, handle.workers = self._submit(handle.fn, handle.task,
                                                             handle.student)

    def _look(self) -> None:
        try:
            if self.client.status == "running":
                self._alive = set(self.client.nthreads())
                self._admit(self._alive)
        except Exception:  # the scheduler went away meanwhile; or ask again next time
            pass
        if self.client.status != "running":
            self._lose(f"lost the connection to the Dask scheduler at {self.address}")
            return
        if self.good & self._alive:
            self._none_since = None
            return
        self._none_since = self._none_since or time.monotonic()
        if time.monotonic() - self._none_since > GRACE:
            self._lose(f"no worker that passed the grader's check has been connected to the "
                       f"Dask scheduler at {self.address} for {GRACE:g} s")

    def _lose(self, why: str) -> None:
        if self.lost is None:
            self.lost = why

    def _event(self, event) -> None:
        """The scheduler's events (topic "all"): keep each worker's departure."""
        _, msg = event
        if isinstance(msg, dict) and msg.get("action") == "remove-worker":
            keys = set(msg.get("processing-tasks", ())) | set(msg.get("lost-computed-tasks", ()))
            self.departures.append((msg.get("worker", "?"), bool(msg.get("expected")), keys))

    # -- the end
    def notes(self) -> list[str]:
        """What the summary says about the cluster: refused workers, workers lost."""
        out = [f"worker {a} refused: {why}" for a, why in sorted(self.refused.items())]
        for worker, expected, keys in self.departures:
            students = sorted({self.labels[k] for k in keys if k in self.labels})
            if students:
                out.append(f"worker {worker} {'left' if expected else 'died'}; "
                           f"{len(students)} student(s) regraded on other workers: "
                           + ", ".join(students))
        return out

    def stop(self) -> None:
        """Stop every student now (the run is interrupted): their tasks are cancelled."""
        self._lose("the run was stopped")
        self.shutdown()

    def shutdown(self) -> None:
        # Closing a client that lost its scheduler cancels its reconnection, which Dask
        # logs with a traceback: the grader has said what happened.
        quiet = logging.getLogger("distributed.client")
        level = quiet.level
        if self.lost:
            quiet.setLevel(logging.CRITICAL)
        try:
            self.client.close(timeout=5)
        except Exception:
            pass
        finally:
            quiet.setLevel(level)
