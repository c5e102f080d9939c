"""Run a notebook in a sandboxed Jupyter kernel, with limits and kernel restarts.

The kernel is an ordinary ipykernel driven by nbclient, started by a jupyter_client
``KernelManager`` whose launch command is :meth:`autograder.sandbox.confinement.Sandbox.wrap`: a
fresh interpreter, or (when the grader runs as root, as it does to give each sandbox its
own uid) a warm kernel forked into the sandbox by :mod:`autograder.sandbox.zygote`.
Because the sandbox has no network, the kernel talks to nbclient over ZMQ's ``ipc``
transport (unix sockets in the scratch directory) instead of TCP.

A cell that hangs past its timeout without answering an interrupt, or kills its kernel
(exit, crash, memory limit), loses that kernel: a fresh one re-runs the cells above
(never the test cells) and execution carries on after the lost cell, at most
``Limits.max_restarts`` times. The notebook's own time limit, its output budget and its
disk quota hold across restarts.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import json
import os
import queue
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_output

from autograder.cells import grade_id, is_test
from autograder.sandbox.confinement import Sandbox, SandboxError, disk_usage
from autograder.sandbox.lost_reply import LostReplyMixin
from autograder.sandbox.warm_kernels import Zygote, sandbox_ready, warm_kernels_possible

__all__ = ["SandboxedKernelManager", "execute_notebook"]


class SandboxedKernelClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel answers on both channels.

    jupyter_client's own ``wait_for_ready`` then listens to IOPub until it has been
    quiet for 0.2 s, a wait every fresh kernel pays; here the messages already there
    are dropped and nothing is awaited (nbclient ignores IOPub messages that answer no
    request of its own).
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except queue.Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                try:  # IOPub is connected once the reply's status message arrives
                    await self.iopub_channel.get_msg(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(msg)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while await self.iopub_channel.msg_ready():
            await self.iopub_channel.get_msg(timeout=0)


class SandboxedKernelManager(AsyncKernelManager):
    """A python3 kernel inside a :class:`Sandbox`, reached over ipc sockets.

    A warm kernel (``warm=True``, the default where possible) is forked from the zygote
    into a sandbox bwrap has built around a placeholder process; otherwise bwrap starts a
    fresh interpreter. The sandbox is the same; the warm kernel skips about 0.3 s of CPU.
    """

    def __init__(self, sandbox: Sandbox, warm: bool | None = None, **kwargs: Any):
        super().__init__(kernel_name="python3", transport="ipc",
                         ip=str(sandbox.kernel_dir / "k"), **kwargs)
        self.client_factory = SandboxedKernelClient
        self.connection_file = str(sandbox.kernel_dir / "kernel.json")
        self.sandbox = sandbox
        self.warm = warm_kernels_possible(sandbox) if warm is None else warm

    async def _async_wait(self, pollinterval: float = 0.005) -> None:
        # jupyter_client polls a killed kernel every 0.1 s until it is gone; a kernel
        # killed with SIGKILL is gone within milliseconds.
        await super()._async_wait(pollinterval=pollinterval)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # Signals would reach bwrap, not the kernel: interrupt over the control channel.
        self.kernel_spec.interrupt_mode = "message"
        if self.warm:
            return self.sandbox.wrap(self.sandbox.placeholder())
        return self.sandbox.wrap([sys.executable, "-m", "ipykernel_launcher",
                                  *self._kernel_args()])

    def _kernel_args(self) -> list[str]:
        return ["-f", self.connection_file, "--HistoryManager.hist_file=:memory:",
                f"--IPKernelApp.exec_lines={FREEZE_STARTUP}"]

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        self.sandbox.give(self.connection_file)
        os.chmod(self.connection_file, 0o600)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if not self.sandbox.confined:
            kw["env"] = {**os.environ, **self.sandbox.env}
        kw["cwd"] = str(self.sandbox.work)
        kw["stdout"] = subprocess.DEVNULL
        # The kernel's own stderr (capped by RLIMIT_FSIZE), to diagnose a failed start.
        kw["stderr"] = open(self.sandbox.stderr_log, "ab")
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.warm:
            await self._enter_warm_kernel()

    async def _enter_warm_kernel(self) -> None:
        """Wait until bwrap has built the sandbox, then have the zygote fork the kernel
        into it."""
        bwrap = self.provisioner.process
        sb = self.sandbox
        deadline = time.monotonic() + sb.limits.startup_timeout
        while (target := sandbox_ready(bwrap.pid)) is None:
            if bwrap.poll() is not None:
                raise SandboxError(f"bwrap exited ({bwrap.returncode}) before the sandbox "
                                   f"was built: {_tail(sb.stderr_log)}")
            if time.monotonic() > deadline:
                raise SandboxError("the sandbox was not built in time")
            await asyncio.sleep(0.002)
        Zygote.spawn({
            "bwrap": bwrap.pid, "target": target, "uid": sb.uid,
            "cwd": str(sb.work), "env": {**sb.env, "PWD": str(sb.work)},
            "path": [str(sb.packages)],
            "rlimits": sb.rlimits(), "argv": self._kernel_args(),
            "stderr": str(sb.stderr_log)})


# Run by the kernel once started, before the first cell, binding no name: the objects of
# the kernel's start-up (about 60 000: ipykernel, IPython, numpy) leave the garbage
# collector's generations. A notebook that allocates millions of objects (a5's graphs of
# Values, each in a reference cycle with its rule) otherwise makes every full collection
# walk them again: 0.45 s of a5's 1.45 s of cells (Python's gc.freeze documentation).
FREEZE_STARTUP = "__import__('gc').freeze()"


class _CappedClient(LostReplyMixin, NotebookClient):
    """nbclient's client, keeping at most ``output_limit`` bytes of output in memory; a
    lost ``execute_reply`` costs a second, not the cell's timeout (:class:`LostReplyMixin`)."""

    def __init__(self, nb: Any, *, output_limit: int, **kw: Any):
        super().__init__(nb, **kw)
        self.output_limit = output_limit
        self.output_used = 0
        self.truncated = False

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            _note(cell, "CellTimeoutError",
                  f"cell ran longer than {timeout} s and was interrupted")
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):  # noqa: D102
        content = msg.get("content", {})
        size = len(content["text"]) if "text" in content else len(json.dumps(content))
        if self.output_used + size > self.output_limit:
            if not self.truncated:
                self.truncated = True
                outs.append(new_output(
                    "stream", name="stderr",
                    text=f"\n[autograder: output beyond {self.output_limit} bytes dropped]\n"))
            return None
        self.output_used += size
        return super().output(outs, msg, display_id, cell_index)


