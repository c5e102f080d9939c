"""autograder.judge: a verdict per test cell from the recordings, the seed it is given,
missing or forged recordings, and visible cases no judge can change."""

import nbformat
import numpy as np
import pytest

from autograder import checks
from autograder.audit import execute_cells
from autograder.judge import MISSING, check_calls, judge_notebook
from autograder.layout import notebook
from autograder.results import Verdict

pytestmark = pytest.mark.usefixtures("clean_checks_env")
A3 = notebook("a3_backprop")


def test_a_judge_that_changes_a_visible_case_cannot_change_the_next_students(
        doubling_check, tmp_path, monkeypatch):
    """The judge draws the visible cases once per process: each student gets a copy."""
    from autograder.judge import CheckCall, judge_call

    judged = []

    def clobbering_judge(case, outputs):
        judged.append(case["x"].copy())
        case["x"][:] = 0.0  # a judge that scribbles on its case
        return True, ""

    monkeypatch.setattr(doubling_check, "judge", clobbering_judge)
    call = CheckCall("doubles_for_test", False, 0)
    checks.write_record(tmp_path, call.key, [{"y": np.zeros(3)}] * 2)
    for seed in (1, 2):
        assert judge_call(call, tmp_path, seed) == (True, "doubles_for_test: 2 cases passed")
    visible = doubling_check.cases(checks.case_rng(call.name, False, checks.VISIBLE_SEED))
    assert len(judged) == 4 and all(np.abs(x).min() > 0 for x in judged)
    np.testing.assert_array_equal(judged[2], visible[0]["x"])


def run_recorded(nb, record_dir, seed, monkeypatch, replaced=None):
    monkeypatch.setenv(checks.RECORD_ENV, str(record_dir))
    monkeypatch.setenv(checks.SEED_ENV, str(seed))
    checks._OCCURRENCES.clear()
    errors = execute_cells(nb, replaced or {})
    monkeypatch.delenv(checks.RECORD_ENV)
    return errors


def test_judge_passes_the_reference_and_gives_a_verdict_per_test_cell(tmp_path, monkeypatch):
    nb = nbformat.read(str(A3), 4)
    assert run_recorded(nb, tmp_path, 7, monkeypatch) == []
    verdicts = judge_notebook(A3, tmp_path, 7)
    assert set(verdicts) == set(check_calls(nb))
    assert all(v.passed for v in verdicts.values()), verdicts
    assert all(type(v) is Verdict and v.message == "passed" for v in verdicts.values())


def test_judge_uses_the_seed_it_is_given(tmp_path, monkeypatch):
    nb = nbformat.read(str(A3), 4)
    run_recorded(nb, tmp_path, 7, monkeypatch)
    verdicts = judge_notebook(A3, tmp_path, 8)  # recorded with another student's seed
    assert not verdicts["test_mlp_backward"].passed
    assert "hidden check mlp_backward" in verdicts["test_mlp_backward"].message


def test_missing_recordings_fail_with_did_not_run(tmp_path, monkeypatch):
    nb = nbformat.read(str(A3), 4)
    run_recorded(nb, tmp_path, 7, monkeypatch)
    (tmp_path / "tanh_backward.1.0.npz").unlink()
    verdicts = judge_notebook(A3, tmp_path, 7)
    assert not verdicts["test_tanh_backward"].passed
    assert MISSING in verdicts["test_tanh_backward"].message
    assert verdicts["test_relu_backward"].passed


def test_a_cell_that_raises_before_its_hidden_check_fails(tmp_path, monkeypatch):
    nb = nbformat.read(str(A3), 4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_affine_forward":
            cell.source = cell.source.replace("### BEGIN HIDDEN TESTS",
                                              "raise SystemError('boom')\n### BEGIN HIDDEN TESTS")
    run_recorded(nb, tmp_path, 3, monkeypatch)
    v = judge_notebook(A3, tmp_path, 3)["test_affine_forward"]
    assert not v.passed and "did not run" in v.message


def test_forged_outputs_are_judged_against_the_truth(tmp_path, monkeypatch):
    nb = nbformat.read(str(A3), 4)
    run_recorded(nb, tmp_path, 5, monkeypatch)
    rec = checks.load_record(tmp_path, "affine_forward:1:0")
    checks.write_record(tmp_path, "affine_forward:1:0",
                        [{"out": np.zeros_like(o["out"])} for o in rec])
    v = judge_notebook(A3, tmp_path, 5)["test_affine_forward"]
    assert not v.passed and "out is wrong" in v.message
