"""A JupyterHub for the course on this machine: ``deploy/jupyterhub/jupyterhub_config.py``
run as root on free loopback ports, with the Unix accounts ``ci/provision.sh`` creates.

    with running_hub(base) as hub:          # base: an empty folder other users can traverse
        hub.login(page, "dfnn-ada")         # through the hub's own login page

Everything the hub keeps lives under ``base``: ``state/`` (the hub's database, cookie
secret, proxy pid), ``srv/exchange`` (nbgrader's exchange) and ``srv/dfnn`` (the course
folder, owned by the instructor). The accounts' homes are emptied and their passwords set
to fresh random ones at the start; on exit the hub, its proxy and every process of the
accounts are stopped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from classroom import ROOT
from conftest import free_port
from playwright.sync_api import Page, expect
from waiting import wait_until_answers

CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
PROXY = ROOT / "deploy" / "jupyterhub" / "proxy.sh"
COMMON_CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyter"
BIN = Path(sys.executable).parent
PROF, TA = "dfnn-prof", "dfnn-ta"
STUDENTS = ("dfnn-ada", "dfnn-grace", "dfnn-alan")
ACCOUNTS = (PROF, TA, *STUDENTS)
LOAD = 120_000  # ms


def missing_accounts() -> list[str]:
    out = []
    for name in ACCOUNTS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            out.append(name)
    return out


def home(user: str) -> Path:
    return Path(pwd.getpwnam(user).pw_dir)


def _path() -> str:
    return os.pathsep.join([str(BIN), os.environ.get("PATH", "/usr/bin:/bin")])


def user_env(user: str, srv: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a command of ``user`` on the hub's machine (no hub token)."""
    env = {"HOME": str(home(user)), "USER": user, "LOGNAME": user, "PATH": _path(),
           "LANG": "C.UTF-8", "NBGRADER_SRV": str(srv), "MPLBACKEND": "Agg",
           "JUPYTER_CONFIG_PATH": str(COMMON_CONFIG)}
    env.update(extra or {})
    return env


