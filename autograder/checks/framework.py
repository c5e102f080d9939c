"""The check framework: seeds, the :class:`Check` base class and its registry.

:class:`Check` explains a check's three steps. :func:`register` adds a check to
:data:`CHECKS`, from which the package exposes it as ``checks.<name>``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.checks.guard import StudentError, arr
from autograder.checks.records import RECORD_ENV, record_key, write_record

VISIBLE_SEED = 1234
LOCAL_HIDDEN_SEED = 4321
SEED_ENV = "AUTOGRADER_SEED"

CHECKS: dict[str, "Check"] = {}
_OCCURRENCES: dict[tuple[str, bool], int] = {}

__all__ = ["VISIBLE_SEED", "LOCAL_HIDDEN_SEED", "SEED_ENV", "CHECKS", "Check", "CheckFailed",
           "CheckUsageError", "Finding",
           "register", "kernel_seed", "case_rng", "draw_dtype", "course_module", "reference"]


# ----------------------------------------------------------------------------- seeds

def _nbgrader_ids(cwd: Path | None = None) -> tuple[str, str]:
    """Return (student, assignment) from the autograde working directory."""
    parts = (cwd or Path.cwd()).resolve().parts
    if "autograded" in parts:
        i = len(parts) - 1 - parts[::-1].index("autograded")
        if i + 2 < len(parts):
            return parts[i + 1], parts[i + 2]
    return parts[-2], parts[-1]


def kernel_seed(hidden: bool) -> int:
    """Return the seed the kernel uses for a visible or hidden check."""
    if not hidden:
        return VISIBLE_SEED
    if os.environ.get(RECORD_ENV) and os.environ.get(SEED_ENV):
        return int(os.environ[SEED_ENV])
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        from autograder.seeds import student_seed

        return student_seed(*_nbgrader_ids())
    return LOCAL_HIDDEN_SEED


def case_rng(name: str, hidden: bool, seed: int) -> np.random.Generator:
    """Return the generator of a check's cases."""
    return np.random.default_rng([int(seed) % 2**63, zlib.crc32(name.encode()), int(hidden)])


def draw_dtype(rng) -> type:
    """Draw float32 (30%) or float64 for a case."""
    return np.float32 if rng.random() < 0.3 else np.float64


def course_module(name: str):
    """Return ``course.<name>``, imported only when a judge needs it (never in the kernel)."""
    return importlib.import_module(f"course.{name}")


def reference():
    """Return :mod:`autograder.reference`, imported only when a judge needs it."""
    from autograder import reference as ref

    return ref


# ---------------------------------------------------------------------- the framework

