"""A failing check, seen in a student's own Jupyter kernel: the message, no grader frames."""

import re

import nbformat
import pytest

from autograder.kernel_ready import ReadyNotebookClient

ANSI = re.compile(r"\x1b\[[0-9;]*m")

WRONG_RELU = """\
import numpy as np
from autograder import checks


def relu(z):
    return np.abs(z)


def relu_grad(z):
    return (z > 0).astype(float)
"""


def run_cells(*sources, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    ReadyNotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def error_output(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0]


@pytest.fixture(autouse=True)
def interactive(monkeypatch):
    for k in ("AUTOGRADER_RECORD_DIR", "AUTOGRADER_SEED", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)


def test_a_failing_check_shows_its_message_first_and_no_grader_frames(tmp_path):
    nb = run_cells(WRONG_RELU, "checks.relu(relu, relu_grad)", tmp_path=tmp_path)
    err = error_output(nb.cells[1])
    text = ANSI.sub("", "\n".join(err.traceback))
    assert err.ename == "CheckFailed"
    assert text.splitlines()[0].startswith("CheckFailed: relu, case 1 of 6")
    assert "relu(z) is wrong" in text.splitlines()[0]
    assert "autograder/" not in text and "site-packages" not in text
    assert "Traceback" not in text


def test_a_failing_check_is_an_assertion_error_for_pytest_and_nbgrader(tmp_path):
    nb = run_cells(WRONG_RELU, "try:\n    checks.relu(relu, relu_grad)\n"
                   "except AssertionError as e:\n    print('caught', type(e).__name__)",
                   tmp_path=tmp_path)
    assert nb.cells[1].outputs[0].text.strip() == "caught CheckFailed"


def test_a_passing_check_prints_its_result(tmp_path):
    nb = run_cells("import numpy as np\nfrom autograder import checks\n"
                   "def relu(z):\n    return np.maximum(z, 0)\n"
                   "def relu_grad(z):\n    return (z > 0).astype(float)\n"
                   "checks.relu(relu, relu_grad)", tmp_path=tmp_path)
    assert nb.cells[0].outputs[0].text.strip() == "relu: 6 cases passed"


def test_a_misused_check_hides_grader_frames_too(tmp_path):
    nb = run_cells(WRONG_RELU, "checks.relu(relu)", tmp_path=tmp_path)
    text = ANSI.sub("", "\n".join(error_output(nb.cells[1]).traceback))
    assert "checks.relu takes 2 function(s): f, f_grad" in text
    assert "autograder/" not in text
