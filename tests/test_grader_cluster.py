"""A real Dask cluster of separate processes, and a run that stops before the end.

The cluster is what the README tells an instructor to start: ``dask scheduler`` and
``dask worker`` commands (here on loopback TCP, as separate OS processes started by
:mod:`fixtures.grader.dask_processes`), graded through with
``python -m autograder grade --scheduler tcp://...``. Every gradebook is compared with
the one the local pool gives for the same submissions. Then the failures: a worker
killed mid-batch, the scheduler unreachable or killed mid-run, workers that cannot
grade (no bubblewrap, another version of ``course``), and Ctrl-C during a local run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from fixtures.grader import gradertools as gt
from fixtures.grader.dask_processes import ProcessCluster, worker_env

from autograder.config import STATE_DIR
from autograder.grade import grade

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

WRONG_RELU = "def relu(z):\n    return np.abs(z)\n\n\ndef relu_grad(z):\n    return 1 + 0 * z\n"
EXIT_TANH = ("import os\n\n\ndef tanh(z):\n    os._exit(3)\n\n\n"
             "def tanh_grad(z):\n    return 1 - np.tanh(z) ** 2\n")
VARIANTS = {"ada": {}, "bo": {"relu_solution": WRONG_RELU}, "cy": {"tanh_solution": EXIT_TANH}}


def submit_class(course: Path, n: int) -> dict[str, str]:
    """Submit ``n`` students, the variants in turn; return {student: variant}."""
    names = list(VARIANTS)
    students = {f"{names[i % len(names)]}{i:02d}": names[i % len(names)] for i in range(n)}
    for student, variant in students.items():
        gt.submit(course, student, gt.student_notebook(course, VARIANTS[variant]))
    return students


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return gt.shared_template(tmp_path_factory)


@pytest.fixture(scope="module")
def reference(template, tmp_path_factory):
    """{variant: scores per cell} from the local pool, the gradebook to be matched."""
    course = gt.new_course(template, tmp_path_factory.mktemp("local") / "course")
    for variant, overrides in VARIANTS.items():
        gt.submit(course, variant, gt.student_notebook(course, overrides))
    results = grade("ps1", root=course, workers=2, progress=False)
    assert [r.status for r in results] == ["graded"] * len(VARIANTS)
    scores = gt.scores(course)
    assert scores["ada"] == gt.POINTS and scores["bo"]["test_relu"] == 0
    assert scores["cy"]["test_tanh"] == 0
    return scores


def expected(students: dict[str, str], reference) -> dict[str, dict[str, float]]:
    return {s: reference[v] for s, v in students.items()}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes (killed by the last test)."""
    cluster = ProcessCluster(tmp_path_factory.mktemp("two-workers"))
    try:
        cluster.start_scheduler()
        cluster.start_worker("w0")
        cluster.start_worker("w1")
        cluster.wait_for_workers(2)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def cluster(tmp_path):
    c = ProcessCluster(tmp_path / "cluster")
    yield c
    c.close()


def cli(course: Path, *args: str, **kw) -> subprocess.Popen:
    """``python -m autograder grade ps1`` on ``course``, in a session of its own."""
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", "ps1", "--root",
                             str(course), "--no-progress", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=worker_env(),
                            start_new_session=True, **kw)


def finish(p: subprocess.Popen) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=900)
    return p.returncode, out, err


def state_files(course: Path) -> set[str]:
    return {p.stem for p in (course / STATE_DIR / "state" / "ps1").glob("*.json")}


def wait_for_first_graded(course: Path, p: subprocess.Popen) -> None:
    while not state_files(course):
        if p.poll() is not None:
            raise AssertionError("the run ended before any student was graded:\n"
                                 + "".join(p.communicate()))
        time.sleep(0.05)


def worker_addresses(cluster: ProcessCluster) -> dict[str, str]:
    """{worker name: address} as the scheduler knows them."""
    from distributed import Client

    with Client(cluster.address, set_as_default=False, timeout="30s") as c:
        return {w["name"]: a for a, w in c.scheduler_info()["workers"].items()}


