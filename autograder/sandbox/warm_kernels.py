"""Warm kernels, the grader's side: the zygote process of :mod:`autograder.sandbox.zygote`, and
how to tell that bwrap has built a sandbox for a warm kernel to enter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from autograder.sandbox.confinement import KERNEL_ENV, Sandbox, SandboxError

__all__ = ["Zygote", "sandbox_ready", "warm_kernels_possible"]


class Zygote:
    """This process's zygote of warm kernels (:mod:`autograder.sandbox.zygote`), started on first
    use and again if it has died; it ends when this process does (its stdin closes)."""

    _lock = threading.Lock()
    _proc: subprocess.Popen | None = None
    _ready = False

    @classmethod
    def _launch(cls) -> None:
        if cls._proc is None or cls._proc.poll() is not None:
            cls._proc = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).with_name("zygote.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **KERNEL_ENV})
            cls._ready = False

    @classmethod
    def start(cls) -> None:
        """Start the zygote now (it imports while this process does other work)."""
        with cls._lock:
            cls._launch()

    @classmethod
    def spawn(cls, request: dict) -> int:
        """Fork a kernel as ``request`` says; return the pid of the zygote's child."""
        with cls._lock:
            for _ in range(2):
                cls._launch()
                proc = cls._proc
                try:
                    if not cls._ready:
                        cls._ready = proc.stdout.readline() == "ready\n"
                    if cls._ready:
                        proc.stdin.write(json.dumps(request) + "\n")
                        proc.stdin.flush()
                        return int(proc.stdout.readline())
                except (OSError, ValueError):
                    pass
                proc.kill()
                proc.wait()
        raise SandboxError("the zygote of warm kernels did not start")


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
