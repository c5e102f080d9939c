"""Judge recorded check outputs in the grader's own, trusted process.

After a submission ran in the sandbox with ``AUTOGRADER_RECORD_DIR`` set, every check
call in it left a recording ``<check>:<hidden>:<occurrence>``. ``judge_notebook`` reads
the test cells of the instructor's SOURCE notebook (never the submission), finds their
``checks.<name>(...)`` calls in order, draws each check's cases again with the right seed
and judges the recorded outputs. No student code runs here.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import checks
from autograder.cells import test_cells as graded_test_cells

__all__ = ["Verdict", "CheckCall", "check_calls", "graded_test_cells", "judge_notebook"]

MISSING = "did not run (the cell raised or timed out before this check)"


@dataclass
class Verdict:
    """The result of one autograded test cell."""

    grade_id: str
    passed: bool
    message: str


@dataclass
class CheckCall:
    """One ``checks.<name>(..., hidden=...)`` call in a test cell."""

    name: str
    hidden: bool
    occurrence: int

    @property
    def key(self) -> str:
        return checks.record_key(self.name, self.hidden, self.occurrence)


def _python_only(source: str) -> str:
    """Drop IPython magics and shell lines so that the cell parses as Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _calls_in(source: str) -> list[tuple[str, bool]]:
    tree = ast.parse(_python_only(source))
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"):
            hidden = False
            for kw in node.keywords:
                if kw.arg == "hidden":
                    hidden = bool(isinstance(kw.value, ast.Constant) and kw.value.value)
            found.append((node.lineno, node.col_offset, node.func.attr, hidden))
    return [(name, hidden) for _, _, name, hidden in sorted(found)]


def check_calls(nb) -> dict[str, list[CheckCall]]:
    """Return, per test cell grade_id, its check calls with their occurrence index."""
    counts: dict[tuple[str, bool], int] = {}
    result: dict[str, list[CheckCall]] = {}
    for cell in graded_test_cells(nb):
        gid = cell.metadata["nbgrader"]["grade_id"]
        result[gid] = []
        for name, hidden in _calls_in(cell.source):
            occ = counts.get((name, hidden), 0)
            counts[(name, hidden)] = occ + 1
            result[gid].append(CheckCall(name, hidden, occ))
    return result


_VISIBLE: dict = {}  # check -> its visible cases, the same for every student


def _cases(check, call: CheckCall, seed: int) -> list:
    """The cases of one call: drawn from the student's seed if hidden; the visible ones are
    drawn once per process and copied (a judge cannot change them for the next student)."""
    if call.hidden:
        return check.cases(checks.case_rng(call.name, True, seed))
    if check not in _VISIBLE:
        _VISIBLE[check] = check.cases(checks.case_rng(call.name, False, checks.VISIBLE_SEED))
    return copy.deepcopy(_VISIBLE[check])


def judge_call(call: CheckCall, record_dir: Path, seed: int) -> tuple[bool, str]:
    """Judge one recorded check call."""
    check = checks.CHECKS.get(call.name)
    if check is None:
        return False, f"unknown check {call.name!r}"
    outputs = checks.load_record(record_dir, call.key)
    if outputs is None:
        return False, f"{call.name}: {MISSING}"
    return check.judge_all(_cases(check, call, seed), outputs)


def judge_notebook(source_notebook: Path, record_dir: Path, seed: int) -> dict[str, Verdict]:
    """Return a verdict for every autograded test cell of the source notebook."""
    nb = nbformat.read(str(source_notebook), as_version=4)
    verdicts = {}
    for gid, calls in check_calls(nb).items():
        if not calls:
            verdicts[gid] = Verdict(gid, False, "this test cell calls no trusted check")
            continue
        messages, passed = [], True
        for call in calls:
            ok, msg = judge_call(call, Path(record_dir), seed)
            passed &= ok
            if not ok:
                messages.append(("hidden check " if call.hidden else "") + msg)
        verdicts[gid] = Verdict(gid, passed, "\n".join(messages) if messages else "passed")
    return verdicts
