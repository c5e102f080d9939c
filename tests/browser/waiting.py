"""Waiting for a server the browser tests start: poll until it answers, while it runs."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Callable


def wait_until_answers(answers: Callable[[], bool], process: subprocess.Popen, log: Path,
                       timeout: float, what: str) -> None:
    """Return once ``answers()`` is true; it may raise OSError while the server is not up.

    Stops with the end of the server's log if its process exits or ``timeout`` seconds
    pass first; between two tries it waits a quarter of a second.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}):\n"
                               + log.read_text(errors="replace")[-4000:])
        try:
            if answers():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not answer in {timeout:g} s:\n"
                               + log.read_text(errors="replace")[-4000:])
        time.sleep(0.25)
