"""A cell's ``execute_reply`` lost on the way costs a second, not the cell's timeout:
:class:`LostReplyMixin`, for the grader's sandboxed kernels
(:mod:`autograder.sandbox.kernel`) and for the course site's chapters
(:class:`autograder.kernel_ready.ReadyNotebookClient`)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async

__all__ = ["RETRY", "LostReplyMixin"]

RETRY = 1.0  # seconds between two looks at a kernel that has not answered


class LostReplyMixin:
    """For a subclass of nbclient's ``NotebookClient``: a cell whose ``execute_reply`` is
    lost counts as done once the kernel is seen to have finished it, instead of waiting
    for the cell's whole ``timeout`` (seen: an idle site build for eight minutes, the
    kernel done with the last cell of a chapter, the client still waiting for its reply).

    nbclient waits for the reply on the shell channel; here the wait goes a second at a
    time. Once the kernel has published its idle status for the request on IOPub (sent
    after the reply), a ``kernel_info`` request goes on the shell channel: its reply
    arriving, with no ``execute_reply`` before it on the same channel, shows the reply
    lost. The cell then gets a reply made from its outputs (``status`` "error" when it
    printed an error), and a warning is logged. Anything else is nbclient's, timeouts
    included."""

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg,
                                    task_poll_kernel_alive):
        channel = self.kc.shell_channel
        get_msg = channel.get_msg
        probe: dict = {"id": None, "answered": False}

        async def sliced(timeout=None):
            end = None if timeout is None else time.monotonic() + timeout
            while True:
                wait = RETRY if end is None else min(RETRY, max(0.0, end - time.monotonic()))
                try:
                    msg = await ensure_async(get_msg(timeout=wait))
                except Empty:
                    if task_poll_output_msg.done():  # IOPub: idle for this request
                        if probe["answered"]:
                            return self._lost_reply(msg_id, cell)
                        if probe["id"] is None:
                            probe["id"] = self.kc.kernel_info()
                    if end is not None and time.monotonic() >= end:
                        raise
                    continue
                if probe["id"] and msg["parent_header"].get("msg_id") == probe["id"]:
                    probe["answered"] = True  # one more second for a late reply
                    continue
                return msg

        channel.get_msg = sliced
        try:
            return await super()._async_poll_for_reply(
                msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive)
        finally:
            del channel.get_msg  # the channel's own method again

    def _lost_reply(self, msg_id: str, cell: Any) -> dict:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        self.log.warning("the kernel finished a cell but its execute_reply was lost; the "
                         "cell counts as done, from its outputs")
        content: dict = {"status": "error" if errors else "ok",
                         "execution_count": cell.get("execution_count")}
        if errors:
            content.update(ename=errors[0].get("ename", ""),
                           evalue=errors[0].get("evalue", ""),
                           traceback=errors[0].get("traceback", []))
        return {"msg_type": "execute_reply", "parent_header": {"msg_id": msg_id},
                "header": {"msg_type": "execute_reply", "msg_id": f"lost-{msg_id}",
                           "date": datetime.now(timezone.utc)},
                "metadata": {}, "content": content}
