"""Seeds: the visible cases' fixed seed, each student's hidden seed
(:func:`autograder.seeds.student_seed`) and the cases drawn from it."""

import numpy as np
import pytest

from autograder import checks
from autograder.seeds import student_seed

pytestmark = pytest.mark.usefixtures("clean_checks_env")


def test_visible_seed_is_fixed_and_hidden_seed_comes_from_the_environment(monkeypatch):
    assert checks.kernel_seed(False) == checks.VISIBLE_SEED
    assert checks.kernel_seed(True) == checks.LOCAL_HIDDEN_SEED
    monkeypatch.setenv(checks.RECORD_ENV, "/nonexistent")
    monkeypatch.setenv(checks.SEED_ENV, "123456")
    assert checks.kernel_seed(True) == 123456
    assert checks.kernel_seed(False) == checks.VISIBLE_SEED


def test_under_nbgrader_autograde_the_seed_is_the_students(tmp_path, monkeypatch):
    work = tmp_path / "autograded" / "alice" / "a3_backprop"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert checks.kernel_seed(True) == student_seed("alice", "a3_backprop")
    assert student_seed("alice", "a3_backprop") != student_seed("bob", "a3_backprop")


def digest(cases):
    return [np.asarray(c.get("X", c.get("x"))).tobytes() for c in cases]


def test_hidden_cases_depend_on_the_seed_only():
    check = checks.CHECKS["mlp_backward"]
    a1 = check.cases(checks.case_rng("mlp_backward", True, 1))
    a2 = check.cases(checks.case_rng("mlp_backward", True, 1))
    b = check.cases(checks.case_rng("mlp_backward", True, 2))
    assert digest(a1) == digest(a2) and digest(a1) != digest(b)


def test_hidden_mlp_cases_vary_depth_activation_batch_and_dtype():
    check = checks.CHECKS["mlp_backward"]
    infos = [c["info"] for s in range(6) for c in check.cases(checks.case_rng("m", True, s))]
    assert len({i["L"] for i in infos}) >= 4
    assert {i["activation"] for i in infos} == {"relu", "sigmoid", "tanh"}
    assert {i["dtype"] for i in infos} == {"float32", "float64"}
    assert len({i["N"] for i in infos}) >= 3


def test_seeds_are_stable_distinct_and_32_bit():
    a = student_seed("alice", "ps1")
    assert a == student_seed("alice", "ps1")
    assert a != student_seed("bob", "ps1") != student_seed("alice", "ps2")
    assert 0 <= a < 2**32
    assert student_seed("alice", "ps1", salt="other") != a
