"""Borrowed answers earn nothing in the sandbox: the kernel's file system has none.

Each submission below reaches for the course package's own activations (or the grader's
reference, or an automatic differentiation library) by another route: the profiler
guard switched off, a thread, importlib, a file path, a copied or renamed module, the
bytecode cache, ``sys.path``. In the sandboxed grader every route fails, the part that
used it scores zero with a message saying why, and the rest of the notebook is graded.
"""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from fixtures.grader import gradertools as gt

from autograder.grade import grade

pytestmark = pytest.mark.sandbox

WHY = "is not available in the grading sandbox"
OWN = {  # the student's own (correct) code for the parts not borrowed
    "sigmoid_solution": gt.solutions()["sigmoid_solution"],
    "relu_solution": gt.solutions()["relu_solution"],
    "tanh_solution": gt.solutions()["tanh_solution"],
}
PYC = f"activations.{sys.implementation.cache_tag}.pyc"

# student -> (the solution cell replaced, its code, the test cell that must score zero)
ROUTES = {
    "profiler_off": ("sigmoid_solution", """
import sys


def sigmoid(z):
    sys.setprofile(None)
    from course import activations
    return activations.sigmoid(z)


def sigmoid_grad(z):
    sys.setprofile(None)
    from course import activations
    return activations.sigmoid_grad(z)
""", "test_sigmoid"),
    "thread": ("relu_solution", """
import threading


def _in_thread(name, z):
    out = {}

    def work():
        from course import activations
        out["value"] = getattr(activations, name)(z)
    t = threading.Thread(target=work)
    t.start()
    t.join()
    return out["value"]


def relu(z):
    return _in_thread("relu", z)


def relu_grad(z):
    return _in_thread("relu_grad", z)
""", "test_relu"),
    "importlib": ("tanh_solution", """
import importlib


def tanh(z):
    return importlib.import_module("course.activations").tanh(z)


def tanh_grad(z):
    return importlib.import_module("course" + ".activations").tanh_grad(z)
""", "test_tanh"),
    "file_path": ("sigmoid_solution", """
import importlib.util
import os

import course


def _load():
    path = os.path.join(os.path.dirname(course.__file__), "activations.py")
    spec = importlib.util.spec_from_file_location("helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sigmoid(z):
    return _load().sigmoid(z)


def sigmoid_grad(z):
    return _load().sigmoid_grad(z)
""", "test_sigmoid"),
    "sys_path_renamed": ("relu_solution", """
import os
import sys

import course

sys.path.insert(0, os.path.dirname(course.__file__))


def relu(z):
    import activations as mine
    return mine.relu(z)


def relu_grad(z):
    import activations as mine
    return mine.relu_grad(z)
""", "test_relu"),
    "copied_file": ("tanh_solution", """
import os
import shutil
import sys

import course

shutil.copy(os.path.join(os.path.dirname(course.__file__), "activations.py"), "mine.py")
sys.path.insert(0, os.getcwd())


def tanh(z):
    import mine
    return mine.tanh(z)


def tanh_grad(z):
    import mine
    return mine.tanh_grad(z)
""", "test_tanh"),
    "bytecode": ("sigmoid_solution", f"""
import importlib.machinery
import os

import course


def _load():
    path = os.path.join(os.path.dirname(course.__file__), "__pycache__", {PYC!r})
    return importlib.machinery.SourcelessFileLoader("helpers", path).load_module()


def sigmoid(z):
    return _load().sigmoid(z)


def sigmoid_grad(z):
    return _load().sigmoid_grad(z)
""", "test_sigmoid"),
    "autodiff": ("sigmoid_solution", """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_grad(z):
    import autograd.numpy as anp
    from autograd import elementwise_grad
    return elementwise_grad(lambda v: 1.0 / (1.0 + anp.exp(-v)))(z)
""", "test_sigmoid"),
    "reference": ("tanh_solution", """
def tanh(z):
    from autograder import reference  # the grader's own answers
    return np.tanh(z)


def tanh_grad(z):
    from autograder.checks.framework import course_module
    return course_module("activations").tanh_grad(z)
""", "test_tanh"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = gt.new_course(gt.shared_template(tmp_path_factory),
                           tmp_path_factory.mktemp("answers-hidden") / "course")
    for student, (cell, code, _) in ROUTES.items():
        gt.submit(course, student, gt.student_notebook(course, {**OWN, cell: code}))
    probe = ("import course, os\nd = os.path.dirname(course.__file__)\n"
             "for n in ('layers.py', 'network.py', 'chapters'):\n"
             "    p = os.path.join(d, n)\n"
             "    print('SEEN', n, repr(open(p).read()[:300]) if os.path.isfile(p) else\n"
             "          sorted(os.listdir(p)) if os.path.isdir(p) else 'absent')\n"
             "import sys\nfrom autograder.sandbox.forbidden import all_hidden\n"
             "from autograder.checks.guard import call\n"
             "print('GUARD', all_hidden(), call(sys.getprofile) is None)\n")
    gt.submit(course, "reader", gt.student_notebook(course, OWN, prelude=probe))
    results = {r.student: r for r in grade("ps1", root=course, workers=2, progress=False)}
    return gt.GradedClass(course, results, gt.scores(course))


def _outputs(course, student) -> str:
    """The outputs of the graded notebook's cells and the judge's verdicts."""
    nb = nbformat.read(course / "autograded" / student / "ps1" / "ps1.ipynb", 4)
    return "\n".join(json.dumps([c.get("outputs", []), c.metadata.get("autograder")])
                     for c in nb.cells)


@pytest.mark.parametrize("student", sorted(ROUTES))
def test_a_borrowed_part_earns_nothing_and_says_why(graded, student):
    _, _, failing = ROUTES[student]
    assert graded.results[student].status == "graded"
    assert graded.scores[student] == {k: (0.0 if k == failing else v) for k, v in gt.POINTS.items()}
    if student != "bytecode":  # no cache to load: a missing file, not a refused import
        assert WHY in _outputs(graded.course, student), student


def test_the_answers_cannot_be_read(graded):
    assert graded.scores["reader"] == gt.POINTS
    seen = _outputs(graded.course, "reader")
    assert "SEEN layers.py" in seen and WHY in seen
    assert "def affine_backward" not in seen and "class MLP" not in seen
    assert "SEEN chapters []" in seen


def test_in_the_sandbox_the_guard_finds_nothing_to_watch_and_sets_no_hook(graded):
    """Every answer module is the stub there, so call() runs the student's function bare
    (the routes above show that the stubs alone refuse every borrowed answer)."""
    assert "GUARD True True" in _outputs(graded.course, "reader")
