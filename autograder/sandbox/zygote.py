"""Warm kernels: a kernel forked from an interpreter that has imported ipykernel, entering
a sandbox that bubblewrap built.

Starting a Python kernel costs about 0.3 s of CPU (the interpreter, ipykernel, IPython,
numpy, and debugpy, which ipykernel's debugger imports: 0.1 s of it), paid again for every
notebook graded. Here a *zygote* process imports them once;
for each notebook, bwrap builds the sandbox exactly as for an ordinary kernel
(:meth:`autograder.sandbox.confinement.Sandbox.wrap`: mounts, hidden answers, no network, own PID
namespace) around a placeholder process, and the zygote forks a child that joins it the
way ``nsenter`` does:

1. it enters the placeholder's PID namespace and forks the kernel process, which enters
   its IPC, UTS, network, cgroup and mount namespaces and its root directory;
2. the kernel process takes the sandbox's resource limits, starts a new session, sets
   ``no_new_privs``, empties its capability bounding and ambient sets, and switches to
   the sandbox's unprivileged uid and gid; unless its permitted and effective
   capabilities are then empty, it stops before running anything;
3. it replaces its environment, standard streams and open files with the sandbox's, and
   starts ipykernel.

When the kernel exits, the child that forked it kills bwrap, so that jupyter_client sees
the kernel gone; when bwrap is killed, the PID namespace ends and the kernel with it.

The zygote is its own interpreter (``python -I zygote.py``), started by the grading
worker: it never imports the grader, the judge, the checks or ``course``, and holds no
student's data, so a fork of it carries nothing a sandboxed kernel may not see. This file
imports only the standard library; it runs as a script.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

PRELOAD = ("numpy", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
           "ipykernel.debugger",
           "IPython.core.completer")

SET_BY_PRELOAD: dict[str, str] = {}  # environment variables the preloaded modules set

NAMESPACES = (("ipc", 0x08000000), ("uts", 0x04000000), ("net", 0x40000000),
              ("cgroup", 0x02000000), ("mnt", 0x00020000))  # mnt last: it changes /proc
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg: int = 0, arg3: int = 0) -> int:
    return _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(arg3), ctypes.c_ulong(0),
                       ctypes.c_ulong(0))


def _capabilities() -> dict[str, int]:
    caps = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("CapPrm:", "CapEff:", "CapAmb:")):
                key, value = line.split(":")
                caps[key] = int(value, 16)
    return caps


def _drop_privileges(uid: int) -> None:
    """Become uid for good: no capability left, none to be gained by exec."""
    if not isinstance(uid, int) or uid <= 0:
        raise PermissionError(f"a kernel runs as an unprivileged uid, not {uid!r}")
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() != 22:  # EINVAL: no cap
            _check(-1, f"dropping capability {cap}")
    _check(_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL), "clearing ambient capabilities")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    caps = _capabilities()
    if os.getuid() != uid or os.geteuid() != uid or any(caps.values()):
        raise PermissionError(f"privileges not dropped (uid {os.getuid()}, {caps})")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise PermissionError("root could be regained")


def _kernel(req: dict, ns_fds: list[tuple[int, int]], root: int, err: int) -> None:
    """In the forked kernel process (already in the sandbox's PID namespace)."""
    for fd, flag in ns_fds:
        _check(_libc.setns(fd, flag), "setns")
        os.close(fd)
    os.fchdir(root)
    os.chroot(".")
    os.close(root)
    os.chdir(req["cwd"])
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err, 2)
    os.closerange(3, 2**31 - 1)  # every inherited file (close_range)
    for name, value in req["rlimits"].items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name.upper()}"), (value, value))
    _drop_privileges(req["uid"])
    _check(_prctl(PR_SET_PDEATHSIG, signal.SIGKILL), "pdeathsig")
    sys.stdin = open(0, closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, closefd=False)
    os.environ.clear()
    os.environ.update(SET_BY_PRELOAD)
    os.environ.update(req["env"])
    sys.path[:0] = req["path"]
    sys.dont_write_bytecode = True
    sys.argv = ["ipykernel_launcher", *req["argv"]]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def _spawn(req: dict) -> None:
    """In the child of the zygote: fork the kernel into the sandbox, wait for it, then
    kill bwrap (the kernel has exited, so must its sandbox)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)  # the zygote's pipes stay the zygote's
    os.dup2(null, 1)
    os.close(null)
    bwrap = os.pidfd_open(req["bwrap"])  # a pid reused later is never signalled
    try:
        err = os.open(req["stderr"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                      0o600)
        try:
            _fork_kernel(req, err)
        except BaseException as e:  # noqa: BLE001 - reported in the kernel's log
            os.write(err, f"autograder: no kernel was forked into the sandbox: {e!r}\n"
                     .encode())
    finally:
        try:
            signal.pidfd_send_signal(bwrap, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _fork_kernel(req: dict, err: int) -> None:
    """Fork the kernel process into the sandbox's namespaces; return when it has exited."""
    target = req["target"]
    root = os.open(f"/proc/{target}/root", os.O_RDONLY | os.O_DIRECTORY)
    ns_fds = [(os.open(f"/proc/{target}/ns/{name}", os.O_RDONLY), flag)
              for name, flag in NAMESPACES]
    pid_ns = os.open(f"/proc/{target}/ns/pid", os.O_RDONLY)
    _check(_libc.setns(pid_ns, CLONE_NEWPID), "setns pid")
    kid = os.fork()
    if kid == 0:
        code = 1
        try:
            _kernel(req, ns_fds, root, err)
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported in the kernel's log
            os.write(err, f"autograder: the kernel could not enter its sandbox: {e!r}\n"
                     .encode())
        finally:
            os._exit(code)
    os.waitpid(kid, 0)


def serve() -> None:
    """Read one JSON request per line on stdin, answer the spawned child's pid."""
    # debugpy (imported by ipykernel.debugger) warns on standard error that Python's
    # frozen modules may hide breakpoints; no one debugs a graded kernel.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    before = dict(os.environ)
    for name in PRELOAD:
        __import__(name)
    # what the imports set for themselves, as they would in a fresh kernel
    SET_BY_PRELOAD.update((k, v) for k, v in os.environ.items() if before.get(k) != v)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _spawn(req)
                code = 0
            finally:
                os._exit(code)
        out.write(f"{pid}\n")
        out.flush()


if __name__ == "__main__":
    serve()
