"""A lost ``kernel_info`` reply costs a second, not a timeout: the grader's sandboxed
kernels, nbclient as the course site runs it (``make course``), and nbval (the chapters).

Each test loses one message on purpose and gives the client a budget that waiting for the
lost reply would exhaust: a ``startup_timeout`` or ``timeout`` the run would fail at
(nbclient) or nbval's fixed wait after which it fails the notebook. The run succeeds only
because the client asked again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook
from nbval.kernel import RunningKernel

from autograder.kernel_ready import ReadyNotebookClient, nbval_ensure_iopub_up
from autograder.sandbox.confinement import Limits, Sandbox
from autograder.sandbox.kernel import SandboxedKernelManager, execute_notebook

# An ipykernel that ignores the first kernel_info request it receives, as if its reply
# were lost, and notes every request in $DROP_LOG.
DROPPING_KERNEL = '''
import os

from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp


class DroppingKernel(IPythonKernel):
    seen = 0

    async def kernel_info_request(self, *args, **kwargs):
        DroppingKernel.seen += 1
        with open(os.environ["DROP_LOG"], "a") as log:
            log.write("dropped\\n" if DroppingKernel.seen == 1 else "answered\\n")
        if DroppingKernel.seen > 1:
            return await super().kernel_info_request(*args, **kwargs)


IPKernelApp.launch_instance(kernel_class=DroppingKernel)
'''


def notebook():
    return new_notebook(cells=[new_code_cell("print(6 * 7)")])


def test_the_grader_asks_a_fresh_kernel_again_when_a_reply_is_lost(tmp_path, monkeypatch):
    script = tmp_path / "dropping_kernel.py"
    script.write_text(DROPPING_KERNEL)
    log = tmp_path / "requests.log"

    def command(self, extra_arguments=None):
        self.kernel_spec.interrupt_mode = "message"
        return self.sandbox.wrap([sys.executable, str(script), *self._kernel_args()])

    monkeypatch.setattr(SandboxedKernelManager, "format_kernel_cmd", command)
    monkeypatch.setenv("DROP_LOG", str(log))
    sandbox = Sandbox(tmp_path / "sb", uid=None, limits=Limits(startup_timeout=20), env={},
                      confined=False)
    nb = notebook()
    with ThreadPoolExecutor(1) as thread:  # its own event loop
        events = thread.submit(execute_notebook, nb, sandbox, warm=False).result()
    assert events == []
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert log.read_text().splitlines()[:2] == ["dropped", "answered"]


class Losing:
    """Loses, on a client's shell channel, the reply to the first kernel_info request
    sent once the kernel is ready (the one nbclient and nbval send after
    ``wait_for_ready``); counts the requests."""

    def __init__(self, kc, asynchronous: bool):
        self.kc, self.lost, self.requests = kc, [], 0
        channel, ask = kc.shell_channel, kc.kernel_info
        get = channel.get_msg

        def kernel_info(*args, **kwargs):
            msg_id = ask(*args, **kwargs)
            self.requests += 1
            if not self.lost:
                self.lost.append(msg_id)
            return msg_id

        def keep(msg) -> bool:
            return msg["parent_header"].get("msg_id") not in self.lost[:1]

        async def get_async(*args, **kwargs):
            while not keep(msg := await get(*args, **kwargs)):
                pass
            return msg

        def get_blocking(*args, **kwargs):
            while not keep(msg := get(*args, **kwargs)):
                pass
            return msg

        kc.kernel_info = kernel_info
        channel.get_msg = get_async if asynchronous else get_blocking


def test_nbclient_as_the_site_build_runs_it_asks_again(tmp_path):
    """docs/site/build_site.py executes the chapters with ReadyNotebookClient."""
    losing = []
    nb = notebook()
    client = ReadyNotebookClient(
        nb, timeout=600, startup_timeout=30, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        on_notebook_start=lambda notebook: losing.append(Losing(client.kc, True)))
    client.execute()
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert losing[0].lost and losing[0].requests >= 2


def test_nbval_asks_again():
    """nbval waits 10 s for the reply, then fails the notebook; the pytest plugin
    autograder.kernel_ready (pyproject.toml) gives it nbval_ensure_iopub_up instead."""
    assert RunningKernel._ensure_iopub_up is nbval_ensure_iopub_up
    kernel = RunningKernel("python3", cwd=str(Path.cwd()))
    try:
        losing = Losing(kernel.kc, False)
        kernel._ensure_iopub_up()
        assert losing.lost and losing.requests >= 2
    finally:
        kernel.stop()


# An ipykernel that runs every cell but never sends the execute_reply of a cell whose code
# holds the marker, as if the reply were lost on the way.
LOSING_REPLY_KERNEL = '''
from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp


class LosingKernel(IPythonKernel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        send = self.session.send

        def lossy(stream, msg_or_type, content=None, parent=None, *args, **kw):
            code = ((parent or {}).get("content") or {}).get("code", "")
            if msg_or_type == "execute_reply" and "LOSE THIS REPLY" in code:
                stream = None  # the message is built, not sent
            return send(stream, msg_or_type, content, parent, *args, **kw)

        self.session.send = lossy


IPKernelApp.launch_instance(kernel_class=LosingKernel)
'''


def losing_cells():
    return new_notebook(cells=[new_code_cell("x = 6 * 7  # LOSE THIS REPLY"),
                               new_code_cell("print(x)")])


def losing_kernelspec(tmp_path, monkeypatch) -> Path:
    script = tmp_path / "losing_kernel.py"
    script.write_text(LOSING_REPLY_KERNEL)
    spec = tmp_path / "jupyter" / "kernels" / "losing"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(script), "-f", "{connection_file}"],
        "display_name": "losing", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return script


def test_nbclient_as_the_site_build_runs_it_goes_on_after_a_lost_execute_reply(
        tmp_path, monkeypatch):
    # timeout=20: waiting for the lost reply would end the run with CellTimeoutError
    losing_kernelspec(tmp_path, monkeypatch)
    nb = losing_cells()
    ReadyNotebookClient(nb, timeout=20, kernel_name="losing",
                        resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[1].outputs[0]["text"] == "42\n"
    # a cell whose reply is lost after an error still fails as one
    nb = new_notebook(cells=[new_code_cell("1 / 0  # LOSE THIS REPLY")])
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        ReadyNotebookClient(nb, timeout=20, kernel_name="losing",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()


def test_the_grader_goes_on_after_a_lost_execute_reply(tmp_path, monkeypatch):
    # cell_timeout=20: waiting for the lost reply would interrupt the cell and note it
    script = losing_kernelspec(tmp_path, monkeypatch)

    def command(self, extra_arguments=None):
        self.kernel_spec.interrupt_mode = "message"
        return self.sandbox.wrap([sys.executable, str(script), *self._kernel_args()])

    monkeypatch.setattr(SandboxedKernelManager, "format_kernel_cmd", command)
    sandbox = Sandbox(tmp_path / "sb", uid=None, limits=Limits(cell_timeout=20), env={},
                      confined=False)
    nb = losing_cells()
    with ThreadPoolExecutor(1) as thread:
        events = thread.submit(execute_notebook, nb, sandbox, warm=False).result()
    assert events == []
    assert nb.cells[1].outputs[0]["text"] == "42\n"
    assert not nb.cells[0].metadata.get("autograder")  # no timeout noted on the cell


def test_nbval_goes_on_after_a_lost_execute_reply(tmp_path, monkeypatch):
    """The chapters run under nbval: a lost reply would cost the cell timeout, and nbval
    would then mark every later cell xfail, so that their failures no longer count."""
    losing_kernelspec(tmp_path, monkeypatch)
    nb = losing_cells()
    nb.cells.append(new_code_cell("assert x == 41, 'a later cell that fails'"))
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps(nb))
    # --nbval-cell-timeout=20: waiting for the lost reply would time the first cell out
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider",
         "-p", "autograder.kernel_ready", "--nbval-lax", "--nbval-kernel-name=losing",
         "--nbval-cell-timeout=20", "-rA", str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = p.stdout
    assert "1 failed, 2 passed" in out, out[-3000:]
    assert "a later cell that fails" in out and "xfail" not in out.lower(), out[-3000:]
    assert "Timeout" not in out, out[-3000:]
