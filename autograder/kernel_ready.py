"""Bounded waits for a kernel's ``kernel_info`` and ``execute_reply`` replies, so that a
lost message costs a second, not a run's whole timeout (:class:`LostReplyMixin` for a
cell's reply).

A kernel is ready once it answers a ``kernel_info`` request. jupyter_client's
``wait_for_ready`` sends the request again every second until a reply comes (and so
does the grader's own, :class:`autograder.sandbox.kernel.SandboxedKernelClient`). Two
clients then ask once more and wait for that one reply:

* nbclient's ``NotebookClient.execute`` waits for it as long as a cell may run
  (``timeout``: 600 s when the course site executes the chapters): a reply lost there
  stalls the run for the whole timeout, client and kernel both idle.
  :class:`ReadyNotebookClient` waits a second at a time and asks again, within
  ``startup_timeout``;
* nbval (the chapters under pytest) waits 10 s for it, then fails the notebook:
  :func:`nbval_ensure_iopub_up` asks again each second instead. This module is a pytest
  plugin (``-p autograder.kernel_ready`` in pyproject.toml's ``addopts``) that gives it
  to nbval.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async
from nbclient import NotebookClient

from autograder.sandbox.lost_reply import RETRY, LostReplyMixin

__all__ = ["RETRY", "LostReplyMixin", "ReadyNotebookClient", "nbval_ensure_iopub_up",
           "pytest_configure"]



class ReadyNotebookClient(LostReplyMixin, NotebookClient):
    """nbclient's client whose ``kernel_info`` wait before the first cell is bounded, and
    which carries on after a lost ``execute_reply`` (:class:`LostReplyMixin`)."""

    async def async_wait_for_reply(self, msg_id: str, cell: Any = None) -> dict | None:
        if cell is not None:  # nbclient waits here for kernel_info only; keep the rest
            return await super().async_wait_for_reply(msg_id, cell)
        assert self.kc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=RETRY))
            except Empty:
                await self._async_check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the kernel did not answer kernel_info within "
                                       f"{self.startup_timeout} s") from None
                self.kc.kernel_info()  # the reply to any of the requests will do
                continue
            if msg["msg_type"] == "kernel_info_reply":
                return msg


def nbval_ensure_iopub_up(self, total: float = 30.0) -> None:
    """nbval's ``RunningKernel._ensure_iopub_up``, asking again each second: the kernel's
    ``kernel_info`` reply (shell) and its idle status (IOPub) both arrived."""
    deadline = time.monotonic() + total
    while True:
        msg_id = self.kc.kernel_info()
        try:
            self.await_reply(msg_id, timeout=RETRY)
            self.await_idle(msg_id, RETRY)
            return
        except Empty:
            if not self.is_alive():
                raise RuntimeError("the kernel died before answering kernel_info") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer kernel_info within "
                                   f"{total:g} s") from None


def pytest_configure(config) -> None:
    """As a pytest plugin: nbval's kernels wait with :func:`nbval_ensure_iopub_up`."""
    from nbval.kernel import RunningKernel

    RunningKernel._ensure_iopub_up = nbval_ensure_iopub_up
