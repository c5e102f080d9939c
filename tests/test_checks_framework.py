"""The checks framework: modes, recordings, the judge, seeds, and refusing borrowed answers.

The student functions here are written out by hand (as a student would), never taken
from ``course``: the checks refuse those.
"""

import os
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import checks
from autograder.audit import execute_cells
from autograder.judge import MISSING, check_calls, judge_notebook
from autograder.paths import assignments
from autograder.seeds import student_seed

REPO = Path(__file__).resolve().parent.parent
A3 = REPO / "source" / "a3_backprop" / "a3_backprop.ipynb"


# ----------------------------------------------------------- hand-written solutions

def affine_forward(x, W, b):
    return x @ W + b, (x, W)


def affine_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def tanh_forward(z):
    t = np.tanh(z)
    return t, t


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)


def mlp_forward(X, params, activation):
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    L = len(params) // 2
    hs, zs = [X], []
    for i in range(1, L + 1):
        zs.append(hs[-1] @ params[f"W{i}"] + params[f"b{i}"])
        if i < L:
            hs.append(f(zs[-1]))
    return zs[-1], (hs, zs, params, activation)


def mlp_backward(dscores, cache):
    hs, zs, params, activation = cache
    L = len(zs)
    grads, dz = {}, dscores
    for i in range(L, 0, -1):
        grads[f"W{i}"] = hs[i - 1].T @ dz
        grads[f"b{i}"] = dz.sum(axis=0)
        if i > 1:
            dh = dz @ params[f"W{i}"].T
            h = hs[i - 1]
            dz = dh * {"relu": (zs[i - 2] > 0), "tanh": 1 - h ** 2,
                       "sigmoid": h * (1 - h)}[activation]
    return grads


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in (checks.RECORD_ENV, checks.SEED_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)
    checks._OCCURRENCES.clear()


# ------------------------------------------------------------------------ modes

def test_interactive_mode_passes_a_correct_solution_and_prints(capsys):
    checks.affine_backward(affine_forward, affine_backward)
    checks.mlp_backward(mlp_forward, mlp_backward, hidden=True)
    out = capsys.readouterr().out
    assert "affine_backward: 5 cases passed" in out and "hidden mlp_backward" in out


def test_interactive_mode_raises_assertion_error_naming_the_check():
    def broken(dout, cache):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=r"affine_backward, case 1 of 5 \(.*\): "
                       r"affine_backward raised NotImplementedError \(not written yet\)$"):
        checks.affine_backward(affine_forward, broken)

    def loud(dout, cache):
        raise ValueError("shapes differ")

    with pytest.raises(AssertionError, match=r"raised ValueError: shapes differ$"):
        checks.affine_backward(affine_forward, loud)


def test_wrong_number_of_functions_is_a_type_error():
    with pytest.raises(TypeError, match="affine_forward, affine_backward"):
        checks.affine_backward(affine_backward)


