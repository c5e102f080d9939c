"""Warm kernels, the grader's side: the zygote process of :mod:`autograder.sandbox.zygote`, and
how to tell that bwrap has built a sandbox for a warm kernel to enter.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder.sandbox.confinement import KERNEL_ENV, Sandbox, SandboxError

__all__ = ["Zygote", "sandbox_ready", "warm_kernels_possible"]


class Zygote:
    """This process's zygote of warm kernels (:mod:`autograder.sandbox.zygote`), started on first
    use and again if it has died or stopped answering; it ends when this process does (its
    stdin closes)."""

    READY_TIMEOUT = 60.0  # seconds for its imports (numpy, ipykernel, debugpy), under load
    ANSWER_TIMEOUT = 10.0  # seconds to fork a child and say its pid

    _lock = threading.Lock()
    _proc: subprocess.Popen | None = None
    _ready = False
    _buffer = b""

    @classmethod
    def _launch(cls) -> None:
        if cls._proc is None or cls._proc.poll() is not None:
            cls._proc = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).with_name("zygote.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **KERNEL_ENV})
            cls._ready = False
            cls._buffer = b""

    @classmethod
    def _readline(cls, timeout: float) -> str:
        """The zygote's next line; TimeoutError if it says nothing for ``timeout`` s."""
        deadline = time.monotonic() + timeout
        out = cls._proc.stdout
        while b"\n" not in cls._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise TimeoutError(f"no answer in {timeout:g} s")
            chunk = os.read(out.fileno(), 4096)
            if not chunk:
                raise EOFError("the zygote exited")
            cls._buffer += chunk
        line, _, cls._buffer = cls._buffer.partition(b"\n")
        return line.decode()

    @classmethod
    def start(cls) -> None:
        """Start the zygote now (it imports while this process does other work)."""
        with cls._lock:
            cls._launch()

    @classmethod
    def spawn(cls, request: dict) -> int:
        """Fork a kernel as ``request`` says; return the pid of the zygote's child.

        A zygote that is not ready in time is killed and started again, once. One that
        took the request and gives no pid in time is killed and the start fails: its child
        may have entered the sandbox already, so the request is not sent twice."""
        why = "it did not start"
        with cls._lock:
            for _ in range(2):
                cls._launch()
                proc = cls._proc
                sent = False
                try:
                    if not cls._ready:
                        cls._ready = cls._readline(cls.READY_TIMEOUT) == "ready"
                    if cls._ready:
                        proc.stdin.write((json.dumps(request) + "\n").encode())
                        sent = True
                        return int(cls._readline(cls.ANSWER_TIMEOUT))
                except (OSError, ValueError, EOFError) as e:  # TimeoutError is an OSError
                    why = str(e) or type(e).__name__
                proc.kill()
                proc.wait()
                if sent:
                    break
        raise SandboxError(f"the zygote of warm kernels failed: {why}")


def warm_kernels_possible(sandbox: Sandbox) -> bool:
    """Warm kernels need a confined sandbox with a uid of its own (see ``own_uids``)."""
    return sandbox.confined and sandbox.uid is not None


def _child(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
    except OSError:
        return None
    return int(kids[0]) if kids else None


def sandbox_ready(bwrap_pid: int) -> int | None:
    """The pid of the sandbox's first process (seen from here) once bwrap has built the
    sandbox and runs the placeholder in it; None before."""
    init = _child(bwrap_pid)
    command = _child(init) if init else None
    try:
        with open(f"/proc/{command}/comm") as f:
            ready = command is not None and f.read().strip() == Sandbox.PLACEHOLDER
    except OSError:
        return None
    return init if ready else None
