"""Warm kernels (autograder.sandbox.zygote) run in the same sandbox as fresh kernels.

The same probe notebook runs in a fresh kernel (bwrap starts a new interpreter) and in a
warm one (forked from the zygote into the sandbox bwrap built); every property of the
confinement the probe can observe must be the same, and each must be the confined value.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.sandbox.confinement import (
    Limits,
    Sandbox,
    SandboxError,
    bwrap_path,
    processes_of,
    uid_slot,
)
from autograder.sandbox.kernel import execute_notebook
from autograder.sandbox.warm_kernels import Zygote

pytestmark = pytest.mark.sandbox

needs_root = pytest.mark.skipif(
    bwrap_path() is None or os.geteuid() != 0,
    reason="warm kernels need bwrap and root (the grader's sandbox uids)")

PROBE = r'''
_names = sorted(n for n in dir() if not n.startswith("_"))
import gc, json, os, resource, socket, sys
facts = {"names": _names, "frozen": gc.get_freeze_count()}
facts["course_or_grader_loaded"] = sorted(
    m for m in sys.modules if m.split(".")[0] in ("course", "autograder"))
facts["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()]
facts["status"] = {k: v.strip() for k, v in (l.split(":", 1) for l in open("/proc/self/status"))
                   if k.startswith("Cap") or k == "NoNewPrivs"}
facts["pids_seen"] = len([p for p in os.listdir("/proc") if p.isdigit()])
facts["root"] = sorted(os.listdir("/"))
facts["cwd_is_work"] = os.getcwd().endswith("/work")
try:
    os.close(os.open("/dev/tty", os.O_RDWR))
    facts["terminal"] = "opened"
except OSError as e:
    facts["terminal"] = type(e).__name__
facts["hostname"] = socket.gethostname()
facts["rlimits"] = {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n))
                    for n in ("AS", "NPROC", "FSIZE", "NOFILE", "CORE", "CPU")}
facts["env"] = sorted(os.environ)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1)
    facts["network"] = "reached"
except OSError as e:
    facts["network"] = type(e).__name__
try:
    import course.layers  # noqa: F401 - an answer module
    facts["answers"] = "imported"
except ImportError as e:
    facts["answers"] = str(e)[:60]
try:
    os.setuid(0)
    facts["setuid0"] = "allowed"
except PermissionError:
    facts["setuid0"] = "refused"
try:
    open("/root/probe", "w")
    facts["write_outside"] = "allowed"
except OSError as e:
    facts["write_outside"] = type(e).__name__
print(json.dumps(facts))
'''


def execute(nb, sandbox, warm: bool) -> list[str]:
    """execute_notebook in a thread of its own (its own event loop, whatever this
    thread runs)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(execute_notebook, nb, sandbox, warm=warm).result()


def probe(warm: bool) -> dict:
    nb = new_notebook(cells=[new_code_cell(PROBE)])
    with tempfile.TemporaryDirectory() as tmp, uid_slot() as uid:
        sandbox = Sandbox(Path(tmp) / "sb", uid=uid, limits=Limits(), env={})
        events = execute(nb, sandbox, warm)
        assert events == []
        facts = json.loads(nb.cells[0].outputs[0]["text"])
        facts["uid_slot"] = uid
    assert not processes_of(uid, zombies=False), "a process of the sandbox outlived it"
    return facts


@pytest.fixture(scope="module")
def facts():
    return {"fresh": probe(warm=False), "warm": probe(warm=True)}


@needs_root
def test_warm_and_fresh_kernels_see_the_same_sandbox(facts):
    fresh, warm = facts["fresh"], facts["warm"]
    for key in ("status", "root", "cwd_is_work", "terminal", "hostname", "rlimits",
                "env", "network", "answers", "setuid0", "write_outside",
                "course_or_grader_loaded", "names"):
        assert warm[key] == fresh[key], key
    for f in (fresh, warm):
        uid = f["uid_slot"]
        assert f["ids"] == [uid, uid, uid, uid, []]
        assert f["pids_seen"] <= 4  # its own PID namespace (bwrap's init, a placeholder)


@needs_root
def test_the_objects_of_a_kernels_start_up_are_out_of_the_collectors_way(facts):
    # gc.freeze() ran before the first cell, in warm and fresh kernels alike, and left
    # no name behind in the notebook's namespace
    for f in facts.values():
        assert f["frozen"] > 10_000
        assert "gc" not in f["names"] and "In" in f["names"]


@needs_root
def test_a_warm_kernel_is_confined(facts):
    warm = facts["warm"]
    caps = {k: int(v, 16) for k, v in warm["status"].items() if k.startswith("Cap")}
    assert caps and not any(caps.values()), caps  # no capability at all, even bounding
    assert warm["status"]["NoNewPrivs"] == "1"
    assert warm["setuid0"] == "refused"
    assert warm["network"] != "reached"
    assert warm["hostname"] == "sandbox"
    assert "not available in the grading sandbox" in warm["answers"]
    assert warm["write_outside"] != "allowed"
    assert warm["terminal"] != "opened"  # no controlling terminal to inject keystrokes into
    limits = Limits()
    assert warm["rlimits"]["AS"] == [limits.memory_mb * 2**20] * 2
    assert warm["rlimits"]["NPROC"] == [limits.nproc] * 2
    assert warm["rlimits"]["CORE"] == [0, 0]
    # forked from an interpreter that never imported the grader or the course
    assert warm["course_or_grader_loaded"] == []