def test_record_mode_writes_npz_and_does_not_judge(tmp_path, monkeypatch):
    monkeypatch.setenv(checks.RECORD_ENV, str(tmp_path))
    monkeypatch.setenv(checks.SEED_ENV, "99")

    def wrong(dout, cache):
        return 0 * dout, 0, "not an array"

    checks.affine_backward(affine_forward, wrong)  # no AssertionError: judged elsewhere
    checks.affine_backward(affine_forward, affine_backward, hidden=True)
    checks.affine_backward(affine_forward, affine_backward, hidden=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["affine_backward.0.0.npz", "affine_backward.1.0.npz",
                     "affine_backward.1.1.npz"]
    with np.load(tmp_path / names[0], allow_pickle=False) as z:
        assert str(z["__key__"]) == "affine_backward:0:0"
        assert "str, expected a numpy array" in str(z["0/error"])
    rec = checks.load_record(tmp_path, "affine_backward:1:0")
    assert len(rec) == 5 and set(rec[0]) >= {"dx", "dW", "db", "num_dW"}
    assert checks.load_record(tmp_path, "affine_backward:1:7") is None


@pytest.fixture
def doubling_check():
    """A new check, registered the way an assignment module registers its checks."""

    class Doubles(checks.Check):
        """double(x) returns 2 x."""

        name = "doubles_for_test"
        functions = ("double",)

        def cases(self, rng):
            return [dict(x=rng.standard_normal(3), info=dict(k=k)) for k in range(2)]

        def run(self, fns, case):
            return {"y": checks.call(fns[0], case["x"].copy(), what="double")}

        def judge(self, case, outputs):
            msg = checks.compare("double(x)", outputs["y"], 2 * case["x"])
            return msg is None, msg or ""

    checks.register(Doubles)
    yield checks.CHECKS["doubles_for_test"]
    del checks.CHECKS["doubles_for_test"]
    delattr(checks, "doubles_for_test")


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


def test_the_trusted_output_of_a_program_is_kept_and_equals_a_fresh_run():
    from autograder.checks.autodiff_cases import chain_program
    from autograder.checks.autodiff_judge import trusted_output
    from autograder.checks.autodiff_programs import build
    from course.autodiff import Value

    x, prog = chain_program(np.random.default_rng(3), n=200)
    data, grads = trusted_output(x, prog)
    nodes = build(Value, x, prog)
    nodes[-1].backward()
    assert data == nodes[-1].data and grads.tolist() == [n.grad for n in nodes[:len(x)]]
    assert trusted_output(x.copy(), list(prog))[1] is grads and not grads.flags.writeable
    assert trusted_output(x + 1.0, prog)[0] != data


def test_a_record_with_the_wrong_key_or_garbage_is_ignored(tmp_path):
    checks.write_record(tmp_path, "relu:0:0", [{"f": np.zeros(2)}])
    (tmp_path / "relu.0.0.npz").rename(tmp_path / "tanh.0.0.npz")
    assert checks.load_record(tmp_path, "tanh:0:0") is None
    (tmp_path / "sigmoid.0.0.npz").write_bytes(b"not an npz")
    assert checks.load_record(tmp_path, "sigmoid:0:0") is None


# ------------------------------------------------------------------------ judge

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
    assert all(v.grade_id == gid for gid, v in verdicts.items())


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


def test_oversized_or_bloated_records_are_refused_without_loading(tmp_path):
    key = "affine_forward:1:0"
    checks.write_record(tmp_path, key, [{"out": np.zeros(3)}])
    assert checks.load_record(tmp_path, key)[0]["out"].shape == (3,)
    # a claim of a billion cases would allocate a billion dicts
    np.savez(checks.record_path(tmp_path, key), __key__=np.array(key),
             __ncases__=np.array(10**9))
    assert checks.load_record(tmp_path, key) is None
    # a zip bomb: 300 MB of zeros compress to a few hundred kB
    np.savez_compressed(checks.record_path(tmp_path, key), __key__=np.array(key),
                        __ncases__=np.array(1), **{"0/out": np.zeros(300 * 2**20, np.uint8)})
    assert checks.record_path(tmp_path, key).stat().st_size < 2**20
    assert checks.load_record(tmp_path, key) is None


# ------------------------------------------------------------------------ seeds

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


# --------------------------------------------------------- borrowed answers refused

def test_calling_the_course_package_is_refused():
    from course import layers

    with pytest.raises(AssertionError, match=r"calls course\.layers\.affine_backward.*own code"):
        checks.affine_backward(affine_forward, layers.affine_backward)


def test_calling_an_autodiff_library_is_refused():
    pytest.importorskip("autograd")
    import autograd
    import autograd.numpy as anp

    def tanh_backward_autograd(dout, cache):
        z = np.arctanh(cache)
        return autograd.elementwise_grad(lambda v: anp.sum(anp.tanh(v) * dout))(z)

    with pytest.raises(AssertionError, match=r"autograd.*not the course package's"):
        checks.tanh_backward(tanh_forward, tanh_backward_autograd)


def test_calling_the_graders_reference_or_a_judge_is_refused():
    from autograder import reference

    def update(w, b, x, t, lr):
        return reference.perceptron_update(w, b, x, t, lr)

    with pytest.raises(AssertionError, match=r"calls autograder\.reference\.perceptron_update"):
        checks.perceptron_update(update)

    def forward(x, W, b):  # probes the judge for the right answer
        checks.CHECKS["affine_forward"].judge({"x": x, "W": W, "b": b, "info": {}},
                                              {"out": np.zeros((len(x), W.shape[1]))})
        return x @ W + b, None

    with pytest.raises(AssertionError, match=r"grader's reference"):
        checks.affine_forward(forward)


def test_own_code_in_modules_named_like_answers_is_not_refused():
    assert not checks._forbidden("autograder.checks")
    assert not checks._forbidden("course.data") and not checks._forbidden("course.plots")
    assert checks._forbidden("course.losses") and checks._forbidden("torch.nn")
    assert checks._forbidden("autograd.numpy.numpy_wrapper")
    assert checks._forbidden("sklearn.neural_network._multilayer_perceptron")
    assert not checks._forbidden("sklearn.datasets._base")


def test_the_profiler_is_restored_after_a_check():
    before = sys.getprofile()
    checks.affine_forward(affine_forward)
    assert sys.getprofile() is before
    assert os.environ.get(checks.RECORD_ENV) is None


def test_the_guard_watches_wherever_an_answer_module_can_be_imported(tmp_path, monkeypatch):
    from autograder import answers

    stub = tmp_path / "stub.py"
    stub.write_text(answers.BLOCKED_MODULE.format(name="course.layers"))
    package = tmp_path / "package"
    package.mkdir()
    (package / "__init__.py").write_text(stub.read_text())
    real = tmp_path / "layers.py"
    real.write_text("def affine_forward(x, W, b):\n    return x @ W + b\n")

    def hook_in_call(where):
        monkeypatch.setattr(answers, "locate", where)
        answers.all_hidden.cache_clear()
        return answers.all_hidden(), checks.call(sys.getprofile) is not sys.getprofile()

    try:
        assert hook_in_call(lambda name: None) == (True, False)  # none installed
        assert hook_in_call(lambda name: stub) == (True, False)  # the sandbox's stubs
        assert hook_in_call(lambda name: package) == (True, False)
        assert hook_in_call(lambda name: real if name == "course.layers" else stub) == \
            (False, True)
        assert hook_in_call(lambda name: tmp_path / "gone.py") == (False, True)  # unreadable
    finally:
        answers.all_hidden.cache_clear()
    assert not answers.all_hidden()  # this test process can import the answers


# ------------------------------------------------- many students, one reference

def reference_functions(assignment):
    """Run the setup, given and solution cells of a source notebook; return its namespace."""
    nb = nbformat.read(str(REPO / "source" / assignment / f"{assignment}.ipynb"), 4)
    ns = {"__name__": "__main__"}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta and not meta.get("grade"):
            exec(cell.source, ns)
    return nb, ns


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


# --------------------------------------------- the kernel needs none of the answers

HIDE_ANSWERS = r"""
import importlib.abc, os, sys
from pathlib import Path

HIDDEN = ("course.activations", "course.losses", "course.layers", "course.network",
          "course.optim", "course.gradcheck", "course.autodiff", "autograd",
          "autograder.reference")


class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if any(name == h or name.startswith(h + ".") for h in HIDDEN):
            raise ImportError(f"{name} is hidden in the sandbox")
        return None


sys.meta_path.insert(0, Hide())
import nbformat
from autograder.audit import execute_cells

os.environ["AUTOGRADER_SEED"] = "4242"
for nb_path, record_dir in zip(sys.argv[1::2], sys.argv[2::2]):
    os.environ["AUTOGRADER_RECORD_DIR"] = record_dir
    errors = execute_cells(nbformat.read(nb_path, 4), {})
    assert not errors, errors
assert not [m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in HIDDEN)]
"""


def test_record_mode_runs_with_the_answers_hidden_and_the_judge_passes_it(tmp_path):
    import subprocess

    names = assignments()
    args = []
    for a in names:
        args += [str(REPO / "source" / a / f"{a}.ipynb"), str(tmp_path / a)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "NBGRADER_"))}
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, "-c", HIDE_ANSWERS, *args],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for a in names:
        verdicts = judge_notebook(REPO / "source" / a / f"{a}.ipynb", tmp_path / a, 4242)
        assert verdicts and all(v.passed for v in verdicts.values()), verdicts
