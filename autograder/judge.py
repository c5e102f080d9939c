"""Judge recorded check outputs in the grader's own, trusted process.

After a submission ran in the sandbox with ``AUTOGRADER_RECORD_DIR`` set, every check
call in it left a recording ``<check>:<hidden>:<occurrence>``. ``judge_notebook`` reads
the test cells of the instructor's SOURCE notebook (never the submission), finds their
``checks.<name>(...)`` calls in order, draws each check's cases again with the right seed
and judges the recorded outputs. No student code runs here.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import checks
from autograder.cells import check_calls_in, grade_id, test_cells
from autograder.checks.framework import Finding
from autograder.results import Verdict

__all__ = ["Verdict", "CheckCall", "check_calls", "judge_notebook"]

MISSING = "did not run (the cell raised or timed out before this check)"


@dataclass
class CheckCall:
    """One ``checks.<name>(..., hidden=...)`` call in a test cell."""

    name: str
    hidden: bool
    occurrence: int

    @property
    def key(self) -> str:
        return checks.record_key(self.name, self.hidden, self.occurrence)


def check_calls(nb) -> dict[str, list[CheckCall]]:
    """Return, per test cell grade_id, its check calls with their occurrence index."""
    counts: dict[tuple[str, bool], int] = {}
    result: dict[str, list[CheckCall]] = {}
    for cell in test_cells(nb):
        gid = grade_id(cell)
        result[gid] = []
        for site in check_calls_in(cell.source):
            occ = counts.get((site.name, site.hidden), 0)
            counts[(site.name, site.hidden)] = occ + 1
            result[gid].append(CheckCall(site.name, site.hidden, occ))
    return result


_VISIBLE: dict = {}  # check -> its visible cases (pickled), the same for every student


def _cases(check, call: CheckCall, seed: int) -> list:
    """The cases of one call: drawn from the student's seed if hidden; the visible ones are
    drawn once per process, and each student gets a copy of their own (new dicts, lists
    and arrays, unpickled), so that a judge cannot change them for the next student."""
    if call.hidden:
        return check.draw(True, seed)
    if check not in _VISIBLE:
        _VISIBLE[check] = pickle.dumps(check.draw(False, checks.VISIBLE_SEED))
    return pickle.loads(_VISIBLE[check])


def judge_call(call: CheckCall, record_dir: Path, seed: int, test: str = "",
               earlier: dict[str, Finding] | None = None) -> tuple[bool, str]:
    """Judge one recorded check call of the test cell ``test``; a failed check adds its
    :class:`~autograder.checks.framework.Finding` to ``earlier`` for the checks after it."""
    earlier = {} if earlier is None else earlier
    check = checks.CHECKS.get(call.name)
    if check is None:
        return False, f"unknown check {call.name!r}"
    outputs = checks.load_record(record_dir, call.key)
    if outputs is None:
        return False, f"{call.name}: {MISSING}"
    cases = _cases(check, call, seed)
    ok, msg = check.judge_all(cases, outputs, dict(earlier))
    if not ok and call.name not in earlier:
        earlier[call.name] = check.finding(cases, outputs, test or call.name, msg)
    return ok, msg


def judge_notebook(source_notebook: Path, record_dir: Path, seed: int) -> dict[str, Verdict]:
    """Return a verdict for every autograded test cell of the source notebook.

    The cells are judged in the notebook's order; a failing cell whose checks build on
    one that failed earlier (``Check.depends``) names that cause first."""
    nb = nbformat.read(str(source_notebook), as_version=4)
    verdicts, earlier = {}, {}
    for gid, calls in check_calls(nb).items():
        if not calls:
            verdicts[gid] = Verdict(False, "this test cell calls no trusted check")
            continue
        messages, passed, before = [], True, dict(earlier)
        for call in calls:
            ok, msg = judge_call(call, Path(record_dir), seed, gid, earlier)
            passed &= ok
            if not ok:
                messages.append(("hidden check " if call.hidden else "") + msg)
        check = checks.CHECKS.get(calls[0].name)
        cause = check.failed_dependency(before) if check is not None else None
        if messages and cause:
            messages[0] = check.blame(before) + messages[0]
        elif cause:  # judged apart from the earlier mistake: say so
            messages = [f"passed, judged apart from {cause.test}, which fails ({cause.cause})"]
        verdicts[gid] = Verdict(passed, "\n".join(messages) if messages else "passed")
    return verdicts
