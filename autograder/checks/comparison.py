"""Comparison: a student's output against the reference, to the dtype's tolerance.

:func:`compare` returns None or a message naming the quantity, its error and, through
:mod:`autograder.checks.diagnosis`, the likely mistake. :func:`numeric_grad` and
:func:`rel_error` repeat ``course.gradcheck`` on purpose: they run in the student's
kernel, which must work without the course's answer modules (see
``tests/test_checks_framework.py``, the record mode with the answers hidden).
"""

from __future__ import annotations

import numpy as np

from autograder.checks.diagnosis import close, diagnose

TOL = {"float64": 1e-7, "float32": 2e-4}
NUM_TOL = 1e-5  # relative error allowed against central differences (float64, h=1e-6)

__all__ = ["TOL", "NUM_TOL", "compare", "rel_error", "numeric_grad", "numeric_msg"]


def _shape_msg(label, got, want) -> str:
    msg = f"{label} has shape {got.shape}, expected {want.shape}"
    if got.ndim == 2 and got.shape == want.shape[::-1]:
        msg += ": the transpose of the right shape, a missing or extra .T"
    elif want.ndim == 1 and got.ndim == 2 and got.shape[1] == want.shape[0]:
        msg += ": sum over the batch (axis 0)"
    elif got.size == want.size:
        msg += ": the right numbers of entries, in the wrong shape"
    return msg


def compare(label, got, want, dtype="float64", n=None, alts=(), tol=None):
    """Return None if got matches want to the dtype's tolerance, else a message."""
    if got is None:
        return f"{label} is missing"
    if got.dtype.kind not in "biuf":
        return f"{label} is not numeric"
    want = np.asarray(want)
    if got.shape != want.shape:
        return _shape_msg(label, got, want)
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return f"{label} has {int((~np.isfinite(got)).sum())} nan/inf entries"
    tol = tol if tol is not None else TOL.get(str(dtype), TOL["float64"])
    if close(got, want, tol):
        return None
    err = np.abs(got - want)
    i = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
    rel = float(np.max(err) / max(float(np.max(np.abs(want), initial=0.0)), 1e-12))
    msg = (f"{label} is wrong: max abs error {float(np.max(err)):.3g}, relative to its "
           f"largest entry {rel:.3g}")
    if err.ndim:
        msg += f" (worst at index {tuple(int(k) for k in i)})"
    why = diagnose(got, np.asarray(want, dtype=np.float64), n=n, alts=alts)
    return msg + (f"; likely: {why}" if why else "")


def rel_error(a, b):
    """Return ||a - b|| / (||a|| + ||b||), 0 when both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if d == 0 else float(np.linalg.norm(a - b) / d)


def numeric_grad(f, x, dout, h=1e-6):
    """Return the gradient of sum(f() * dout) with respect to x by central differences."""
    g = np.zeros(x.shape)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        flat[i] = old - h
        fm = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return g


def numeric_msg(label, got, num, what):
    """Compare a student's gradient with central differences of their own forward."""
    if got.shape != num.shape or not np.all(np.isfinite(got)):
        return None  # already reported against the reference
    e = rel_error(got, num)
    # rounding leaves central differences about 1e-9 off in absolute terms: tiny
    # gradients (a saturated tanh) are judged by their absolute error
    if e > NUM_TOL and float(np.max(np.abs(got - num), initial=0.0)) > 1e-6:
        return (f"{label} does not match central differences of your own {what} "
                f"(relative error {e:.2e})")
    return None
