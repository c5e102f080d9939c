"""The hidden checks hold a graded function to everything its signature and docstring say.

- every parameter of every graded function takes more than one value across the hidden
  cases, so a function that ignores one of its arguments loses points: each parameter in
  turn is frozen to the value of the first hidden case, and the check must fail;
- where a docstring promises that the arrays passed in are left unchanged (or restored),
  a function that changes them in place loses points.

The functions are the instructor's solutions (source/), wrapped; the checks judge in this
process, as in a student's own Jupyter.
"""

from __future__ import annotations

import hashlib
import inspect
import re

import nbformat
import numpy as np
import pytest

from autograder import checks
from autograder.cells import check_calls_in, is_test, python_only
from autograder.layout import assignments, notebook

ASSIGNMENTS = assignments()
SLOW = {"train_digits"}  # trains a network per case: covered by the audit's variants
# Known gaps: {check: why a function ignoring an argument still passes}, marked
# xfail(strict=True), so the mark fails once a gap is closed.
KNOWN_GAPS: dict[str, str] = {}
SEEDS = (11, 12)
PROMISE = re.compile(r"left unchanged|restored before it returns|not modified", re.I)


@pytest.fixture(scope="module")
def solutions():
    """{assignment: {name: the instructor's function}}, each assignment's solution run in
    a namespace of its own (two assignments may both define, say, an MLP)."""
    out: dict = {}
    for a in ASSIGNMENTS:
        ns = out.setdefault(a, {})
        nb = nbformat.read(notebook(a), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and not is_test(cell):
                exec(compile(python_only(cell.source), f"{a}", "exec"), ns)
    return out


ASSIGNMENT_OF: dict[str, str] = {}  # check name -> the assignment whose test cells call it


def _check_calls() -> dict[str, tuple[str, ...]]:
    """{check name: the names of the functions its test cells pass it}, from source/."""
    out = {}
    for a in ASSIGNMENTS:
        nb = nbformat.read(notebook(a), as_version=4)
        for cell in nb.cells:
            if not is_test(cell):
                continue
            for site in check_calls_in(cell.source):
                out[site.name] = site.arguments
                ASSIGNMENT_OF[site.name] = a
    return out


CALLS = _check_calls()
# Graded classes, found in the solutions' source: `class Name` at the start of a line.
CLASSES = {(a, m) for a in ASSIGNMENTS
           for cell in nbformat.read(notebook(a), as_version=4).cells
           for m in re.findall(r"^class (\w+)", cell.source, re.M)}


def graded():
    """(check name, position, function name) of every graded function of every check.

    A class that the student writes (a5's ``Value`` and ``MLP``) is judged through its
    methods, operation by operation, not through its constructor's arguments, so it is
    not listed; a class handed to a check (a3's ``MLP`` from ``course``) is."""
    return [pytest.param(name, i, fname, marks=_marks(name))
            for name, fnames in sorted(CALLS.items())
            for i, fname in enumerate(fnames) if (ASSIGNMENT_OF[name], fname) not in CLASSES]


TAKES_LONG = {"train_xor"}  # trains a network for every case: marked slow


def _marks(name):
    marks = [pytest.mark.slow] if name in TAKES_LONG else []
    if name in KNOWN_GAPS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name]))
    return marks


def _digest(v):
    if isinstance(v, np.ndarray):
        return ("array", v.shape, v.dtype.str,
                hashlib.sha1(np.ascontiguousarray(v).tobytes()).hexdigest())
    if isinstance(v, np.random.Generator):
        return ("rng", repr(v.bit_generator.state))
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, _digest(x)) for k, x in v.items())))
    if isinstance(v, (list, tuple)):
        return ("seq", tuple(_digest(x) for x in v))
    if callable(v):
        return ("callable", id(v))
    return ("value", repr(v))


def _run(chk, fns, seed, hidden=True):
    cases = chk.draw(hidden, seed)
    return chk.judge_all(cases, [chk.safe_run(fns, c) for c in cases])


def _spy(fn, calls: list):
    sig = inspect.signature(fn)

    def spy(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        calls.append(dict(bound.arguments))
        return fn(*args, **kwargs)
    spy.__name__ = fn.__name__
    return spy


def test_every_check_is_called_by_a_test_cell():
    assert set(CALLS) == set(checks.CHECKS)
    for name, fnames in CALLS.items():
        assert len(fnames) == len(checks.CHECKS[name].functions), name


@pytest.mark.parametrize("check,i,function",
                         [g for g in graded() if (g.values[0] if hasattr(g, "values")
                                                  else g[0]) not in SLOW])
def test_a_function_ignoring_any_argument_loses_points(solutions, check, i, function):
    chk = checks.CHECKS[check]
    fns = [solutions[ASSIGNMENT_OF[check]][f] for f in CALLS[check]]
    assert _run(chk, fns, SEEDS[0])[0], "the instructor's solution must pass"
    calls: list = []
    spied = [_spy(f, calls) if k == i else f for k, f in enumerate(fns)]
    _run(chk, spied, SEEDS[0])
    assert calls, f"the hidden cases of {check} never call {function}"
    _run(chk, spied, checks.VISIBLE_SEED, hidden=False)  # a check of one case per call
    sig = inspect.signature(fns[i])
    for param in sig.parameters:
        values = {_digest(c[param]) for c in calls}
        assert len(values) > 1, f"{function}({param}=...) gets one value in every case"
        first = calls[0][param]

        def ignoring(*args, _param=param, _first=first, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            if isinstance(_first, np.random.Generator):  # a fixed stream, every call
                bound.arguments[_param] = np.random.default_rng(0)
            else:
                bound.arguments[_param] = _first
            return fns[i](*bound.args, **bound.kwargs)
        ignoring.__name__ = function
        ok, msg = _run(chk, [ignoring if k == i else f for k, f in enumerate(fns)], SEEDS[1])
        assert not ok, f"{function} ignoring {param!r} still passes: {msg}"


def _promising():
    """(check, function) whose docstring promises to leave its array arguments as they were."""
    out = []
    for a in ASSIGNMENTS:
        nb = nbformat.read(notebook(a), as_version=4)
        for cell in nb.cells:
            if not (cell.cell_type == "code" and cell.metadata.get("nbgrader", {})
                    .get("solution")):
                continue
            for m in re.finditer(r'def (\w+)\(.*?\):\n\s+"""(.*?)"""', cell.source, re.S):
                if PROMISE.search(" ".join(m.group(2).split())):
                    out += [(name, m.group(1)) for name, fnames in CALLS.items()
                            if m.group(1) in fnames]
    return out


def test_the_promises_are_found():
    assert set(_promising()) >= {("perceptron_update", "perceptron_update"),
                                 ("numerical_gradient", "numerical_gradient")}


@pytest.mark.parametrize("check,function", _promising())
def test_changing_the_arrays_passed_in_loses_points(solutions, check, function):
    chk = checks.CHECKS[check]
    fns = [solutions[ASSIGNMENT_OF[check]][f] for f in CALLS[check]]
    i = CALLS[check].index(function)

    def changes_its_inputs(*args, **kwargs):
        result = fns[i](*args, **kwargs)
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.flags.writeable:
                a += 1.0  # the right result, and the caller's arrays changed
        return result
    changes_its_inputs.__name__ = function
    ok, msg = _run(chk, [changes_its_inputs if k == i else f for k, f in enumerate(fns)],
                   SEEDS[1])
    assert not ok and "changed" in msg, msg
