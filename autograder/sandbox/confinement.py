"""Confinement: the sandbox a student's kernel runs in, and its limits.

:class:`Sandbox` holds a scratch directory and wraps the kernel's command line
(:mod:`autograder.sandbox.kernel` starts the kernel) in:

* ``bwrap`` (bubblewrap): a private mount namespace that sees only the system
  directories, the Python environment, the ``course`` and ``autograder`` packages
  (read-only) and one scratch directory; no network (``--unshare-net``), own PID
  namespace (every process the student spawns dies with the sandbox);
* ``prlimit`` (util-linux): address space, processes, file size, open files, CPU time;
* ``setpriv`` (util-linux): an unprivileged uid/gid, one per concurrent sandbox on the
  machine (``RLIMIT_NPROC`` counts per uid and is not enforced for root).

:class:`Limits` lists every limit; ``Autograder.<limit>`` in ``nbgrader_config.py`` sets
one (:class:`autograder.config.Autograder`). The notebook's disk use is capped by
:func:`disk_usage`, polled while the kernel runs.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from autograder.sandbox.forbidden import BLOCKED_MODULE, FORBIDDEN_MODULES, locate

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


def _limit(default: int, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class Limits:
    """Resource limits of one sandboxed kernel.

    Each field, its default and its help are declared here and nowhere else: they become
    the settings ``c.Autograder.<field>`` (:class:`autograder.config.Autograder`).
    """

    cell_timeout: int = _limit(30, "Seconds of wall time per cell (default: c.Execute.timeout "
                                   "when that is set).")
    notebook_timeout: int = _limit(600, "Seconds of wall time for the whole notebook.")
    memory_mb: int = _limit(2048, "Address space of the kernel in MB (RLIMIT_AS).")
    nproc: int = _limit(64, "Processes and threads of the sandbox's uid (RLIMIT_NPROC).")
    file_size_mb: int = _limit(64, "Largest file the kernel may write, in MB (RLIMIT_FSIZE).")
    tmp_mb: int = _limit(64, "Size of the sandbox's private /tmp in MB.")
    disk_mb: int = _limit(256, "MB the notebook may write into its scratch directory.")
    output_kb: int = _limit(2048, "Output kept per notebook, in KB.")
    record_mb: int = _limit(64, "MB of recorded calls read back from the kernel.")
    max_restarts: int = _limit(3, "Fresh kernels after a cell killed or hung the kernel.")
    startup_timeout: int = _limit(60, "Seconds a kernel may take to start.")


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


def own_uids() -> bool:
    """Whether sandboxes here get uids of their own (only root can hand them out)."""
    return os.geteuid() == 0


@contextmanager
def uid_slot():
    """Reserve an unprivileged uid for one sandbox on this machine (flock on a slot file).

    Yields None when not running as root (then the sandbox keeps the caller's uid).
    """
    if not own_uids():
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
            try:
                end_processes_of(UID_BASE + i)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        return
    raise SandboxError(f"all {N_SLOTS} sandbox uid slots are busy")


def processes_of(uid: int, zombies: bool = True) -> list[int]:
    """The pids of the processes running as ``uid`` on this machine (with or without the
    exited ones their parent has not reaped yet)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                if not zombies:
                    with open(f"/proc/{name}/stat") as f:
                        if f.read().rpartition(")")[2].split()[0] == "Z":
                            continue
                out.append(int(name))
            except (OSError, IndexError):
                pass
    return out


def end_processes_of(uid: int, timeout: float = 10.0) -> None:
    """Kill what still runs as a sandbox's uid and wait until it has exited, before the
    uid goes to the next sandbox. The sandbox's PID namespace ends with bwrap, but the
    kernel kills its processes asynchronously: on a busy machine one can still be running
    when the kernel's manager returns."""
    deadline = time.monotonic() + timeout
    while pids := processes_of(uid, zombies=False):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise SandboxError(f"processes {pids} of sandbox uid {uid} did not end")
        time.sleep(0.005)


# What every kernel's environment holds (also the warm kernels' zygote, which imports
# numpy before any sandbox exists: its thread count is fixed at import).
KERNEL_ENV = {"LANG": "C.UTF-8", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
              "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}

PACKAGES = ("course", "autograder")  # the kernel imports these, as the grader does


def _package_dirs(names=PACKAGES) -> list[str]:
    """The directories of the packages the grader imports (never importing them)."""
    dirs = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs.extend(str(Path(p).resolve()) for p in spec.submodule_search_locations
                        if os.path.isdir(p))
    return dirs


@lru_cache(maxsize=1)
def hidden_from_kernel() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """What the sandboxed kernel may not see: ((module, path), ...) and directories to empty.

    The modules are the course's answer modules, the grader's reference, judge, audit and
    bug library, automatic differentiation libraries and ready-made network trainers
    (the lists of :mod:`autograder.sandbox.forbidden`); each file or package is replaced by one
    that raises ImportError saying so. The bytecode caches of ``course`` and ``autograder``
    (compiled answers) and the lecture notebooks are emptied. The kernel needs none of it:
    it only runs the student's functions; the judge computes the right answers outside.
    """
    blocked = tuple((name, str(path)) for name in FORBIDDEN_MODULES
                    if (path := locate(name)) is not None)
    emptied = [str(p) for d in _package_dirs() for p in Path(d).rglob("__pycache__")]
    emptied += [str(p) for d in _package_dirs(("course",)) if (p := Path(d) / "chapters")
                .is_dir()]
    return blocked, tuple(sorted(emptied))


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
        # The kernel imports exactly the course and autograder the grader imports, wherever
        # they live: links to them, first on the kernel's path (read-only for the student).
        self.packages = root / "packages"
        self.packages.mkdir(exist_ok=True)
        for name in PACKAGES:
            dirs = _package_dirs((name,))
            if dirs and not (self.packages / name).exists():
                (self.packages / name).symlink_to(dirs[0], target_is_directory=True)
        self.blocked = root.parent / "blocked"  # outside the directory the kernel may write
        self.env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": "student",
            "LOGNAME": "student",
            "IPYTHONDIR": str(self.home / ".ipython"),
            "MPLCONFIGDIR": str(self.home / ".mpl"),
            **KERNEL_ENV,
            "NBGRADER_EXECUTION": "autograde",
            "AUTOGRADER_RECORD_DIR": str(self.record),
            "PYTHONPATH": str(self.packages),
            **env,
        }

    def hiding(self) -> list[str]:
        """bwrap arguments laying a module that refuses import over every answer module, and
        empty directories over bytecode caches (see :func:`hidden_from_kernel`)."""
        blocked, emptied = hidden_from_kernel()
        args = []
        for i, (name, target) in enumerate(blocked):
            text = BLOCKED_MODULE.format(name=name)
            if os.path.isdir(target):
                stub = self.blocked / str(i)
                stub.mkdir(parents=True, exist_ok=True)
                (stub / "__init__.py").write_text(text)
            else:
                stub = self.blocked / f"{i}.py"
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text(text)
            args += ["--ro-bind", str(stub), target]
        for target in emptied:
            args += ["--tmpfs", target, "--remount-ro", target]
        return args

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

    def rlimits(self) -> dict[str, int]:
        """The kernel's resource limits, by prlimit's option names (``RLIMIT_<NAME>``):
        prlimit sets them for a fresh kernel, the zygote for a warm one."""
        lim = self.limits
        return {"as": lim.memory_mb * 2**20, "nproc": lim.nproc,
                "fsize": lim.file_size_mb * 2**20, "nofile": 512, "core": 0,
                "cpu": lim.notebook_timeout + 30}

    PLACEHOLDER = "sleep"

    def placeholder(self) -> list[str]:
        """A process that holds a built sandbox open for a warm kernel to enter
        (:mod:`autograder.sandbox.zygote`). bwrap runs it once the sandbox is complete, so its
        name in /proc says the sandbox is ready; no student code can forge that, as none
        runs in the sandbox before the kernel enters it."""
        return [shutil.which(self.PLACEHOLDER) or f"/usr/bin/{self.PLACEHOLDER}", "infinity"]

    def wrap(self, inner: list[str]) -> list[str]:
        """The full command line running ``inner`` inside the sandbox."""
        lim = self.limits
        rlimits = [shutil.which("prlimit") or "prlimit",
                   *(f"--{k}={v}" for k, v in self.rlimits().items()), "--"]
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
        cmd += self.hiding()
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
