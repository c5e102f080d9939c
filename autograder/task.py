"""The worker's task: one notebook of one student, run in a sandbox and judged.

:class:`GradingTask` and :class:`TaskResult` hold plain data (Dask pickles them to and
from its workers). :func:`run_task` executes the notebook in a sandbox, copies the
records the checks wrote (regular files only, never following links), and calls the
judge in this trusted process, which never runs student code.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from autograder.results import Verdict
from autograder.sandbox.confinement import (
    NO_SANDBOX_MESSAGE,
    Limits,
    Sandbox,
    SandboxError,
    bwrap_path,
    uid_slot,
)
from autograder.sandbox.kernel import execute_notebook

__all__ = ["GradingTask", "TaskResult", "run_task", "copy_records"]


@dataclass(frozen=True)
class GradingTask:
    """What a worker needs to grade one notebook of one student."""

    notebook: str  # the sanitized notebook, JSON text
    notebook_id: str
    source_notebook: str  # the instructor's source notebook, JSON text
    seed: int
    limits: Limits = field(default_factory=Limits)
    files: dict[str, bytes] = field(default_factory=dict)  # the submission's other files
    unsafe_no_sandbox: bool = False
    judge: Callable | None = None  # None: autograder.judge.judge_notebook


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: the executed notebook and the verdicts."""

    notebook: str  # the executed notebook, JSON text
    verdicts: dict[str, Verdict]  # test cell grade id -> verdict
    events: list[str]
    judge_error: str | None
    seconds: float


def copy_records(src: Path, dest: Path, max_bytes: int) -> None:
    """Copy the regular files under ``src`` to ``dest`` without following any link."""
    dest.mkdir(parents=True, exist_ok=True)
    budget = max_bytes
    stack = [(src, dest)]
    while stack:
        s, d = stack.pop()
        try:
            entries = list(os.scandir(s))
        except OSError:
            continue
        for e in entries:
            if e.is_symlink():
                continue
            if e.is_dir(follow_symlinks=False):
                (d / e.name).mkdir(exist_ok=True)
                stack.append((Path(e.path), d / e.name))
            elif e.is_file(follow_symlinks=False):
                data = _read_no_follow(e.path, budget)
                if data is None:
                    continue
                if len(data) > budget:
                    return
                budget -= len(data)
                (d / e.name).write_bytes(data)


def _read_no_follow(path: str, budget: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read(budget + 1)


def _load_judge(spec: Callable | None) -> Callable:
    if callable(spec):
        return spec
    from autograder.judge import judge_notebook

    return judge_notebook


def _judge(task: GradingTask, trusted: Path, records: Path):
    """Return (verdicts, judge_error) of the records, judged in this process."""
    source = trusted / "source" / f"{task.notebook_id}.ipynb"
    source.parent.mkdir(parents=True)
    source.write_text(task.source_notebook)
    try:
        judge = _load_judge(task.judge)
        return {gid: Verdict.of(v) for gid, v in
                judge(source, records, task.seed).items()}, None
    except Exception as e:  # a broken judge must not stop the batch
        return {}, f"{type(e).__name__}: {e}"


def run_task(task: GradingTask) -> TaskResult:
    """Execute one notebook of one student in a sandbox and judge it (the grader's unit)."""
    started = time.monotonic()
    confined = not task.unsafe_no_sandbox
    if confined and bwrap_path() is None:
        raise SandboxError(NO_SANDBOX_MESSAGE)
    nb = nbformat.reads(task.notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
        tmp = Path(tmp)
        with uid_slot() if confined else nullcontext(None) as uid:
            sandbox = Sandbox(tmp / "sandbox", uid=uid, limits=task.limits, confined=confined,
                              env={"AUTOGRADER_SEED": str(task.seed)})
            sandbox.add_files(task.files)
            events = execute_notebook(nb, sandbox)
        records = tmp / "trusted" / "record"
        copy_records(sandbox.record, records, task.limits.record_mb * 2**20)
        verdicts, judge_error = _judge(task, tmp / "trusted", records)
    return TaskResult(notebook=nbformat.writes(nb), verdicts=verdicts, events=events,
                      judge_error=judge_error, seconds=time.monotonic() - started)
