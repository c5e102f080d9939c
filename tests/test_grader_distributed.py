"""Beyond one machine: a Dask cluster runs the sandboxes, PostgreSQL holds the gradebook.

Both give the same grades as the default (local process pool, SQLite gradebook). The
PostgreSQL server is started by the test (initdb + pg_ctl, loopback port, as the
unprivileged ``postgres`` user when run as root). The test is skipped only when the
server binaries are absent and ``CI`` is not set; in CI it fails instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from fixtures.grader import gradertools as gt

from autograder.grade import grade

pytestmark = pytest.mark.sandbox

WRONG_RELU = "def relu(z):\n    return np.abs(z)\n\n\ndef relu_grad(z):\n    return 1 + 0 * z\n"
EXIT_TANH = ("import os\n\n\ndef tanh(z):\n    os._exit(3)\n\n\n"
             "def tanh_grad(z):\n    return 1 - np.tanh(z) ** 2\n")


def submit_class(course: Path) -> None:
    gt.submit(course, "ada")
    gt.submit(course, "bo", gt.student_notebook(course, {"relu_solution": WRONG_RELU}))
    gt.submit(course, "cy", gt.student_notebook(course, {"tanh_solution": EXIT_TANH}))
    gt.submit(course, "di", raw=b"{oops")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return gt.shared_template(tmp_path_factory)


@pytest.fixture(scope="module")
def local_scores(template, tmp_path_factory):
    course = gt.new_course(template, tmp_path_factory.mktemp("local") / "course")
    submit_class(course)
    results = grade("ps1", root=course, workers=2, progress=False)
    assert [r.status for r in results] == ["graded"] * 4
    scores = gt.scores(course)
    assert scores["ada"] == {"test_sigmoid": 2.0, "test_relu": 3.0, "test_tanh": 1.0}
    assert scores["bo"]["test_relu"] == 0 and scores["cy"]["test_tanh"] == 0
    return scores


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as c:
        yield c.scheduler_address


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if found:
        return Path(found[0]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which and shutil.which("initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on a loopback port; yields a db URL."""
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing in CI: "
                        "run ci/provision.sh")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    d = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    os.chmod(d, 0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("no unprivileged 'postgres' user to run the server as: run "
                        "ci/provision.sh (the Debian postgresql package creates it)")
        os.chown(d, pw.pw_uid, pw.pw_gid)
        as_user = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                   "--clear-groups", "--"]
    port = _free_port()
    data = d / "data"
    subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                              "-U", "postgres", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(d / "log"),
                              "-w", "-o", f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -F",
                              "start"], check=True, capture_output=True)
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        # SQLAlchemy >= 2.1 reads postgresql:// as psycopg 3; the project ships psycopg2.
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                  "stop"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def test_dask_cluster_gives_the_same_grades(template, tmp_path, local_scores, cluster):
    course = gt.new_course(template, tmp_path / "course")
    submit_class(course)
    results = grade("ps1", root=course, scheduler=cluster, progress=False)
    assert [r.status for r in results] == ["graded"] * 4
    assert gt.scores(course) == local_scores
    assert (course / "autograded" / "bo" / "ps1" / "ps1.ipynb").is_file()


def test_postgresql_gradebook_on_dask_gives_the_same_grades(template, tmp_path, local_scores,
                                                           cluster, postgres):
    course = gt.new_course(template, tmp_path / "course")
    (course / "gradebook.db").unlink()  # the gradebook lives on the server only
    gt.nbgrader(course, "generate_assignment", "ps1", "--force", "--db", postgres)
    submit_class(course)
    plain_url = postgres.replace("+psycopg2", "")  # the grader accepts the usual spelling
    results = grade("ps1", root=course, scheduler=cluster, db_url=plain_url, progress=False)
    assert [r.status for r in results] == ["graded"] * 4
    assert not (course / "gradebook.db").exists()
    assert gt.scores(course, db_url=postgres) == local_scores
    # nbgrader's own tools read the same gradebook.
    out = gt.nbgrader(course, "export", "--db", postgres, "--to", str(tmp_path / "g.csv"))
    assert out.returncode == 0
    assert "ada" in (tmp_path / "g.csv").read_text()