def _note(cell: Any, ename: str, text: str) -> None:
    cell.setdefault("outputs", []).append(
        new_output("error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"]))


async def _responsive(client: NotebookClient, timeout: float = 5.0) -> bool:
    kc = client.kc
    msg_id = kc.kernel_info()
    end = time.monotonic() + timeout
    while True:
        try:
            reply = await kc.get_shell_msg(timeout=max(0.05, end - time.monotonic()))
        except (queue.Empty, asyncio.TimeoutError, TimeoutError):
            return False
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return True


def _label(cell: Any, idx: int) -> str:
    gid = grade_id(cell)
    return f"cell {idx} ({gid})" if gid else f"cell {idx}"


def _timed_out(cell: Any) -> bool:
    return any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
               for o in cell.get("outputs", []))


async def _watch_disk(sandbox: Sandbox, km: AsyncKernelManager, tripped: list,
                      every: float = 0.5) -> None:
    """Kill the kernel as soon as the sandbox's scratch directory outgrows its quota.

    RLIMIT_FSIZE caps each file; this caps their sum, so that a notebook writing file
    after file cannot fill the grader's disk.
    """
    cap = sandbox.limits.disk_mb * 2**20
    while True:
        await asyncio.sleep(every)
        if await asyncio.to_thread(disk_usage, sandbox.root, cap) > cap:
            tripped.append(True)
            try:
                await km.shutdown_kernel(now=True)
            except Exception:
                pass
            return


@dataclass
class _Run:
    """The execution of one notebook, across kernel restarts."""

    nb: Any
    sandbox: Sandbox
    code: list[int]  # indices of the code cells
    deadline: float
    pos: int = 0  # position in code of the next cell to run
    restarts: int = 0
    output_used: int = 0
    lost_cells: set = field(default_factory=set)
    events: list[str] = field(default_factory=list)
    lost: tuple[int, str] | None = None  # (cell index, why) when a kernel was lost
    warm: bool | None = None  # warm kernels (None: where possible)

    @property
    def limits(self):
        return self.sandbox.limits

    def note_rest(self, start: int, ename: str, text: str) -> None:
        for j in self.code[start:]:
            _note(self.nb.cells[j], ename, text)


def _client(run: _Run, km: AsyncKernelManager) -> _CappedClient:
    lim = run.limits
    return _CappedClient(
        run.nb, km=km, output_limit=max(0, lim.output_kb * 1024 - run.output_used),
        timeout=lim.cell_timeout, startup_timeout=lim.startup_timeout,
        allow_errors=True, interrupt_on_timeout=True, raise_on_iopub_timeout=False,
        iopub_timeout=4, shutdown_kernel="immediate", record_timing=False,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "", "traceback": []},
    )


async def _replay(run: _Run, client: _CappedClient) -> None:
    """After a restart, re-run the cells above (not the test cells) in scratch copies."""
    for idx in run.code[:run.pos]:
        if idx in run.lost_cells or is_test(run.nb.cells[idx]):
            continue
        scratch = copy.deepcopy(run.nb.cells[idx])
        await asyncio.wait_for(client.async_execute_cell(scratch, idx),
                               run.limits.cell_timeout + 10)


