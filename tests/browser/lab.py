"""Start a real JupyterLab server for browser tests and benchmarks.

    with running_lab(root_dir, home) as lab:
        page.goto(lab.url("lab/tree/course/chapters/01_perceptron.ipynb"))

The server listens on 127.0.0.1 on a free port with a random token, uses the Python
environment running the caller (its kernels, nbgrader's extensions), keeps its settings,
runtime files and kernels' home under ``home``, and is stopped (with its kernels) on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from waiting import wait_until_answers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token, process and home folder."""

    base: str
    token: str
    process: subprocess.Popen
    home: Path
    log: Path

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET") -> dict | list | None:
        req = urllib.request.Request(f"{self.base}api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel of the server (a test's notebooks, once it has looked)."""
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")


def lab_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server whose user's home is ``home``."""
    env = dict(os.environ)
    env.update({
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".local/share/jupyter/runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / ".jupyter/lab/user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / ".jupyter/lab/workspaces"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


@contextlib.contextmanager
def running_lab(root_dir: Path, home: Path, *, env: dict[str, str] | None = None,
                args: list[str] | None = None, timeout: float = 120.0):
    """Run ``jupyter lab`` on ``root_dir`` until the block ends; yield a :class:`Lab`."""
    home.mkdir(parents=True, exist_ok=True)
    # No "would you like news?" toast over the page (the news would need the internet).
    notification = (home / ".jupyter/lab/user-settings/@jupyterlab/apputils-extension"
                    / "notification.jupyterlab-settings")
    if not notification.exists():
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text('{"fetchNews": "false", "checkForUpdates": false}\n')
    port, token = _free_port(), secrets.token_hex(16)
    log = home / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root_dir}", "--ServerApp.open_browser=False",
           "--LabApp.news_url=", "--LabServerApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate", *(args or [])]
    if os.geteuid() == 0:  # CI runs as root; Jupyter refuses root unless told
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root_dir, env=lab_env(home, env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}/", token, proc, home, log)
    try:
        wait_until_answers(lambda: lab.api("status") is not None, proc, log, timeout,
                           "jupyter lab")
        yield lab
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
