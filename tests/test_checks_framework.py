"""autograder.checks.framework: a check's modes (interactive, recording), registering a
new check, and the reference solutions passing the hidden checks of many students.

The student functions are written out by hand (``fixtures.checks.handwritten``), never
taken from ``course``: the checks refuse those.
"""

import nbformat
import numpy as np
import pytest
from fixtures.checks import handwritten as hw

from autograder import checks
from autograder.layout import assignments, notebook
from autograder.seeds import student_seed

pytestmark = pytest.mark.usefixtures("clean_checks_env")


def test_interactive_mode_passes_a_correct_solution_and_prints(capsys):
    checks.affine_backward(hw.affine_forward, hw.affine_backward)
    checks.mlp_backward(hw.mlp_forward, hw.mlp_backward, hidden=True)
    out = capsys.readouterr().out
    assert "affine_backward: 5 cases passed" in out and "hidden mlp_backward" in out


def test_interactive_mode_raises_assertion_error_naming_the_check():
    def broken(dout, cache):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=r"affine_backward, case 1 of 5 \(.*\): "
                       r"affine_backward raised NotImplementedError \(not written yet\)$"):
        checks.affine_backward(hw.affine_forward, broken)

    def loud(dout, cache):
        raise ValueError("shapes differ")

    with pytest.raises(AssertionError, match=r"raised ValueError: shapes differ$"):
        checks.affine_backward(hw.affine_forward, loud)


def test_wrong_number_of_functions_is_a_type_error():
    with pytest.raises(TypeError, match="affine_forward, affine_backward"):
        checks.affine_backward(hw.affine_backward)


def test_a_registered_check_is_called_judged_and_recorded(doubling_check, tmp_path,
                                                          monkeypatch, capsys):
    assert checks.doubles_for_test is doubling_check
    checks.doubles_for_test(lambda x: 2 * x)
    assert "doubles_for_test: 2 cases passed" in capsys.readouterr().out
    with pytest.raises(checks.CheckFailed, match=r"case 1 of 2 \(k=0\): double\(x\) is wrong"):
        checks.doubles_for_test(lambda x: x)
    monkeypatch.setenv(checks.RECORD_ENV, str(tmp_path))
    checks.doubles_for_test(lambda x: 3 * x, hidden=True)
    rec = checks.load_record(tmp_path, "doubles_for_test:1:0")
    cases = doubling_check.cases(checks.case_rng("doubles_for_test", True,
                                                 checks.LOCAL_HIDDEN_SEED))
    ok, msg = doubling_check.judge_all(cases, rec)
    assert not ok and "likely: off by a constant factor 1.5" in msg



def reference_functions(assignment):
    """Run the setup, given and solution cells of a source notebook; return its namespace."""
    nb = nbformat.read(str(notebook(assignment)), 4)
    ns = {"__name__": "__main__"}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta and not meta.get("grade"):
            exec(cell.source, ns)
    return nb, ns


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_reference_passes_the_hidden_checks_of_many_students(assignment):
    nb, ns = reference_functions(assignment)
    import ast

    calls = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in checks.CHECKS:
                    calls.append((node.func.attr, [ns[a.id] for a in node.args]))
    for name, fns in calls:
        check = checks.CHECKS[name]
        for student in range(1 if name in ("train_digits", "train_xor", "value_scale") else 20):
            seed = student_seed(f"student{student}", assignment)
            cases = check.cases(checks.case_rng(name, True, seed))
            with np.errstate(all="ignore"):
                ok, msg = check.judge_all(cases, [check.safe_run(fns, c) for c in cases])
            assert ok, msg
