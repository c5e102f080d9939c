"""Student feedback that shows each test's verdict but never the hidden tests.

``python -m autograder feedback <assignment>`` runs nbgrader's ``GenerateFeedback``
(HTML in ``feedback/<student>/<assignment>/``, scores from the gradebook) with one more
preprocessor, :class:`HideHiddenTests` (built on :mod:`autograder.feedback.hidden_tests`),
and writes ``grading_report.txt`` beside it with the grader's per-student messages
(malformed notebooks, restored cells, timeouts...).

nbgrader's own feedback prints the autograded notebook, hidden tests and their
tracebacks included (jupyter/nbgrader#917). Here every test cell shows its visible part
and the judge's verdict (``PASSED`` / ``FAILED: <message>``) instead of its outputs, and
any other output that quotes a line of hidden test code is withheld. Math is turned into
MathML (:mod:`autograder.feedback.math_ml`), so the page needs no network and no script.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import Unicode
from traitlets.config import Config

from autograder.cells import is_test
from autograder.config import STATE_DIR, GradingError, open_course
from autograder.feedback.hidden_tests import strip_hidden_tests
from autograder.feedback.math_ml import MathToMathML
from autograder.results import Verdict
from autograder.sanitize import safe_rendering


class HideHiddenTests(NbGraderPreprocessor):
    """Strip hidden tests (:mod:`autograder.feedback.hidden_tests`), then show each test cell's
    verdict from the judge instead of its outputs."""

    source_directory = Unicode("", help="source/<assignment> directory").tag(config=True)

    def preprocess(self, nb, resources):
        name = resources["nbgrader"]["notebook"]
        src = Path(self.source_directory) / f"{name}.ipynb"
        source_nb = nbformat.read(src, 4) if src.is_file() else None
        nb = strip_hidden_tests(nb, source_nb)
        for cell in nb.cells:
            recorded = cell.metadata.get("autograder")
            if is_test(cell) and recorded is not None:
                text = Verdict.of(recorded).shown()
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                       text=text + "\n")]
        return nb, resources


def generate_feedback(assignment: str, *, root: Path | str | None = None,
                      student: str | None = None, db_url: str | None = None) -> list[Path]:
    """Write feedback for every graded student (or one); return the report files."""
    course = open_course(root, db_url=db_url)
    root, cfg = course.root, course.config
    cfg.CourseDirectory.assignment_id = assignment
    cfg.CourseDirectory.student_id = student or "*"
    coursedir = CourseDirectory(config=cfg)
    source_dir = coursedir.format_path(coursedir.source_directory, ".", assignment)
    if not Path(source_dir).is_dir():
        raise GradingError(f"unknown assignment '{assignment}': no {source_dir}")
    cfg2 = Config()
    cfg2.merge(cfg)
    cfg2.merge(safe_rendering())
    cfg2.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, MathToMathML,
                                           CSSHTMLHeaderPreprocessor]
    cfg2.HideHiddenTests.source_directory = source_dir
    autograded = Path(coursedir.format_path(coursedir.autograded_directory, student or "*",
                                            assignment))
    if any(autograded.parent.parent.glob(f"{student or '*'}/{assignment}")):
        converter = GenerateFeedback(coursedir=CourseDirectory(config=cfg2), config=cfg2)
        converter.force = True
        converter.start()
    reports = []
    state_dir = root / STATE_DIR / "state" / assignment
    for state_file in sorted(state_dir.glob(f"{student or '*'}.json")):
        state = json.loads(state_file.read_text())
        res = state["result"]
        out = Path(coursedir.format_path(coursedir.feedback_directory, res["student"],
                                         assignment))
        out.mkdir(parents=True, exist_ok=True)
        lines = [f"Assignment {assignment}, student {res['student']}",
                 f"score: {res['score']:g} / {res['max_score']:g}"
                 if res.get("score") is not None else "score: -"]
        if res.get("tests_total"):
            lines.append(f"tests passed: {res['tests_passed']} of {res['tests_total']}")
        lines += [f"- {m}" for m in res.get("messages", [])]
        (out / "grading_report.txt").write_text("\n".join(lines) + "\n")
        reports.append(out / "grading_report.txt")
    return reports
