"""What the hub test does in pages and as the accounts: a user's JupyterLab behind the hub
(for the helpers of :mod:`jlab`), hand grading in the shared formgrader, reading files as
a student, the servers of each account."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import hub as H
from classroom import ASSIGNMENT
from playwright.sync_api import Page, expect

LOAD = 120_000  # ms


@dataclass
class UserLab:
    """A user's server behind the hub, with the ``url`` that :mod:`jlab` opens pages by."""

    hub: H.Hub
    user: str

    def url(self, path: str = "lab") -> str:
        return self.hub.user_url(self.user, path)


def manual_grade(page: Page, hub: H.Hub, student: str, grade_id: str, score: float,
                 comment: str) -> None:
    """In the course's formgrader (a hub service), open ``student``'s submission, give
    ``score`` points and ``comment`` to the cell ``grade_id``; wait until both are saved."""
    base = f"{hub.url}services/dfnn/formgrader"
    page.goto(f"{base}/manage_students/{student}/{ASSIGNMENT}")
    link = page.locator("td a", has_text=re.compile(rf"^{re.escape(ASSIGNMENT)}$"))
    expect(link).to_have_count(1, timeout=LOAD)
    with page.expect_response(lambda r: "/formgrader/api/comments?" in r.url), \
            page.expect_response(lambda r: "/formgrader/api/grades?" in r.url):
        link.click()
    for selector, value in ((f"#{grade_id}", f"{score}"), (f"#{grade_id}-comment", comment)):
        box = page.locator(selector)
        expect(box).to_be_visible(timeout=LOAD)
        kind = "comment" if selector.endswith("-comment") else "grade"
        with page.expect_response(lambda r, k=kind: f"/formgrader/api/{k}/" in r.url
                                  and r.request.method == "PUT") as saved:
            box.fill(value)
            box.press("Tab")
        assert saved.value.ok
    page.locator(f"#{grade_id}").scroll_into_view_if_needed()


_PROBE = r'''
import glob, json, os, sys

def find(pattern):
    found = glob.glob(pattern)  # empty when a folder on the way cannot be listed
    if not found:
        raise FileNotFoundError(pattern)
    return [open(p, "rb").read() for p in found]

out = {}
for name, (op, path) in json.loads(sys.argv[1]).items():
    try:
        {"listdir": os.listdir, "read": lambda p: open(p, "rb").read(), "find": find}[op](path)
        out[name] = "ok"
    except OSError as e:
        out[name] = type(e).__name__
print(json.dumps(out))
'''


def read_as(user: str, srv, checks: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Try each (``listdir``, ``read`` or ``find``: read every file a glob pattern finds,
    path) as the Unix user ``user``; return {check: "ok" or the error's name}."""
    proc = H.as_user(user, str(H.BIN / "python"), "-c", _PROBE, json.dumps(checks),
                     cwd=H.home(user), srv=srv)
    return json.loads(proc.stdout)


def server_pids(users) -> dict[str, list[int]]:
    """{user: pids of the Jupyter servers running as that user} (users with one only)."""
    out: dict[str, list[int]] = {}
    uid_user = {H.pwd.getpwnam(u).pw_uid: u for u in users}
    for pid, (uid, cmd) in H.all_processes().items():
        if uid in uid_user and "jupyterhub.singleuser" in cmd:
            out.setdefault(uid_user[uid], []).append(pid)
    return {u: sorted(p) for u, p in out.items()}