@needs_root
def test_a_kernel_that_exits_is_restarted_warm_and_the_sandbox_ends():
    nb = new_notebook(cells=[new_code_cell("x = 41"), new_code_cell("import os; os._exit(3)"),
                             new_code_cell("print(x + 1)")])
    with tempfile.TemporaryDirectory() as tmp, uid_slot() as uid:
        sandbox = Sandbox(Path(tmp) / "sb", uid=uid, limits=Limits(), env={})
        events = execute(nb, sandbox, True)
    assert not processes_of(uid, zombies=False)
    assert any("DeadKernel" in e for e in events), events
    assert nb.cells[2].outputs[0]["text"] == "42\n"  # the cells above were re-run


@needs_root
def test_a_dead_zygote_is_replaced():
    Zygote.start()
    Zygote._proc.kill()
    Zygote._proc.wait()
    facts = probe(warm=True)
    assert facts["hostname"] == "sandbox"


@needs_root
def test_a_worker_grading_notebook_after_notebook_keeps_nothing_of_them():
    """A worker grades hundreds of notebooks in one process. Each kernel's client used to
    keep its zmq context open (two threads, a dozen descriptors, 16 MB of address space),
    until the worker's address-space cap turned grading into MemoryErrors after some 250
    students."""
    import gc

    import zmq

    def footprint():
        gc.collect()
        contexts = [c for c in gc.get_objects() if isinstance(c, zmq.Context)
                    and not c.closed and c is not zmq.Context._instance]
        return (len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd")),
                len(contexts))

    probe(warm=True)  # the zygote started, everything imported
    before = footprint()
    for _ in range(3):
        probe(warm=True)
    assert footprint() == before


@needs_root
def test_the_uid_of_a_sandbox_goes_to_the_next_one_only_once_its_processes_ended():
    with uid_slot() as uid:
        stray = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                  "--clear-groups", "sleep", "600"])
        time.sleep(0.2)
        assert stray.pid in processes_of(uid)
    assert stray.wait(timeout=5) == -signal.SIGKILL
    assert not processes_of(uid, zombies=False)


@needs_root
def test_a_zygote_that_never_says_ready_is_replaced_in_seconds(monkeypatch):
    monkeypatch.setattr(Zygote, "READY_TIMEOUT", 8.0)  # its replacement imports in ~1 s
    with Zygote._lock:
        if Zygote._proc is not None:
            Zygote._proc.kill()
            Zygote._proc.wait()
        Zygote._launch()
        stuck = Zygote._proc
        stuck.send_signal(signal.SIGSTOP)  # before its imports are done
    started = time.monotonic()
    facts = probe(warm=True)
    assert facts["hostname"] == "sandbox"
    assert Zygote._proc is not stuck and stuck.poll() is not None  # killed, replaced
    assert time.monotonic() - started < 30


@needs_root
def test_a_zygote_that_takes_a_request_and_gives_no_pid_fails_the_start_in_seconds(
        monkeypatch):
    monkeypatch.setattr(Zygote, "ANSWER_TIMEOUT", 1.0)
    probe(warm=True)  # a zygote that is ready
    stuck = Zygote._proc
    stuck.send_signal(signal.SIGSTOP)  # alive, silent: as if stuck
    nb = new_notebook(cells=[new_code_cell("print(1)")])
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, uid_slot() as uid:
        sandbox = Sandbox(Path(tmp) / "sb", uid=uid, limits=Limits(), env={})
        with pytest.raises(SandboxError, match="zygote of warm kernels failed: no answer"):
            execute(nb, sandbox, True)
    assert not processes_of(uid, zombies=False)
    assert time.monotonic() - started < 30
    assert stuck.poll() is not None  # killed: the next kernel gets a new zygote
    assert probe(warm=True)["hostname"] == "sandbox"


def test_without_root_the_sandbox_keeps_the_callers_uid_and_kernels_start_afresh(
        tmp_path, monkeypatch):
    """Only root hands out sandbox uids, and warm kernels need one (as the README says)."""
    from autograder.sandbox import confinement as sandbox_module
    from autograder.sandbox.kernel import SandboxedKernelManager
    from autograder.sandbox.warm_kernels import warm_kernels_possible

    monkeypatch.setattr(sandbox_module.os, "geteuid", lambda: 1000)
    with uid_slot() as uid:
        assert uid is None
        box = Sandbox(tmp_path / "box", uid=uid, limits=Limits(), env={})
    assert not warm_kernels_possible(box)
    assert not SandboxedKernelManager(box).warm
    if os.geteuid() == 0:
        monkeypatch.undo()
        with uid_slot() as uid:
            box = Sandbox(tmp_path / "root-box", uid=uid, limits=Limits(), env={})
            assert uid is not None and warm_kernels_possible(box)