def test_process_cluster_gives_the_local_gradebook(template, tmp_path, reference, two_workers):
    course = gt.new_course(template, tmp_path / "course")
    students = submit_class(course, 6)
    code, out, err = finish(cli(course, "--scheduler", two_workers.address))
    assert code == 0, out + err
    assert gt.scores(course) == expected(students, reference)
    assert out.count(" graded ") == len(students)
    assert "refused" not in out + err and "died" not in out


def test_a_worker_killed_mid_batch(template, tmp_path, reference, two_workers):
    """SIGKILL a worker (its nanny too) while it grades: Dask runs its students again on
    the other worker; each student has one result, and the summary says so."""
    from distributed import Client

    course = gt.new_course(template, tmp_path / "course")
    students = submit_class(course, 9)
    names = {a: n for n, a in worker_addresses(two_workers).items()}
    p = cli(course, "--scheduler", two_workers.address)
    wait_for_first_graded(course, p)
    with Client(two_workers.address, set_as_default=False, timeout="30s") as c:
        while not (busy := [a for a, keys in c.processing().items() if keys]):
            assert p.poll() is None, "the run ended before a worker could be killed"
            time.sleep(0.05)
    victim = busy[0]
    two_workers.kill(two_workers.names[names[victim]])
    code, out, err = finish(p)
    assert code == 0, out + err
    assert gt.scores(course) == expected(students, reference)
    assert state_files(course) == set(students)
    rows = [line.split()[0] for line in out.splitlines() if " graded " in line]
    assert sorted(rows) == sorted(students)  # one result each, none twice
    note = next(line for line in out.splitlines() if line.startswith(f"worker {victim} died"))
    regraded = note.split(": ", 1)[1].split(", ")
    assert f"; {len(regraded)} student(s) regraded on other workers" in note
    assert set(regraded) <= set(students)


def test_scheduler_unreachable(template, tmp_path):
    course = gt.new_course(template, tmp_path / "course")
    submit_class(course, 2)
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]  # closed again: nothing listens there
    address = f"tcp://127.0.0.1:{port}"
    code, out, err = finish(cli(course, "--scheduler", address))
    assert code == 2
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert "Traceback" not in err, err
    assert gt.scores(course) == {} and not state_files(course)
    assert not (course / "autograded").exists()


def test_scheduler_killed_mid_run_then_rerun(template, tmp_path, reference, cluster):
    course = gt.new_course(template, tmp_path / "course")
    students = submit_class(course, 6)
    first = cluster.start_scheduler()
    cluster.start_worker("w0")
    cluster.wait_for_workers(1)
    p = cli(course, "--scheduler", first)
    wait_for_first_graded(course, p)
    cluster.kill(cluster.scheduler)
    code, out, err = finish(p)
    assert code == 2, out + err
    assert f"lost the connection to the Dask scheduler at {first}" in err
    assert "Traceback" not in err, err
    graded = state_files(course)
    left = set(students) - graded
    assert graded and left
    assert f"{len(graded)} student(s) graded and kept in the gradebook, {len(left)} left" in err
    # what is in the gradebook is complete: the students graded, and only them
    assert gt.scores(course) == expected({s: students[s] for s in graded}, reference)

    cluster.close()
    second = cluster.start_scheduler()
    cluster.start_worker("w1")
    cluster.wait_for_workers(1)
    code, out, err = finish(cli(course, "--scheduler", second))
    assert code == 0, out + err
    assert f"graded: {len(left)}  skipped (unchanged): {len(graded)}" in out
    assert gt.scores(course) == expected(students, reference)


def outdated_course(tmp: Path) -> Path:
    """A copy of the course package whose relu is wrong: another version, on a worker."""
    import course as package

    old = tmp / "old"
    shutil.copytree(Path(package.__file__).parent, old / "course",
                    ignore=shutil.ignore_patterns("__pycache__", "chapters"))
    activations = old / "course" / "activations.py"
    activations.write_text(activations.read_text() + "\n\ndef relu(z):\n    return z\n")
    return old