def as_user(user: str, *args: str, cwd: Path, srv: Path, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command as the Unix user ``user`` (the test runs as root)."""
    pw = pwd.getpwnam(user)
    proc = subprocess.run(list(args), cwd=cwd, env=user_env(user, srv), user=pw.pw_uid,
                          group=pw.pw_gid, extra_groups=[], capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{user}: {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def run_as_root(*args: str, cwd: Path, srv: Path,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command as root (the grader's sandbox gives each kernel a uid of its own)."""
    env = {**os.environ, "PATH": _path(), "NBGRADER_SRV": str(srv), "MPLBACKEND": "Agg",
           "JUPYTER_CONFIG_PATH": str(COMMON_CONFIG)}
    proc = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"root: {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def reset_accounts() -> dict[str, str]:
    """Empty each account's home (mode 0700) and give it a fresh random password."""
    passwords = {name: secrets.token_urlsafe(12) for name in ACCOUNTS}
    for name in ACCOUNTS:
        pw = pwd.getpwnam(name)
        path = Path(pw.pw_dir)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        path.chmod(0o700)
    subprocess.run(["chpasswd"], input="".join(f"{u}:{p}\n" for u, p in passwords.items()),
                   text=True, check=True)
    return passwords


def all_processes() -> dict[int, tuple[int, str]]:
    """{pid: (uid, command line)} of every process of the machine."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                out[int(entry.name)] = (entry.stat().st_uid, (entry / "cmdline").read_bytes()
                                        .replace(b"\0", b" ").decode(errors="replace"))
    return out


def processes_of(users=ACCOUNTS) -> list[int]:
    """Pids of every process whose owner is one of ``users``."""
    uids = {pwd.getpwnam(u).pw_uid for u in users}
    return [pid for pid, (uid, _) in all_processes().items() if uid in uids]


def _stop_pids(pids) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists()
                and "Z" not in (Path(f"/proc/{p}/stat").read_text().split()[2:3] or ["Z"])]
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float,
              ok: tuple[int, ...] = ()) -> None:
    """Wait until ``url`` answers 200 (or a status in ``ok``) while ``process`` runs."""
    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status == 200
        except urllib.error.HTTPError as e:
            return e.code in ok

    wait_until_answers(answers, process, log, timeout, " ".join(map(str, process.args)))


@dataclass
class Hub:
    base: Path
    passwords: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    proxy: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def state(self) -> Path:
        return self.base / "state"

    @property
    def srv(self) -> Path:
        return self.base / "srv"

    @property
    def exchange(self) -> Path:
        return self.srv / "exchange"

    @property
    def course(self) -> Path:
        return self.srv / "dfnn"

    @property
    def log(self) -> Path:
        return self.state / f"jupyterhub-{self.starts}.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "PATH": _path(), "NBGRADER_SRV": str(self.srv), "DFNN_HUB_STATE": str(self.state),
            "DFNN_HUB_URL": self.url.rstrip("/"),
            "DFNN_HUB_API_URL": f"http://127.0.0.1:{self.hub_api_port}",
            "DFNN_PROXY_API_URL": f"http://127.0.0.1:{self.proxy_api_port}",
            "DFNN_FORMGRADER_PORT": str(self.formgrader_port),
            "DFNN_GRADERS": f"{PROF},{TA}", "DFNN_STUDENTS": ",".join(STUDENTS),
        })
        return env

    def __post_init__(self):
        self.hub_api_port, self.proxy_api_port = free_port(), free_port()
        self.formgrader_port = free_port()

    def start(self, timeout: float = 120) -> None:
        """``deploy/jupyterhub/proxy.sh`` (the first time), then ``jupyterhub -f
        deploy/jupyterhub/jupyterhub_config.py`` in ``state/``; wait until it answers."""
        if self.proxy is None:
            with open(self.state / "proxy.log", "wb") as out:
                self.proxy = subprocess.Popen(["sh", str(PROXY)], cwd=self.state,
                                              env=self.env(), stdout=out,
                                              stderr=subprocess.STDOUT, start_new_session=True)
            _wait_for(f"http://127.0.0.1:{self.proxy_api_port}/api/routes", self.proxy,
                      self.state / "proxy.log", timeout, ok=(401, 403))
        self.starts += 1
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(CONFIG)], cwd=self.state, env=self.env(),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for(f"{self.url}hub/api", self.process, self.log, timeout)

    def stop(self) -> None:
        """Stop the hub process only (SIGTERM, as a service manager would)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop_all(self) -> None:
        """The hub, its services, the proxy and every user's server."""
        self.stop()
        if self.proxy:
            _stop_pids([self.proxy.pid])
            self.proxy.wait()
        _stop_pids(processes_of())

    def login(self, page: Page, user: str) -> None:
        """Log in through the hub's login page; wait for the user's JupyterLab."""
        self.submit_login(page, user)
        self.wait_for_lab(page, user)

    def submit_login(self, page: Page, user: str) -> None:
        """Type ``user``'s name and password in the hub's login page and press Sign in."""
        page.goto(f"{self.url}hub/login")
        page.locator("#username_input").fill(user)
        page.locator("#password_input").fill(self.passwords[user])
        page.locator("#login_submit").click()

    def wait_for_lab(self, page: Page, user: str) -> None:
        """Wait until the hub has started ``user``'s server and JupyterLab shows in it."""
        page.wait_for_url(f"{self.url}user/{user}/lab**", timeout=LOAD)
        page.wait_for_selector("#jp-main-dock-panel", timeout=LOAD)
        expect(page.locator(".jp-LabShell")).to_be_visible(timeout=LOAD)

    def user_url(self, user: str, path: str = "lab") -> str:
        return f"{self.url}user/{user}/{path}"


def prepare(base: Path) -> Hub:
    """Lay out the hub's folders and the course (owned by the instructor); stop what a
    previous run left running in the accounts, and reset them."""
    _stop_pids(processes_of())
    base.chmod(0o755)
    hub = Hub(base, reset_accounts())
    hub.state.mkdir(mode=0o700)
    hub.srv.mkdir()
    hub.exchange.mkdir()
    hub.exchange.chmod(0o777)  # as nbgrader's docs say: students create their submissions
    hub.course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", hub.course)
    shutil.copytree(ROOT / "source", hub.course / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    prof = pwd.getpwnam(PROF)
    for path in [hub.course, *hub.course.rglob("*")]:
        os.chown(path, prof.pw_uid, prof.pw_gid)
    return hub


@contextlib.contextmanager
def running_hub(base: Path):
    hub = prepare(base)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop_all()
        for name in ACCOUNTS:  # no password is left that would let anyone in
            subprocess.run(["usermod", "--lock", name], check=True)