async def _run_cells(run: _Run, client: _CappedClient) -> None:
    """Run the code cells from run.pos on; set run.lost when the kernel is lost."""
    lim = run.limits
    while run.pos < len(run.code):
        idx = run.code[run.pos]
        remaining = run.deadline - time.monotonic()
        if remaining <= 0:
            run.lost = (idx, "NotebookTimeout")
            return
        cell = run.nb.cells[idx]
        try:
            await asyncio.wait_for(client.async_execute_cell(cell, idx),
                                   min(lim.cell_timeout + 15, remaining))
        except asyncio.TimeoutError:
            run.lost = (idx, "CellTimeoutError")
            return
        except Exception as e:  # DeadKernelError and friends
            run.lost = (idx, f"DeadKernel:{type(e).__name__}")
            return
        run.pos += 1
        if _timed_out(cell):
            if not await _responsive(client):
                run.lost = (idx, "Unresponsive")
                run.pos -= 1
                return
            run.events.append(f"{_label(cell, idx)}: CellTimeoutError (interrupted "
                              f"after {lim.cell_timeout} s)")


async def _one_kernel(run: _Run) -> None:
    """Start a kernel, (re)run cells until done or the kernel is lost, shut it down."""
    run.lost = None
    km = SandboxedKernelManager(run.sandbox, warm=run.warm)
    client = _client(run, km)
    tripped: list = []
    watcher = asyncio.create_task(_watch_disk(run.sandbox, km, tripped))
    try:
        async with client.async_setup_kernel(cwd=str(run.sandbox.work)):
            if run.restarts:
                await _replay(run, client)
            await _run_cells(run, client)
    except Exception as e:
        if run.lost is None:
            if run.pos < len(run.code) and (run.restarts or run.pos):
                run.lost = (run.code[run.pos], f"DeadKernel:{type(e).__name__}")
            else:
                raise SandboxError(f"could not start the sandboxed kernel: {e!r}\n"
                                   f"{_tail(run.sandbox.stderr_log)}") from e
    finally:
        watcher.cancel()
        if tripped and run.pos < len(run.code):
            run.lost = (run.code[run.pos], "DiskQuota")
        atexit.unregister(client._cleanup_kernel)
        run.output_used += client.output_used
        try:
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        except Exception:
            pass
        # nbclient stops only the channels of a kernel manager it made (zmq context leak)
        if client.kc is not None:
            client.kc.stop_channels()
            client.kc = None


def _recover(run: _Run) -> bool:
    """Note why the kernel was lost; return whether to carry on with a fresh kernel."""
    lim = run.limits
    idx, why = run.lost
    cell = run.nb.cells[idx]
    if why == "DiskQuota":
        _note(cell, "DiskQuotaError", f"the notebook wrote more than "
              f"{lim.disk_mb} MB to disk; it was stopped here")
        run.note_rest(run.pos + 1, "NotRun", "not run: the notebook exceeded its disk quota")
        run.events.append(f"{_label(cell, idx)}: DiskQuota (over {lim.disk_mb} MB)")
        return False
    if why == "NotebookTimeout":
        run.note_rest(run.pos, "NotebookTimeout",
                      f"not run: the notebook exceeded its {lim.notebook_timeout} s time limit")
        run.events.append(f"notebook time limit reached at {_label(cell, idx)}")
        return False
    if why in ("CellTimeoutError", "Unresponsive"):
        text = (f"cell ran longer than {lim.cell_timeout} s and did not stop when "
                "interrupted; the kernel was restarted and the cells above re-run")
        _note(cell, "CellTimeoutError" if not _timed_out(cell) else "KernelRestarted", text)
    else:
        text = ("the kernel died while running this cell (exit, crash or memory limit); "
                "the kernel was restarted and the cells above re-run")
        _note(cell, "DeadKernelError", text)
    run.events.append(f"{_label(cell, idx)}: {why}")
    run.lost_cells.add(idx)
    run.pos = run.code.index(idx) + 1
    run.restarts += 1
    if run.restarts > lim.max_restarts:
        run.note_rest(run.pos, "NotRun", "not run: the kernel was lost too many times")
        run.events.append("gave up after too many kernel restarts")
        return False
    return True


async def _execute(nb: Any, sandbox: Sandbox, warm: bool | None = None) -> list[str]:
    """Execute every code cell of ``nb`` in place; return what went wrong, for the log."""
    run = _Run(nb, sandbox, code=[i for i, c in enumerate(nb.cells) if c.cell_type == "code"],
               deadline=time.monotonic() + sandbox.limits.notebook_timeout, warm=warm)
    while run.pos < len(run.code):
        await _one_kernel(run)
        if run.lost is None or not _recover(run):
            break
    return run.events


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_bytes()[-n:].decode(errors="replace")
    except OSError:
        return ""


def execute_notebook(nb: Any, sandbox: Sandbox, warm: bool | None = None) -> list[str]:
    """Synchronous wrapper of the sandboxed execution (own event loop); ``warm`` chooses
    warm or fresh kernels (None: warm where possible)."""
    return asyncio.run(_execute(nb, sandbox, warm))