class _ShownAsMessage:
    """An error IPython and Jupyter show as its message alone, without the grader's frames
    (``InteractiveShell.showtraceback`` prints ``_render_traceback_()`` instead of a
    traceback; ``__tracebackhide__`` cannot hide the frame that raised)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class CheckFailed(_ShownAsMessage, AssertionError):
    """A check's verdict on a student's functions: the message says what is wrong."""


class CheckUsageError(_ShownAsMessage, TypeError):
    """A check was called with the wrong number of functions."""


@dataclass(frozen=True)
class Finding:
    """What a failed check found wrong, for the later checks that build on it.

    ``test`` is the test cell that failed (its grade_id; the check's name when a student
    runs the checks in Jupyter), ``cause`` a short sentence naming the mistake, and
    ``wrong`` the parts found wrong when the check can name them (a5: the operations
    whose gradient rule is wrong, as :func:`autograder.checks.autodiff_programs.op_key`
    names them).
    """

    check: str
    test: str
    cause: str
    wrong: frozenset = frozenset()


# Findings of the checks run so far in this kernel, for a student running the test cells
# in Jupyter (the grader passes its own, per student: autograder.judge.judge_notebook).
_FOUND: dict[str, Finding] = {}


class Check:
    """A trusted check; subclasses set ``name`` and ``functions`` and write its three steps.

    1. ``cases(rng)``: the inputs, drawn from a seeded generator, numpy only;
    2. ``run(fns, case)``: calls the student's functions (through
       :func:`autograder.checks.guard.call`) and returns a flat dict of arrays;
    3. ``judge(case, outputs)``: compares them with the instructor's reference (the
       ``course`` package) and returns ``(ok, message)``.

    In a notebook, or under plain ``nbgrader autograde``, a check does all three in the
    kernel. In the sandboxed grader the kernel only runs step 2 and records its outputs;
    :mod:`autograder.judge` does steps 1 and 3 in the grader's own process.

    Partial credit: ``depends`` names the earlier checks whose functions this one runs.
    The checks of a notebook are judged in order, and each failed check leaves a
    :class:`Finding`; a later failure whose dependency failed starts by naming it
    (:meth:`blame`), and a check that can judge its own part apart from an earlier mistake
    does so in ``judge_case`` (a5's graphs with the student's own rules, say). So a
    mistake costs the points of the tests that exercise it, and its feedback says where
    to look first.
    """

    name = ""
    functions: tuple[str, ...] = ()
    # Earlier checks of the same assignment whose functions this one runs: when one of
    # them failed, this check's failure says so first (and judge_case may isolate it).
    depends: tuple[str, ...] = ()
    # Whether a pass shows what each case measured (a5's train_xor: the accuracy reached).
    show_notes = False

    def cases(self, rng):  # pragma: no cover - every check overrides
        raise NotImplementedError

    def hidden_cases(self, rng):
        """The cases of the hidden call: ``cases`` drawn from the student's seed, unless a
        check's hidden call tests something of another kind."""
        return self.cases(rng)

    def draw(self, hidden: bool, seed: int):
        """The cases of a visible or hidden call with the given seed."""
        rng = case_rng(self.name, hidden, seed)
        return self.hidden_cases(rng) if hidden else self.cases(rng)

    def run(self, fns, case):  # pragma: no cover
        raise NotImplementedError

    def judge(self, case, outputs):  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def describe(case):
        return ", ".join(f"{k}={v}" for k, v in case.get("info", {}).items())

    def safe_run(self, fns, case):
        """Run one case, turning a student's error into an ``error`` entry."""
        try:
            out = self.run(fns, case)
            return {k: arr(v, k) for k, v in out.items()}
        except StudentError as e:
            return {"error": np.array(str(e))}
        except Exception as e:  # e.g. indexing a wrongly shaped result
            return {"error": np.array(f"{type(e).__name__}: {e}")}

    def judge_case(self, case, outputs, earlier):
        """Judge one case knowing what the earlier checks found (``{check: Finding}``); a
        check that can judge its own part apart from an earlier mistake overrides this."""
        return self.judge(case, outputs)

    def _judge_one(self, case, out, earlier):
        if "error" in out:
            return False, str(out["error"])
        try:
            return self.judge_case(case, out, earlier)
        except Exception as e:
            return False, f"could not judge the result ({type(e).__name__}: {e})"

    def judge_all(self, cases, outputs, earlier=None):
        """Judge every case; return (ok, message) for the first failing one.

        ``earlier`` maps the checks that already failed for this student to their
        :class:`Finding`; the caller puts :meth:`blame` before a failure's message.
        """
        earlier = earlier or {}
        if outputs is None or len(outputs) != len(cases):
            return False, f"{self.name}: did not run (the cell raised or timed out before " \
                "this check)"
        notes = []
        for k, (case, out) in enumerate(zip(cases, outputs)):
            ok, msg = self._judge_one(case, out, earlier)
            if not ok:
                where = self.describe(case)
                return False, f"{self.name}, case {k + 1} of {len(cases)}" + \
                    (f" ({where})" if where else "") + f": {msg}"
            if self.show_notes and msg:
                notes.append(msg)
        return True, f"{self.name}: {len(cases)} case{'s' * (len(cases) != 1)} passed" + (
            f" ({'; '.join(notes)})" if notes else "")

    def failed_dependency(self, earlier) -> Finding | None:
        """The first check this one builds on that failed, if any."""
        return next((earlier[d] for d in self.depends if d in earlier), None)

    def blame(self, earlier) -> str:
        """The sentence a failure starts with when a check it builds on failed first."""
        first = self.failed_dependency(earlier)
        if first is None:
            return ""
        return (f"this part builds on {first.test}, which fails: {first.cause}; fix that "
                "first, this may then pass too. ")

    def finding(self, cases, outputs, test: str, message: str) -> Finding:
        """What this failed check found, for the checks that build on it."""
        return Finding(self.name, test, _first_clause(message))

    def __call__(self, *fns, hidden=False):
        __tracebackhide__ = True  # noqa: F841 - IPython and pytest hide this frame
        hidden = bool(hidden)
        if len(fns) != len(self.functions):
            raise CheckUsageError(f"checks.{self.name} takes {len(self.functions)} function(s): "
                            f"{', '.join(self.functions)}")
        occ = _OCCURRENCES.get((self.name, hidden), 0)
        _OCCURRENCES[(self.name, hidden)] = occ + 1
        cases = self.draw(hidden, kernel_seed(hidden))
        outputs = [self.safe_run(fns, case) for case in cases]
        record_dir = os.environ.get(RECORD_ENV)
        if record_dir:
            write_record(record_dir, record_key(self.name, hidden, occ), outputs)
            return None
        earlier = dict(_FOUND)
        ok, msg = self.judge_all(cases, outputs, earlier)
        if not ok:
            _FOUND[self.name] = self.finding(cases, outputs, self.name, msg)
            raise CheckFailed(self.blame(earlier) + msg)
        if not hidden:
            _FOUND.pop(self.name, None)
        print(("hidden " if hidden else "") + msg)
        return None


_CASE_LABEL = re.compile(r"^(hidden check )?[\w.]+, case \d+ of \d+(?: \(.*?\))?: ")


def _first_clause(message: str) -> str:
    """The gist of a failure message: what follows the case label, up to the first ';'."""
    text = _CASE_LABEL.sub("", message.split("\n")[0], count=1)
    return text.split("; ")[0][:240]


def register(cls):
    """Add a check to the registry; the package exposes it as ``checks.<name>``."""
    inst = cls()
    inst.__doc__ = cls.__doc__
    if inst.name in CHECKS:
        raise ValueError(f"two checks are named {inst.name!r}")
    CHECKS[inst.name] = inst
    package = sys.modules.get("autograder.checks")
    if package is not None:  # registered after the package loaded (the package adds the rest)
        setattr(package, inst.name, inst)
    return cls
