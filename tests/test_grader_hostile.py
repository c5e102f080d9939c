"""A class of hostile submissions, graded once by the real grader (sandbox + real judge).

Each test then checks one student's result: the grade it deserves, its message, and
that nothing it did reached the grader, the gradebook or the other students.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import nbformat
import pytest
from fixtures.grader import gradertools as gt

from autograder.grade import grade

pytestmark = pytest.mark.sandbox

WRONG = {
    "sigmoid_solution": "def sigmoid(z):\n    return 0.5 + 0 * z\n\n\n"
                        "def sigmoid_grad(z):\n    return 0.25 + 0 * z\n",
    "relu_solution": "def relu(z):\n    return np.abs(z)\n\n\n"
                     "def relu_grad(z):\n    return np.ones_like(z)\n",
    "tanh_solution": "def tanh(z):\n    return z\n\n\ndef tanh_grad(z):\n    return 1 + 0 * z\n",
}
FULL = {"test_sigmoid": 2.0, "test_relu": 3.0, "test_tanh": 1.0}


def without(*zero):
    return {k: (0.0 if k in zero else v) for k, v in FULL.items()}


def _probe(paths: list[str], mode: str) -> str:
    return (
        "import os\n"
        f"for _p in {paths!r}:\n"
        "    try:\n"
        f"        with open(_p, {mode!r}) as _f:\n"
        "            _f.read() if 'r' in _f.mode else _f.write('x')\n"
        "        print('GOT', _p)\n"
        "    except Exception as _e:\n"
        "        print('DENIED', type(_e).__name__)\n"
    )


def build_class(course: Path, port: int) -> dict[str, dict]:
    """Submit every hostile notebook; return student -> expected scores (or None)."""
    nb = lambda **kw: gt.student_notebook(course, **kw)  # noqa: E731
    expected = {}

    def add(student, notebook=None, scores=FULL, **kw):
        gt.submit(course, student, notebook, **kw)
        expected[student] = scores

    add("good")
    add("wrong_sigmoid", nb(overrides={"sigmoid_solution": WRONG["sigmoid_solution"]}),
        without("test_sigmoid"))
    add("patch_numpy", nb(overrides={"sigmoid_solution": WRONG["sigmoid_solution"]}, prelude=(
        "import numpy.testing\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.testing.assert_array_almost_equal = lambda *a, **k: None\n")),
        without("test_sigmoid"))
    add("swallow_errors", nb(overrides={"relu_solution": WRONG["relu_solution"]}, prelude=(
        "ip = get_ipython()\n"
        "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "ip.showtraceback = lambda *a, **k: None\n")),
        without("test_relu"))
    add("patch_checks", nb(overrides={"tanh_solution": WRONG["tanh_solution"]}, prelude=(
        "checks.tanh = lambda *a, **k: None\n"
        "import builtins\n"
        "builtins.AssertionError = type('AssertionError', (Exception,), {})\n")),
        without("test_tanh"))
    secrets = [str(course / "source" / "ps1" / "ps1.ipynb"), str(course / "gradebook.db"),
               str(course / "submitted" / "good" / "ps1" / "ps1.ipynb"),
               str(course / "autograded" / "good" / "ps1" / "ps1.ipynb"),
               str(course / "nbgrader_config.py")]
    add("snoop", nb(prelude=_probe(secrets, "rb") + (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
        "    print('GOT network')\n"
        "except OSError as _e:\n"
        "    print('DENIED', type(_e).__name__)\n")))
    add("vandal", nb(prelude=(
        _probe([str(course / "gradebook.db"),
                str(course / "submitted" / "good" / "ps1" / "ps1.ipynb"),
                str(Path(gt.__file__)), "/etc/passwd"], "a")
        + "import sqlite3\n"
        f"try:\n    sqlite3.connect({str(course / 'gradebook.db')!r}).execute(\n"
        "        'update grade set manual_score = 100')\n    print('GOT sqlite')\n"
        "except Exception as e:\n    print('DENIED', type(e).__name__)\n"
        "open('/tmp/scratch.txt', 'w').write('my own /tmp is fine')\n")))
    add("infinite_loop", nb(overrides={"sigmoid_solution": (
        "def sigmoid(z):\n    while True:\n        pass\n\n\n"
        "def sigmoid_grad(z):\n    return z\n")}), without("test_sigmoid"))
    add("stubborn_loop", nb(overrides={"relu_solution": (
        "def relu(z):\n    while True:\n        try:\n            while True:\n"
        "                pass\n        except BaseException:\n            pass\n\n\n"
        "def relu_grad(z):\n    return z\n")}), without("test_relu"))
    add("exit_kernel", nb(overrides={"relu_solution": (
        "import os\n\n\ndef relu(z):\n    return np.maximum(z, 0)\n\n\n"
        "def relu_grad(z):\n    os._exit(1)\n")}), without("test_relu"))
    add("eat_memory", nb(overrides={"tanh_solution": (
        "def tanh(z):\n    hog = bytearray(6 * 2**30)\n    return np.tanh(z)\n\n\n"
        "def tanh_grad(z):\n    return 1 - np.tanh(z) ** 2\n")}), without("test_tanh"))
    add("spawn_processes", nb(prelude=(
        "import subprocess\nkids = []\nfor _ in range(50):\n    try:\n"
        "        kids.append(subprocess.Popen(['sleep', '1000']))\n"
        "    except OSError as e:\n        print('refused', e)\n        break\n"
        "print('spawned', len(kids))\n")))
    add("print_flood", nb(prelude=(
        "import sys\nfor _ in range(60):\n    sys.stdout.write('x' * 2**20)\n")))
    add("fill_disk", nb(overrides={"tanh_solution": (
        "import os\n\n\ndef tanh(z):\n    for i in range(10):  # 600 MB, once\n"
        "        if not os.path.exists(f'junk{i}.bin'):\n"
        "            with open(f'junk{i}.bin', 'wb') as f:\n"
        "                f.write(os.urandom(60 * 2**20))\n    return np.tanh(z)\n\n\n"
        "def tanh_grad(z):\n    return 1 - np.tanh(z) ** 2\n")}), without("test_tanh"))
    add("invalid_json", raw=b'{"cells": [', scores=without(*FULL))
    add("empty_file", raw=b"", scores=without(*FULL))
    add("not_a_notebook", raw=b"[1, 2, 3]", scores=without(*FULL))
    add("renamed", name="ps1 (1).ipynb")
    deleted = nb()
    deleted.cells = [c for c in deleted.cells if _gid(c) != "test_relu"]
    add("deleted_cell", deleted)
    dup = nb()
    i = next(k for k, c in enumerate(dup.cells) if _gid(c) == "test_sigmoid")
    dup.cells.insert(i + 1, nbformat.from_dict(json.loads(json.dumps(dup.cells[i]))))
    add("duplicated_cell", dup)
    retyped = nb()
    for c in retyped.cells:
        if _gid(c) == "test_tanh":
            c.cell_type = "markdown"
            del c["outputs"], c["execution_count"]
    add("retyped_cell", retyped)
    edited = nb(overrides={"sigmoid_solution": WRONG["sigmoid_solution"],
                           "test_sigmoid": "print('all tests passed')"})
    add("edited_test", edited, without("test_sigmoid"))
    # A record forged to make the (trusted) judge allocate without bound: the judge's
    # worker is capped, the check counts as not run, the batch goes on.
    add("forged_record", nb(prelude=(
        "import os\n"
        "_k = checks.record_key('sigmoid', False, 0)\n"
        "_p = str(checks.record_path(os.environ['AUTOGRADER_RECORD_DIR'], _k))\n"
        "os.makedirs(os.path.dirname(_p), exist_ok=True)\n"
        "np.savez(_p[:-4] if _p.endswith('.npz') else _p, __key__=np.array(_k),\n"
        "         __ncases__=np.array(10**10))\n"
        "checks.sigmoid = lambda *a, **k: None\n")), without("test_sigmoid"))
    forged = nb()
    forged.cells.append(nbformat.v4.new_code_cell("print('bonus')", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus_points", "locked": True, "points": 50,
        "schema_version": 3, "solution": False, "task": False}}))
    for c in forged.cells:
        if _gid(c) == "relu_solution":  # claims more points, an old schema
            c.metadata["nbgrader"].update(grade=True, points=40, schema_version=1)
    add("forged_metadata", forged)
    return expected


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    course = gt.new_course(gt.shared_template(tmp_path_factory), base / "course")
    with socket.create_server(("127.0.0.1", 0)) as listener, gt.adopting_orphans():
        expected = build_class(course, listener.getsockname()[1])  # a port reachable outside
        results = {r.student: r for r in grade("ps1", root=course, workers=2,
                                               progress=False)}
        survivors = gt.descendants()
    return gt.GradedClass(course, results, gt.scores(course), expected, survivors)


def outputs_text(course: Path, student: str) -> str:
    path = course / "autograded" / student / "ps1" / "ps1.ipynb"
    nb = nbformat.read(path, 4)
    return "\n".join(json.dumps(c.get("outputs", [])) for c in nb.cells)


def test_every_submission_gets_a_result(graded):
    assert set(graded.results) == set(graded.expected)
    assert all(r.status == "graded" for r in graded.results.values()), \
        {s: r.messages for s, r in graded.results.items() if r.status != "graded"}
    assert set(graded.scores) == set(graded.expected)


@pytest.mark.parametrize("student", [
    "good", "wrong_sigmoid", "patch_numpy", "swallow_errors", "patch_checks", "snoop",
    "vandal", "infinite_loop", "stubborn_loop", "exit_kernel", "eat_memory",
    "spawn_processes", "print_flood", "fill_disk", "invalid_json", "empty_file", "not_a_notebook",
    "renamed", "deleted_cell", "duplicated_cell", "retyped_cell", "edited_test",
    "forged_metadata", "forged_record"])
def test_grade_deserved(graded, student):
    got = {k: graded.scores[student].get(k) for k in FULL}
    assert got == graded.expected[student], graded.results[student].messages
    assert graded.results[student].score == sum(graded.expected[student].values())
    assert graded.results[student].max_score == sum(FULL.values())


def test_patched_numpy_and_swallowed_errors_do_not_fool_the_judge(graded):
    # In the kernel these students' visible tests "passed" (no error output) ...
    text = outputs_text(graded.course, "swallow_errors")
    assert "AssertionError" not in text
    # ... but the judge, outside the sandbox, failed them anyway.
    assert graded.scores["patch_numpy"]["test_sigmoid"] == 0
    assert graded.scores["swallow_errors"]["test_relu"] == 0
    assert graded.scores["patch_checks"]["test_tanh"] == 0


def test_sandbox_hides_course_files_and_network(graded):
    text = outputs_text(graded.course, "snoop")
    assert "GOT" not in text
    assert text.count("DENIED") == 6  # five files and the network
    assert "HIDDEN-MARKER" not in text


def test_sandbox_cannot_write_gradebook_or_submissions(graded):
    text = outputs_text(graded.course, "vandal")
    assert "GOT" not in text
    assert text.count("DENIED") == 5
    assert graded.scores["good"] == FULL
    assert graded.scores["vandal"] == FULL
    url = f"sqlite:///{graded.course / 'gradebook.db'}"
    with __import__("nbgrader.api").api.Gradebook(url) as gb:
        assert all(g.manual_score is None for s in gb.assignment_submissions("ps1")
                   for n in s.notebooks for g in n.grades)


def test_timeouts_deaths_and_memory_are_reported(graded):
    results = graded.results
    assert any("CellTimeout" in m or "Unresponsive" in m
               for m in results["stubborn_loop"].messages), results["stubborn_loop"].messages
    assert any("DeadKernel" in m for m in results["exit_kernel"].messages)
    assert results["infinite_loop"].tests_passed == 2
    assert any("(test_sigmoid): CellTimeoutError" in m
               for m in results["infinite_loop"].messages), results["infinite_loop"].messages


def test_a_notebook_filling_the_disk_is_stopped_at_its_quota(graded):
    assert any("DiskQuota" in m for m in graded.results["fill_disk"].messages), \
        graded.results["fill_disk"].messages
    assert "wrote more than" in outputs_text(graded.course, "fill_disk")
    assert graded.scores["fill_disk"]["test_sigmoid"] == FULL["test_sigmoid"]  # graded before it


def test_spawned_processes_die_with_the_sandbox(graded):
    text = outputs_text(graded.course, "spawn_processes")
    assert "refused" in text  # RLIMIT_NPROC holds: the sandbox does not run as root
    assert not [(pid, name) for pid, name in graded.survivors if name == "sleep"]


def test_output_flood_is_capped(graded):
    path = graded.course / "autograded" / "print_flood" / "ps1" / "ps1.ipynb"
    assert path.stat().st_size < 3 * 2**20
    assert "output beyond" in path.read_text()


@pytest.mark.parametrize("student, words", [
    ("invalid_json", "not valid JSON"),
    ("empty_file", "file is empty"),
    ("not_a_notebook", "not a Jupyter notebook"),
    ("renamed", "renamed"),
    ("deleted_cell", "'test_relu' was deleted"),
    ("duplicated_cell", "'test_sigmoid' appears 2 times"),
    ("retyped_cell", "'test_tanh' was changed from code to markdown"),
    ("edited_test", "'test_sigmoid' was edited"),
    ("forged_metadata", "grading metadata not in the assignment (bonus_points)"),
])
def test_malformed_submission_message(graded, student, words):
    messages = graded.results[student].messages
    assert any(words in m for m in messages), messages


def test_well_behaved_students_have_no_messages(graded):
    assert graded.results["good"].messages == []
    assert graded.results["good"].tests_passed == 3
