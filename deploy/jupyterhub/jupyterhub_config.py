# JupyterHub for the course on one machine: local Unix accounts, one server per user.
#
#   cd /srv/jupyterhub && sudo env PATH="$REPO/.venv/bin:$PATH" \
#       "$REPO/.venv/bin/jupyterhub" -f "$REPO/deploy/jupyterhub/jupyterhub_config.py"
#
# ($REPO: this repository) as root, from the folder that keeps the hub's state (the
# README's "On a JupyterHub" has the whole recipe). The settings read from environment
# variables can be moved, so tests/browser/test_hub.py runs this very file on free
# loopback ports in a temporary folder.
#
# - users log in with their Unix password (PAM) and get their own JupyterLab, started as
#   their Unix user by LocalProcessSpawner in their home folder;
# - students (hub group nbgrader-dfnn) run with docs/student-config/ (no Formgrader,
#   Create Assignment, Course List); everyone gets deploy/jupyterhub/jupyter/ (the
#   exchange at $NBGRADER_SRV/exchange, path_includes_course, JupyterHubAuthPlugin);
# - graders (hub group formgrade-dfnn: the instructor and the TAs) share one formgrader,
#   the hub service "dfnn" at /services/dfnn/, which runs as the course owner (the first
#   grader) in the course folder $NBGRADER_SRV/dfnn;
# - jupyterhub-idle-culler stops servers idle for $DFNN_CULL_SECONDS (default one hour);
# - stopping the hub leaves the proxy (deploy/jupyterhub/proxy.sh, run apart) and the
#   users' servers running: a restarted hub finds them again (its database and cookie
#   secret live in $DFNN_HUB_STATE).
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STUDENT_CONFIG = REPO / "docs" / "student-config"
COMMON_CONFIG = HERE / "jupyter"
BIN = Path(sys.executable).parent

COURSE = "dfnn"
SRV = Path(os.environ.get("NBGRADER_SRV", "/srv/nbgrader"))
STATE = Path(os.environ.get("DFNN_HUB_STATE", "/srv/jupyterhub"))
GRADERS = os.environ.get("DFNN_GRADERS", "dfnn-prof,dfnn-ta").split(",")
STUDENTS = os.environ.get("DFNN_STUDENTS", "dfnn-ada,dfnn-grace,dfnn-alan").split(",")
OWNER = GRADERS[0]  # owns the course folder; the shared formgrader runs as this account
FORMGRADER_PORT = int(os.environ.get("DFNN_FORMGRADER_PORT", "9999"))

# ------------------------------------------------------------------------- network, state
c.JupyterHub.bind_url = os.environ.get("DFNN_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_bind_url = os.environ.get("DFNN_HUB_API_URL", "http://127.0.0.1:8081")
c.ConfigurableHTTPProxy.api_url = os.environ.get("DFNN_PROXY_API_URL",
                                                 "http://127.0.0.1:8001")
# The proxy runs apart (deploy/jupyterhub/proxy.sh, started first), so a restart of the
# hub keeps every route; the two share the token proxy.sh keeps in the state folder.
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.auth_token = (STATE / "proxy_auth_token").read_text().strip()
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# A restart of the hub (an upgrade, a new roster) must not stop anyone's work.
c.JupyterHub.cleanup_servers = False

# ------------------------------------------------------------------------- who logs in
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(GRADERS + STUDENTS)
c.JupyterHub.load_groups = {
    f"nbgrader-{COURSE}": {"users": STUDENTS},
    f"formgrade-{COURSE}": {"users": GRADERS},
}
c.JupyterHub.load_roles = [
    # nbgrader's JupyterHubAuthPlugin asks the hub for the user's groups with the
    # server's token; the default server role cannot read them.
    {"name": "server", "scopes": ["users:activity!user", "access:servers!server",
                                  "read:users:name!user", "read:users:groups!user"]},
    {"name": f"formgrade-{COURSE}", "groups": [f"formgrade-{COURSE}"],
     "scopes": [f"access:services!service={COURSE}"]},
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": f"{COURSE}-formgrader", "services": [COURSE],
     # formgrader's Manage Students adds a student to the group nbgrader-dfnn
     "scopes": ["list:users", "read:users:name", "read:users:groups", "list:groups",
                "groups"]},
]

# ------------------------------------------------------------------------- users' servers
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
# The server of each user needs no internet: no news (nor the question whether to fetch
# them: lab-settings/overrides.json), no update check.
c.Spawner.args = ["--LabApp.news_url=",
                  "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                  f"--LabApp.app_settings_dir={HERE / 'lab-settings'}"]
# nbgrader runs tools of the environment (alembic) by name.
PATH = f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
c.Spawner.environment = {"PATH": PATH, "NBGRADER_SRV": str(SRV)}
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120


def apply_student_config(spawner):
    """Everyone reads deploy/jupyterhub/jupyter/; students also docs/student-config/."""
    paths = [str(COMMON_CONFIG)]
    if spawner.user.name in STUDENTS:
        paths.append(str(STUDENT_CONFIG))
    spawner.environment = {**spawner.environment,
                           "JUPYTER_CONFIG_PATH": os.pathsep.join(paths)}


c.Spawner.pre_spawn_hook = apply_student_config

# ------------------------------------------------------------------------- services
c.JupyterHub.services = [
    {   # one formgrader for every grader of the course, as nbgrader's hub docs describe
        "name": COURSE,
        "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
        "command": [sys.executable, "-m", "jupyterhub.singleuser",
                    f"--ServerApp.port={FORMGRADER_PORT}", "--ServerApp.ip=127.0.0.1",
                    f"--ServerApp.root_dir={SRV / COURSE}", *c.Spawner.args],
        "user": OWNER,
        "cwd": str(SRV / COURSE),
        "environment": {"PATH": PATH, "NBGRADER_SRV": str(SRV),
                        "JUPYTER_CONFIG_PATH": str(COMMON_CONFIG),
                        "JUPYTERHUB_DEFAULT_URL": "/lab"},
        "oauth_no_confirm": True,
    },
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={os.environ.get('DFNN_CULL_SECONDS', '3600')}"],
    },
]
