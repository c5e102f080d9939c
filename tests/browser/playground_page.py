"""Open the playground notebook in a running JupyterLab and drive its control.

The server must be started with ``LAB_ARGS`` (JupyterLab then exposes its application
as ``window.jupyterapp``, so a test runs its commands instead of hunting for menus).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "course" / "chapters" / "playground.ipynb"
LAB_ARGS = ["--LabApp.expose_app_in_browser=True"]

_READY = """(name) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.context && w.context.path === name && w.sessionContext
    && w.sessionContext.session && w.sessionContext.session.kernel;
  return k && k.status === 'idle';
}"""


def quiet_home(home: Path) -> Path:
    """A JupyterLab home whose notifications stay silent (no news question over the page)."""
    settings = home / ".jupyter/lab/user-settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}))
    return home


def copy_notebook(root: Path) -> str:
    """Copy the playground notebook into the server's root (it autosaves there)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    return NOTEBOOK.name


def run_notebook(page, lab, name: str, timeout: float = 120_000):
    """Open notebook `name` and run all its cells once its kernel is idle."""
    page.goto(lab.url(f"lab/tree/{name}"))
    page.wait_for_function(_READY, arg=name, timeout=timeout)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # room for the control
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def open_and_run(page, lab, name: str, timeout: float = 120_000):
    """Open notebook `name`, run all its cells, and return the playground's root element."""
    run_notebook(page, lab, name, timeout)
    root = page.locator(".pg").first
    root.wait_for(timeout=timeout)
    page.wait_for_function("() => document.querySelector('.pg')?.dataset.frame",
                           timeout=timeout)
    return root


def frames(page) -> int:
    """Frames the playground has drawn in the browser."""
    return int(page.evaluate("() => document.querySelector('.pg').dataset.frames || 0"))


def shown_test_loss(page) -> float:
    """The test loss the playground shows."""
    return float(page.evaluate("() => document.querySelector('.pg').dataset.testLoss"))
