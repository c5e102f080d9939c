"""What grading produces: the verdict on a test cell, the result of one student, and the
plain-text table of a whole run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from autograder.sanitize import shown

__all__ = ["Verdict", "StudentResult", "summary_table"]


@dataclass(frozen=True)
class Verdict:
    """The judge's verdict on one autograded test cell.

    The one shape a verdict has from the judge (:mod:`autograder.judge`) through the
    worker's :class:`~autograder.task.TaskResult` to the gradebook score
    (:class:`autograder.preprocessors.JudgeScores`), the cell's ``autograder`` metadata in
    ``autograded/`` and the feedback page (:mod:`autograder.feedback.generate`).
    """

    passed: bool
    message: str = ""

    def to_metadata(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, answer: Any) -> "Verdict":
        """The verdict of a judge's answer: a Verdict, the metadata dict, or any object
        with ``passed`` (and ``message``), as a stand-in judge may return."""
        if isinstance(answer, cls):
            return answer
        if isinstance(answer, dict):
            return cls(bool(answer["passed"]), str(answer.get("message") or ""))
        return cls(bool(getattr(answer, "passed")), str(getattr(answer, "message", "") or ""))

    def shown(self) -> str:
        """The line a student reads under the test cell."""
        return ("PASSED" if self.passed else "FAILED") + (
            f": {self.message}" if self.message else "")


@dataclass
class StudentResult:
    """The outcome of grading one student, as the summary table and feedback show it."""

    student: str
    status: str  # graded | skipped | failed | refused (a folder name that is no student id)
    score: float | None = None
    max_score: float | None = None
    tests_passed: int = 0
    tests_total: int = 0
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0


def summary_table(results: list[StudentResult]) -> str:
    """A plain-text table: one row per student, then the totals."""
    rows = [("student", "status", "score", "tests", "time", "messages")]
    for r in results:
        score = "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        tests = f"{r.tests_passed}/{r.tests_total}" if r.tests_total else "-"
        first = r.messages[0] if r.messages else ""
        name = shown(r.student) if r.status == "refused" else r.student
        rows.append((name, r.status, score, tests, f"{r.seconds:.1f}s", first))
        for m in r.messages[1:]:
            rows.append(("", "", "", "", "", m))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:5], widths)) + "  " + row[5]
             for row in rows]
    lines.insert(1, "-" * min(120, max(len(x) for x in lines)))
    counts = {s: sum(r.status == s for r in results)
              for s in ("graded", "skipped", "failed", "refused")}
    lines.append(f"graded: {counts['graded']}  skipped (unchanged): {counts['skipped']}  "
                 f"failed: {counts['failed']}  with messages: "
                 f"{sum(bool(r.messages) for r in results)}"
                 + (f"  refused (not a student id): {counts['refused']}"
                    if counts["refused"] else ""))
    return "\n".join(line.rstrip() for line in lines)
