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
  :func:`nbval_ensure_iopub_up` asks again each second instead.

nbval also waits for each cell's ``execute_reply`` as long as a cell may run
(``--nbval-cell-timeout``); a reply lost there would cost that long, and nbval would then
mark every later cell of the chapter as expected to fail (xfail), hiding their failures.
:func:`nbval_await_reply` tells a lost reply the way :class:`LostReplyMixin` does.

This module is a pytest plugin (``-p autograder.kernel_ready`` in pyproject.toml's
``addopts``) that gives both to nbval.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async
from nbclient import NotebookClient

from autograder.sandbox.lost_reply import RETRY, LostReplyMixin

__all__ = ["RETRY", "LostReplyMixin", "ReadyNotebookClient", "nbval_await_reply",
           "nbval_ensure_iopub_up", "pytest_configure"]

log = logging.getLogger(__name__)



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


def _iopub_idle(kernel, msg_id: str) -> bool:
    """Whether IOPub has shown the request ``msg_id`` idle; the messages read to tell are
    kept for nbval's own reading of IOPub (:func:`_get_message`)."""
    backlog = kernel.__dict__.setdefault("_iopub_backlog", deque())
    while True:
        try:
            backlog.append(kernel.kc.get_iopub_msg(timeout=0))
        except Empty:
            break
    return any(m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
               and m["content"].get("execution_state") == "idle" for m in backlog)


def nbval_await_reply(self, msg_id: str, timeout: float | None = None) -> None:
    """nbval's ``RunningKernel.await_reply``, waiting a second at a time. Once IOPub has
    shown the request idle, one ``kernel_info`` request goes on the shell channel; its
    reply arriving with no ``execute_reply`` before it (the kernel answers in order) shows
    the cell's reply lost, and the cell counts as answered (a warning is logged). nbval
    then reads the cell's outputs and errors from IOPub as usual."""
    end = None if timeout is None else time.monotonic() + timeout
    probe = None
    while True:
        wait = RETRY if end is None else min(RETRY, max(0.0, end - time.monotonic()))
        try:
            msg = self.get_message(stream="shell", timeout=wait)
        except Empty:
            if end is not None and time.monotonic() >= end:
                raise
            if probe is None and _iopub_idle(self, msg_id):
                probe = self.kc.kernel_info()
            continue
        parent = msg["parent_header"].get("msg_id")
        if parent == msg_id:
            if msg["content"]["status"] == "aborted":
                raise RuntimeError("Kernel aborted execution request")
            return
        if probe is not None and parent == probe:
            log.warning("the kernel finished a cell but its execute_reply was lost; the "
                        "cell counts as answered, from its outputs")
            return


def _get_message(original):
    def get_message(self, stream, timeout=None):
        backlog = self.__dict__.get("_iopub_backlog")
        if stream == "iopub" and backlog:
            return backlog.popleft()
        return original(self, stream, timeout)

    get_message.__doc__ = "nbval's ``RunningKernel.get_message``, IOPub's backlog first."
    return get_message


def pytest_configure(config) -> None:
    """As a pytest plugin: nbval's kernels wait with :func:`nbval_ensure_iopub_up` and
    :func:`nbval_await_reply`."""
    from nbval.kernel import RunningKernel

    RunningKernel._ensure_iopub_up = nbval_ensure_iopub_up
    RunningKernel.await_reply = nbval_await_reply
    if not getattr(RunningKernel.get_message, "_with_backlog", False):
        RunningKernel.get_message = _get_message(RunningKernel.get_message)
        RunningKernel.get_message._with_backlog = True