def test_workers_that_cannot_grade_are_refused(template, tmp_path, reference, cluster):
    """A worker without bubblewrap (bwrap not on its PATH) and one with an outdated
    ``course`` are named and get no student (either would change a grade)."""
    venv_only = {**worker_env(), "PATH": str(Path(sys.executable).parent)}
    assert shutil.which("bwrap", path=venv_only["PATH"]) is None
    cluster.start_scheduler()
    good = cluster.start_worker("good")
    cluster.start_worker("no-bwrap", env=venv_only)
    cluster.start_worker("old-course",
                         env=worker_env(PYTHONPATH=str(outdated_course(tmp_path))))
    cluster.wait_for_workers(3)
    address = worker_addresses(cluster)
    course = gt.new_course(template, tmp_path / "course")
    students = submit_class(course, 6)
    code, out, err = finish(cli(course, "--scheduler", cluster.address))
    assert code == 0, out + err
    assert gt.scores(course) == expected(students, reference)
    assert f"worker {address['no-bwrap']} refused" in err
    assert "bwrap" in err.split(address["no-bwrap"], 1)[1].splitlines()[0]
    assert f"worker {address['old-course']} refused" in err
    assert "`course` package differs" in err.split(address["old-course"], 1)[1].splitlines()[0]
    assert f"worker {address['good']} refused" not in err
    notes = out.split("graded: 6", 1)[1]  # under the summary table, again
    assert f"worker {address['no-bwrap']} refused: no sandbox" in notes
    assert f"worker {address['old-course']} refused: its `course` package differs" in notes

    cluster.kill(good)  # no worker left that can grade: stop before anything is written
    from distributed import Client

    with Client(cluster.address, set_as_default=False, timeout="30s") as c:
        while address["good"] in c.nthreads():
            time.sleep(0.1)
    fresh = gt.new_course(template, tmp_path / "fresh")
    submit_class(fresh, 2)
    code, out, err = finish(cli(fresh, "--scheduler", cluster.address))
    assert code == 2, out + err
    assert f"no worker of the Dask cluster at {cluster.address} can grade" in err
    assert address["no-bwrap"] in err and address["old-course"] in err
    assert gt.scores(fresh) == {} and not state_files(fresh)


def processes(found) -> list[psutil.Process]:
    out = []
    for pid, _ in found:
        try:
            out.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    return out


def test_ctrl_c_stops_cleanly_and_a_rerun_continues(template, tmp_path, reference):
    """Ctrl-C in a terminal: SIGINT to the command and every process of its group."""
    course = gt.new_course(template, tmp_path / "course")
    students = submit_class(course, 8)
    with gt.adopting_orphans():
        before = set(gt.descendants())  # a module fixture's cluster, say
        p = cli(course, "--workers", "2")
        wait_for_first_graded(course, p)
        os.killpg(p.pid, signal.SIGINT)
        code, out, err = finish(p)
        _, alive = psutil.wait_procs(processes(set(gt.descendants()) - before), timeout=30)
    assert code == 130, out + err
    graded = state_files(course)
    left = set(students) - graded
    assert graded and left
    # one line, no traceback from the command or its workers
    assert err.splitlines() == [
        f"autograder: interrupted (Ctrl-C): {len(graded)} student(s) graded and kept in the "
        f"gradebook, {len(left)} left to grade; run the same command again to grade them "
        "(students already graded are skipped)"], err
    assert gt.scores(course) == expected({s: students[s] for s in graded}, reference)
    assert not alive, "processes of the interrupted run are still running"

    code, out, err = finish(cli(course, "--workers", "2"))
    assert code == 0, out + err
    assert f"graded: {len(left)}  skipped (unchanged): {len(graded)}" in out
    assert gt.scores(course) == expected(students, reference)


def test_a_killed_grader_leaves_no_worker_behind_and_a_rerun_continues(template, tmp_path,
                                                                       reference):
    """SIGKILL to the grader's process alone (a batch system's time limit, an OOM killer):
    its workers and their sandboxes end within seconds instead of waiting for work
    forever, and rerunning grades the students left."""
    course = gt.new_course(template, tmp_path / "course")
    students = submit_class(course, 8)
    with gt.adopting_orphans():
        before = set(gt.descendants())
        p = cli(course, "--workers", "2")
        wait_for_first_graded(course, p)
        left_behind = processes(set(gt.descendants()) - before)
        assert len(left_behind) > 2  # the command, its workers, their sandboxes
        p.kill()
        p.wait()
        _, alive = psutil.wait_procs(left_behind, timeout=15)
    assert not alive, [a.cmdline() for a in alive]
    code, out, err = finish(cli(course, "--workers", "2"))
    assert code == 0, out + err
    assert gt.scores(course) == expected(students, reference)
