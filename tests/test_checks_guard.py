"""autograder.checks.guard and autograder.sandbox.forbidden: a graded function may not call the
course package, an autodiff library or the grader's reference, and the kernel runs the
checks with every answer module hidden."""

import os
import sys

import numpy as np
import pytest
from fixtures.checks import handwritten as hw

from autograder import checks
from autograder.judge import judge_notebook
from autograder.layout import assignments, notebook

pytestmark = pytest.mark.usefixtures("clean_checks_env")


def test_calling_the_course_package_is_refused():
    from course import layers

    with pytest.raises(AssertionError, match=r"calls course\.layers\.affine_backward.*own code"):
        checks.affine_backward(hw.affine_forward, layers.affine_backward)


def test_calling_an_autodiff_library_is_refused():
    pytest.importorskip("autograd")
    import autograd
    import autograd.numpy as anp

    def tanh_backward_autograd(dout, cache):
        z = np.arctanh(cache)
        return autograd.elementwise_grad(lambda v: anp.sum(anp.tanh(v) * dout))(z)

    with pytest.raises(AssertionError, match=r"autograd.*not the course package's"):
        checks.tanh_backward(hw.tanh_forward, tanh_backward_autograd)


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
    checks.affine_forward(hw.affine_forward)
    assert sys.getprofile() is before
    assert os.environ.get(checks.RECORD_ENV) is None


def test_the_guard_watches_wherever_an_answer_module_can_be_imported(tmp_path, monkeypatch):
    from autograder.sandbox import forbidden as answers

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


@pytest.mark.slow
def test_record_mode_runs_with_the_answers_hidden_and_the_judge_passes_it(tmp_path):
    import subprocess

    names = assignments()
    args = []
    for a in names:
        args += [str(notebook(a)), str(tmp_path / a)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "NBGRADER_"))}
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, "-c", HIDE_ANSWERS, *args],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for a in names:
        verdicts = judge_notebook(notebook(a), tmp_path / a, 4242)
        assert verdicts and all(v.passed for v in verdicts.values()), verdicts
