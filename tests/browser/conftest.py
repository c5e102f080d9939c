"""Browser fixtures shared by every test that drives a real Chromium.

Playwright for Python drives Debian's ``chromium`` (``/usr/bin/chromium``, installed by
``ci/provision.sh``); Playwright's own browser download is never used. Every page opened
through :func:`watched_page` records what a reader's browser would do wrong: requests to
any host other than the local server, console errors and uncaught page errors.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps", "--mute-audio",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "build"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium for the whole session, closed at the end."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `sh ci/provision.sh` as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageLog:
    """What went wrong on a page: foreign requests, console errors, page errors."""

    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return ([f"request to another host: {u}" for u in self.foreign_requests]
                + [f"console error: {m}" for m in self.console_errors]
                + [f"page error: {m}" for m in self.page_errors])


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "file"):
        return True
    return parsed.hostname in LOCAL_HOSTS


def watch(page) -> PageLog:
    """Abort and record requests to other hosts; record console and page errors."""
    log = PageLog()

    def route(r):
        if _is_local(r.request.url):
            r.continue_()
        else:
            log.foreign_requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.log = log
    return log


@contextlib.contextmanager
def watched_page_of(chromium, width: int = 1280, height: int = 900):
    """A watched page (see :func:`watch`) in a context of its own, closed on exit."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        watch(page)
        yield page
    finally:
        context.close()


@pytest.fixture
def new_page(chromium):
    """Call it to get a fresh watched page (own context, 1280x900); all closed at the end."""
    with contextlib.ExitStack() as stack:
        def make(width: int = 1280, height: int = 900):
            return stack.enter_context(watched_page_of(chromium, width, height))
        yield make


@pytest.fixture
def watched_page(new_page):
    """A fresh page (1280x900) whose ``log`` attribute is a :class:`PageLog`.

    Requests to any host but loopback are aborted and recorded, so a page that needs
    the network fails its test instead of loading slowly.
    """
    return new_page()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture
def serve_dir():
    """Serve a folder over HTTP on 127.0.0.1; call it with the folder, get the base URL."""
    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def screens_dir():
    """Where browser tests save screenshots: ``build/<suite>/`` (not committed)."""
    def folder(suite: str) -> Path:
        path = SCREENS / suite
        path.mkdir(parents=True, exist_ok=True)
        return path
    return folder


# ----------------------------------------------------------------------------- JupyterLab


@pytest.fixture(scope="session")
def classroom(tmp_path_factory):
    """A course copy, a student's folder and nbgrader's exchange, with ``a3_backprop``
    released (see :mod:`classroom`)."""
    from classroom import make_classroom

    return make_classroom(tmp_path_factory.mktemp("class"))


@pytest.fixture(scope="session")
def student_lab(classroom):
    """The student's JupyterLab (student configuration of ``docs/student-config/``)."""
    from lab import running_lab

    with running_lab(classroom.student_work, classroom.student_home,
                     env=classroom.env()) as lab:
        yield lab


@pytest.fixture(scope="session")
def instructor_lab(classroom):
    """The instructor's JupyterLab on the course copy, with every nbgrader tool."""
    from lab import running_lab

    with running_lab(classroom.course, classroom.instructor_home,
                     env=classroom.env()) as lab:
        yield lab


@pytest.fixture(scope="session")
def fetched_assignment(classroom, student_lab, chromium, screens_dir):
    """The student fetches the released assignment in the Assignment List (once per
    session); returns the path of its notebook in the student's folder."""
    import jlab
    from classroom import ASSIGNMENT
    from playwright.sync_api import expect

    with watched_page_of(chromium) as page:
        jlab.open_lab(page, student_lab)
        jlab.open_assignment_list(page)
        expect(jlab.assignment_rows(page, "released").filter(has_text=ASSIGNMENT)
               ).to_have_count(1, timeout=jlab.LOAD)
        page.screenshot(path=screens_dir("tour") / "student-assignment-list-released.png")
        jlab.fetch_assignment(page, ASSIGNMENT)
        assert page.log.problems() == []
    path = classroom.student_work / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.is_file(), "fetching puts the notebook in the student's folder"
    return path
