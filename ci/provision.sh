#!/bin/sh
# System packages the grader needs (Debian/Ubuntu). Idempotent: installs only what is
# missing and exits 0 when everything is already there. Run as root (CI) or with sudo.
#   bubblewrap  - the sandbox (bwrap) around student kernels
#   util-linux  - prlimit (resource limits) and setpriv (unprivileged uid per sandbox)
#   procps      - pgrep, used by the grader's tests
#   chromium    - the browser of the browser tests (driven by Playwright for Python;
#                 Playwright's own browser download is never used)
#   postgresql  - server binaries for the PostgreSQL gradebook test (initdb, pg_ctl);
#                 the Debian package also creates the unprivileged `postgres` user.
#   nodejs, npm - configurable-http-proxy (npm), the proxy of the JupyterHub test
# and the Unix accounts of that test (deploy/jupyterhub/): an instructor, a TA and three
# students, with private homes and no password (the test sets one for each run).
set -eu

need=""
command -v bwrap >/dev/null 2>&1 || need="$need bubblewrap"
{ command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; } \
    || need="$need util-linux"
command -v pgrep >/dev/null 2>&1 || need="$need procps"
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need="$need postgresql"
command -v chromium >/dev/null 2>&1 || need="$need chromium fonts-dejavu-core"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"

if [ -n "$need" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
            echo "provision: the tests need these system packages:$need" >&2
            echo "provision: install them with your package manager (as root), then rerun." >&2
            exit 1
        fi
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $need
fi

if ! command -v configurable-http-proxy >/dev/null 2>&1; then
    ${SUDO:-} npm install --global --no-fund --no-audit --loglevel=error configurable-http-proxy
fi

if [ "$(id -u)" -eq 0 ]; then
    for user in dfnn-prof dfnn-ta dfnn-ada dfnn-grace dfnn-alan; do
        id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
        chmod 700 "$(getent passwd "$user" | cut -d: -f6)"
    done
    # The hub starts each user's server with the course environment (.venv) and this
    # repository's files: both must be reachable by every account. A Python installed
    # under root's home (pyenv as root) or a checkout there is not, until the folders
    # above it may be traversed (o+x: entered, not listed).
    for path in "$(pwd -P)" "$(readlink -f .venv/bin/python 2>/dev/null || true)"; do
        dir=$path
        while [ -n "$dir" ] && [ "$dir" != "/" ]; do
            [ ! -d "$dir" ] || [ "$(stat -c %A "$dir" | cut -c10)" != "-" ] \
                || chmod o+x "$dir"
            dir=$(dirname "$dir")
        done
    done
else
    echo "provision: not root: the JupyterHub test's accounts (dfnn-*) are not created" >&2
fi

# Unprivileged user namespaces are not needed when the grader runs as root (CI); a
# non-root grader needs them for bwrap. Check that bwrap works here at all.
bwrap --ro-bind / / --unshare-net --unshare-pid --proc /proc --dev /dev true \
    || { echo "provision: bwrap is installed but cannot create a sandbox" >&2; exit 1; }
echo "provision: grader dependencies present (bwrap, prlimit, setpriv, pgrep, postgresql, chromium,"
echo "provision: configurable-http-proxy, the dfnn-* accounts of the JupyterHub test)"
