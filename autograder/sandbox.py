"""Run one student's notebook in a sandboxed Jupyter kernel.

The kernel is an ordinary ipykernel driven by nbclient, started by a jupyter_client
``KernelManager`` whose launch command is wrapped in:

* ``bwrap`` (bubblewrap): a private mount namespace that sees only the system
  directories, the Python environment, the ``course`` and ``autograder`` packages
  (read-only) and one scratch directory; no network (``--unshare-net``), own PID
  namespace (every process the student spawns dies with the sandbox);
* ``prlimit`` (util-linux): address space, processes, file size, open files, CPU time;
* ``setpriv`` (util-linux): an unprivileged uid/gid, one per concurrent sandbox on the
  machine (``RLIMIT_NPROC`` counts per uid and is not enforced for root).

Because the network is unshared, the kernel talks to nbclient over ZMQ's ``ipc``
transport (unix sockets in the scratch directory) instead of TCP.

:func:`run_task` is the unit of work of the grader: it executes the notebook, copies the
records the checks wrote (regular files only, never following links), and calls the
judge in this trusted process, which never runs student code.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import fcntl
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_output

from autograder.cells import grade_id, is_test

UID_BASE = 61000
N_SLOTS = 128
SLOT_DIR = Path(os.environ.get("AUTOGRADER_SLOT_DIR", "/run/autograder-slots"))

NO_SANDBOX_MESSAGE = (
    "bubblewrap (bwrap) is not available, and the grader runs student code only inside "
    "a sandbox. Install it (`apt-get install bubblewrap util-linux`, see ci/provision.sh) "
    "or pass --unsafe-no-sandbox to run student code unconfined (only for code you trust)."
)


class SandboxError(RuntimeError):
    """The sandbox cannot be set up (a problem of the machine, not of a submission)."""


@dataclass
class Limits:
    """Resource limits of one sandboxed kernel."""

    cell_timeout: int = 30  # seconds of wall time per cell
    notebook_timeout: int = 600  # seconds of wall time for the whole notebook
    memory_mb: int = 2048  # RLIMIT_AS of the kernel
    nproc: int = 64  # RLIMIT_NPROC (processes + threads of the sandbox uid)
    file_size_mb: int = 64  # RLIMIT_FSIZE
    tmp_mb: int = 64  # size of the private /tmp
    disk_mb: int = 256  # what the notebook may write into its scratch directory
    output_kb: int = 2048  # captured output of the whole notebook
    record_mb: int = 64  # records read back from the kernel
    max_restarts: int = 3  # fresh kernels after a cell killed or hung the kernel
    startup_timeout: int = 60


def bwrap_path() -> str | None:
    """Path of the bubblewrap binary, or None."""
    return shutil.which("bwrap")


def check_sandbox() -> None:
    """Raise :class:`SandboxError` unless bwrap, prlimit and setpriv work here."""
    missing = [t for t in ("bwrap", "prlimit", "setpriv") if shutil.which(t) is None]
    if missing:
        raise SandboxError(f"missing {', '.join(missing)}. " + NO_SANDBOX_MESSAGE)
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--proc", "/proc",
         "--dev", "/dev", "true"],
        capture_output=True, text=True,
    )
    if probe.returncode != 0:
        raise SandboxError(
            f"bwrap is installed but cannot create a sandbox here ({probe.stderr.strip()}). "
            + NO_SANDBOX_MESSAGE
        )


@contextmanager
def uid_slot():
    """Reserve an unprivileged uid for one sandbox on this machine (flock on a slot file).

    Yields None when not running as root (then the sandbox keeps the caller's uid).
    """
    if os.geteuid() != 0:
        yield None
        return
    SLOT_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i in range(N_SLOTS):
        fd = os.open(SLOT_DIR / f"{i}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield UID_BASE + i
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    raise SandboxError(f"all {N_SLOTS} sandbox uid slots are busy")


def _package_dirs() -> list[str]:
    dirs = []
    for name in ("course", "autograder"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs.extend(str(Path(p).resolve()) for p in spec.submodule_search_locations
                        if os.path.isdir(p))
    return dirs


class Sandbox:
    """A scratch directory and the command line that confines a kernel to it."""

    def __init__(self, root: Path, *, uid: int | None, limits: Limits, env: dict[str, str],
                 confined: bool = True):
        self.root = root
        self.uid = uid
        self.limits = limits
        self.confined = confined
        self.work = root / "work"
        self.home = root / "home"
        self.record = root / "record"
        self.kernel_dir = root / "kernel"
        self.stderr_log = root.parent / "kernel-stderr.log"
        for d in (self.work, self.home, self.record, self.kernel_dir):
            d.mkdir(parents=True, exist_ok=True)
            self.give(d)
        os.chmod(root, 0o755)
        self.env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": "student",
            "LOGNAME": "student",
            "LANG": "C.UTF-8",
            "IPYTHONDIR": str(self.home / ".ipython"),
            "MPLCONFIGDIR": str(self.home / ".mpl"),
            "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NBGRADER_EXECUTION": "autograde",
            "AUTOGRADER_RECORD_DIR": str(self.record),
            **env,
        }

    def give(self, path: Path | str) -> None:
        """Hand a file or directory over to the sandbox uid."""
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    def add_files(self, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            dest = (self.work / rel).resolve()
            if not dest.is_relative_to(self.work):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            self.give(dest)
            for parent in dest.relative_to(self.work).parents:
                self.give(self.work / parent)

    def wrap(self, inner: list[str]) -> list[str]:
        """The full command line running ``inner`` inside the sandbox."""
        lim = self.limits
        rlimits = [
            shutil.which("prlimit") or "prlimit",
            f"--as={lim.memory_mb * 2**20}",
            f"--nproc={lim.nproc}",
            f"--fsize={lim.file_size_mb * 2**20}",
            "--nofile=512",
            "--core=0",
            f"--cpu={lim.notebook_timeout + 30}",
            "--",
        ]
        if not self.confined:
            return (rlimits if shutil.which("prlimit") else []) + inner
        cmd = [
            bwrap_path() or "bwrap", "--die-with-parent", "--new-session",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "sandbox",
        ]
        if self.uid is None:
            cmd.append("--unshare-user")
        for p in ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin", "/etc"):
            cmd += ["--ro-bind-try", p, p]
        ro = {sys.base_prefix, sys.prefix, str(Path(sys.executable).resolve().parent.parent)}
        ro.update(_package_dirs())
        made: set[str] = {"/", "/usr", "/etc", "/tmp"}

        def parents(path: str) -> list[str]:
            # bwrap creates missing mount points 0700: make them traversable first.
            out = []
            for a in reversed(Path(path).parents):
                if str(a) not in made:
                    made.add(str(a))
                    out += ["--perms", "0755", "--dir", str(a)]
            return out

        cmd += ["--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(lim.tmp_mb * 2**20), "--tmpfs", "/tmp"]
        for p in sorted(ro):
            if p and not p.startswith("/usr/"):
                cmd += parents(p) + ["--ro-bind", p, p]
                made.add(p)
        cmd += parents(str(self.root)) + ["--bind", str(self.root), str(self.root),
                                          "--chdir", str(self.work), "--clearenv"]
        for k, v in self.env.items():
            cmd += ["--setenv", k, v]
        cmd += ["--"] + rlimits
        if self.uid is not None:
            cmd += [shutil.which("setpriv") or "setpriv", f"--reuid={self.uid}",
                    f"--regid={self.uid}", "--clear-groups", "--inh-caps=-all",
                    "--bounding-set=-all", "--no-new-privs", "--"]
        return cmd + inner


class SandboxedKernelManager(AsyncKernelManager):
    """A python3 kernel launched inside a :class:`Sandbox`, reached over ipc sockets."""

    def __init__(self, sandbox: Sandbox, **kwargs: Any):
        super().__init__(kernel_name="python3", transport="ipc",
                         ip=str(sandbox.kernel_dir / "k"), **kwargs)
        self.connection_file = str(sandbox.kernel_dir / "kernel.json")
        self.sandbox = sandbox

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # Signals would reach bwrap, not the kernel: interrupt over the control channel.
        self.kernel_spec.interrupt_mode = "message"
        inner = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file,
                 "--HistoryManager.hist_file=:memory:"]
        return self.sandbox.wrap(inner)

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


class _CappedClient(NotebookClient):
    """nbclient's client, keeping at most ``output_limit`` bytes of output in memory."""

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


def disk_usage(root: Path, cap: int, max_entries: int = 20000) -> int:
    """Return the bytes of disk used under root (no links followed), stopping past cap.

    A tree of more than max_entries files counts as over the cap, so that a flood of
    empty files cannot make the walk itself slow.
    """
    total, entries, stack = 0, 0, [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    if entries > max_entries:
                        return cap + 1
                    st = entry.stat(follow_symlinks=False)
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    if total > cap:
                        return total
        except OSError:
            continue
    return total


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


async def _execute(nb: Any, sandbox: Sandbox) -> list[str]:
    """Execute every code cell of ``nb`` in place; return what went wrong, for the log."""
    lim = sandbox.limits
    events: list[str] = []
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    deadline = time.monotonic() + lim.notebook_timeout
    pos, restarts, lost_cells = 0, 0, set()
    output_used = 0
    while pos < len(code):
        km = SandboxedKernelManager(sandbox)
        client = _CappedClient(
            nb, km=km, output_limit=max(0, lim.output_kb * 1024 - output_used),
            timeout=lim.cell_timeout, startup_timeout=lim.startup_timeout,
            allow_errors=True, interrupt_on_timeout=True, raise_on_iopub_timeout=False,
            iopub_timeout=4, shutdown_kernel="immediate", record_timing=False,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": "", "traceback": []},
        )
        lost: tuple[int, str] | None = None
        tripped: list = []
        watcher = asyncio.create_task(_watch_disk(sandbox, km, tripped))
        try:
            async with client.async_setup_kernel(cwd=str(sandbox.work)):
                if restarts:
                    for idx in code[:pos]:
                        if idx in lost_cells or is_test(nb.cells[idx]):
                            continue
                        scratch = copy.deepcopy(nb.cells[idx])
                        await asyncio.wait_for(client.async_execute_cell(scratch, idx),
                                               lim.cell_timeout + 10)
                while pos < len(code):
                    idx = code[pos]
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        lost = (idx, "NotebookTimeout")
                        break
                    cell = nb.cells[idx]
                    try:
                        await asyncio.wait_for(client.async_execute_cell(cell, idx),
                                               min(lim.cell_timeout + 15, remaining))
                    except asyncio.TimeoutError:
                        lost = (idx, "CellTimeoutError")
                        break
                    except Exception as e:  # DeadKernelError and friends
                        lost = (idx, f"DeadKernel:{type(e).__name__}")
                        break
                    pos += 1
                    if _timed_out(cell):
                        if not await _responsive(client):
                            lost = (idx, "Unresponsive")
                            pos -= 1
                            break
                        events.append(f"{_label(cell, idx)}: CellTimeoutError (interrupted "
                                      f"after {lim.cell_timeout} s)")
        except Exception as e:
            if lost is None:
                if pos < len(code) and (restarts or pos):
                    lost = (code[pos], f"DeadKernel:{type(e).__name__}")
                else:
                    raise SandboxError(f"could not start the sandboxed kernel: {e!r}\n"
                                       f"{_tail(sandbox.stderr_log)}") from e
        finally:
            watcher.cancel()
            if tripped and pos < len(code):
                lost = (code[pos], "DiskQuota")
            atexit.unregister(client._cleanup_kernel)
            output_used += client.output_used
            try:
                if km.has_kernel:
                    await km.shutdown_kernel(now=True)
            except Exception:
                pass
        if lost is None:
            break
        idx, why = lost
        cell = nb.cells[idx]
        if why == "DiskQuota":
            _note(cell, "DiskQuotaError", f"the notebook wrote more than "
                  f"{lim.disk_mb} MB to disk; it was stopped here")
            for j in code[pos + 1:]:
                _note(nb.cells[j], "NotRun", "not run: the notebook exceeded its disk quota")
            events.append(f"{_label(cell, idx)}: DiskQuota (over {lim.disk_mb} MB)")
            break
        if why == "NotebookTimeout":
            text = f"not run: the notebook exceeded its {lim.notebook_timeout} s time limit"
            for j in code[pos:]:
                _note(nb.cells[j], "NotebookTimeout", text)
            events.append(f"notebook time limit reached at {_label(cell, idx)}")
            break
        if why in ("CellTimeoutError", "Unresponsive"):
            text = (f"cell ran longer than {lim.cell_timeout} s and did not stop when "
                    "interrupted; the kernel was restarted and the cells above re-run")
            _note(cell, "CellTimeoutError" if not _timed_out(cell) else "KernelRestarted", text)
        else:
            text = ("the kernel died while running this cell (exit, crash or memory limit); "
                    "the kernel was restarted and the cells above re-run")
            _note(cell, "DeadKernelError", text)
        events.append(f"{_label(cell, idx)}: {why}")
        lost_cells.add(idx)
        pos = code.index(idx) + 1
        restarts += 1
        if restarts > lim.max_restarts:
            for j in code[pos:]:
                _note(nb.cells[j], "NotRun", "not run: the kernel was lost too many times")
            events.append("gave up after too many kernel restarts")
            break
    return events


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_bytes()[-n:].decode(errors="replace")
    except OSError:
        return ""


def execute_notebook(nb: Any, sandbox: Sandbox) -> list[str]:
    """Synchronous wrapper of the sandboxed execution (own event loop)."""
    return asyncio.run(_execute(nb, sandbox))


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
                try:
                    fd = os.open(e.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                except OSError:
                    continue
                with os.fdopen(fd, "rb") as fh:
                    data = fh.read(budget + 1)
                if len(data) > budget:
                    return
                budget -= len(data)
                (d / e.name).write_bytes(data)


def _load_judge(spec: Callable | None) -> Callable:
    if callable(spec):
        return spec
    from autograder.judge import judge_notebook

    return judge_notebook


def run_task(task: dict) -> dict:
    """Execute one notebook of one student in a sandbox and judge it (the grader's unit).

    ``task`` holds only plain data so it can travel to a Dask worker: the sanitized
    notebook (JSON text), the other files of the submission, the source notebook, the
    seed, the limits, whether to confine, and optionally a judge callable.
    """
    started = time.monotonic()
    limits = Limits(**task.get("limits", {}))
    confined = not task.get("unsafe_no_sandbox", False)
    if confined and bwrap_path() is None:
        raise SandboxError(NO_SANDBOX_MESSAGE)
    nb = nbformat.reads(task["notebook"], as_version=4)
    judge = _load_judge(task.get("judge"))
    with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
        tmp = Path(tmp)
        with uid_slot() if confined else nullcontext(None) as uid:
            sandbox = Sandbox(tmp / "sandbox", uid=uid, limits=limits, confined=confined,
                              env={"AUTOGRADER_SEED": str(task["seed"])})
            sandbox.add_files(task.get("files", {}))
            events = execute_notebook(nb, sandbox)
        records = tmp / "trusted" / "record"
        copy_records(sandbox.record, records, limits.record_mb * 2**20)
        source = tmp / "trusted" / "source" / f"{task['notebook_id']}.ipynb"
        source.parent.mkdir(parents=True)
        source.write_text(task["source_notebook"])
        judge_error = None
        try:
            verdicts = {gid: _plain(v) for gid, v in
                        judge(source, records, task["seed"]).items()}
        except Exception as e:  # a broken judge must not stop the batch
            verdicts = {}
            judge_error = f"{type(e).__name__}: {e}"
    return {
        "notebook": nbformat.writes(nb),
        "verdicts": verdicts,
        "events": events,
        "judge_error": judge_error,
        "seconds": time.monotonic() - started,
    }


def _plain(v: Any) -> dict:
    if isinstance(v, dict):
        d = v
    elif hasattr(v, "__dataclass_fields__"):
        d = asdict(v)
    else:
        d = {"passed": getattr(v, "passed"), "message": getattr(v, "message", "")}
    return {"passed": bool(d["passed"]), "message": str(d.get("message") or "")}
