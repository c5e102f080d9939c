"""Trusted checks called by the test cells of the assignments.

A test cell calls a check with the student's functions, for example
``checks.affine_backward(affine_forward, affine_backward)`` (visible) or, inside the
hidden block, ``checks.affine_backward(affine_forward, affine_backward, hidden=True)``.
Each check has three steps, explained once in :class:`.framework.Check`.

In a notebook, or under plain ``nbgrader autograde``, a check does all three in the
kernel and raises :class:`CheckFailed` (an ``AssertionError``) with the message. With
``AUTOGRADER_RECORD_DIR`` set (the sandboxed grader), it only runs step 2 and writes the
outputs to that directory; the grader judges them in its own process with
:mod:`autograder.judge`.

Seeds: visible checks use ``VISIBLE_SEED``. Hidden checks use ``$AUTOGRADER_SEED`` when
recording, ``autograder.seeds.student_seed(student, assignment)`` under ``nbgrader
autograde`` (the kernel runs in ``autograded/<student>/<assignment>/``), and
``LOCAL_HIDDEN_SEED`` in a student's own Jupyter.

The modules: :mod:`.framework` (seeds, :class:`Check`, :func:`register`), :mod:`.records`
(the record format), :mod:`.guard` (calling a student's function), :mod:`.comparison`
and :mod:`.diagnosis` (judging an output), and one module per assignment, named like the
assignment (``a3_backprop``), beside its known bugs in ``autograder/bugs/``. Every module
of this package whose name starts with ``a<digit>`` is loaded, and its checks registered.
"""

from __future__ import annotations

import importlib
import pkgutil

from autograder.checks.comparison import compare
from autograder.checks.diagnosis import diagnose
from autograder.checks.framework import (
    _FOUND,
    _OCCURRENCES,
    CHECKS,
    LOCAL_HIDDEN_SEED,
    SEED_ENV,
    VISIBLE_SEED,
    Check,
    CheckFailed,
    Finding,
    case_rng,
    kernel_seed,
    register,
)
from autograder.checks.guard import _forbidden, call
from autograder.checks.records import (
    RECORD_ENV,
    load_record,
    record_key,
    record_path,
    write_record,
)


def assignment_modules() -> list[str]:
    """Return the names of the per-assignment check modules of this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__)
                  if m.name[:1] == "a" and m.name[1:2].isdigit())


for _module in assignment_modules():
    importlib.import_module(f"{__name__}.{_module}")
globals().update(CHECKS)  # checks.<name>

__all__ = ["CHECKS", "Check", "CheckFailed", "call", "compare", "diagnose", "kernel_seed",
           "case_rng", "register", "record_key", "record_path", "write_record", "load_record",
           "assignment_modules", "VISIBLE_SEED", "LOCAL_HIDDEN_SEED", "RECORD_ENV", "SEED_ENV",
           "Finding", "_OCCURRENCES", "_FOUND", "_forbidden"] + list(CHECKS)
