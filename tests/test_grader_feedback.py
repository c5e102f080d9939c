"""Feedback: every test's verdict and message, never the hidden tests (nbgrader #917)."""

from __future__ import annotations

import re
from html import unescape

import nbformat
import pytest
from fixtures.grader import gradertools as gt

from autograder.__main__ import main
from autograder.grade import grade

pytestmark = pytest.mark.sandbox

WRONG_RELU = "def relu(z):\n    return np.abs(z)\n\n\ndef relu_grad(z):\n    return 1 + 0 * z\n"
# Prints the code of every cell run so far (hidden tests included) at the end.
LEAK = "print(In)\nprint(open(__file__).read() if '__file__' in dir() else '')\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = gt.new_course(gt.shared_template(tmp_path_factory),
                           tmp_path_factory.mktemp("feedback") / "course")
    ann = gt.student_notebook(course, {"relu_solution": WRONG_RELU})
    ann.cells.append(nbformat.v4.new_markdown_cell("My slope: $\\frac{\\partial L}{\\partial z}$."))
    gt.submit(course, "ann", ann)
    leaky = gt.student_notebook(course)
    leaky.cells.append(nbformat.v4.new_code_cell(LEAK))
    gt.submit(course, "lee", leaky)
    gt.submit(course, "bad", raw=b"not json")
    results = grade("ps1", root=course, workers=2, progress=False)
    assert [r.status for r in results] == ["graded"] * 3
    assert main(["feedback", "ps1", "--root", str(course)]) == 0
    return course


def html(course, student):
    """The text of a feedback page (tags of the syntax highlighting removed)."""
    page = (course / "feedback" / student / "ps1" / "ps1.html").read_text()
    return unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_shows_verdicts_and_messages(course):
    page = html(course, "ann")
    assert "PASSED" in page and "FAILED" in page
    assert "relu" in page and "case" in page  # the judge's message names the failing case
    assert "checks.relu(relu, relu_grad)" in page  # the visible test is shown


def test_feedback_never_shows_hidden_tests(course):
    for student in ("ann", "lee"):
        page = html(course, student)
        assert "HIDDEN-MARKER" not in page
        assert "hidden=True" not in page
    # The autograded notebook itself does hold them (it is the instructor's copy).
    autograded = course / "autograded" / "lee" / "ps1" / "ps1.ipynb"
    assert "HIDDEN-MARKER" in autograded.read_text()
    assert "output withheld" in html(course, "lee")


def test_grading_report_for_every_student(course):
    report = (course / "feedback" / "bad" / "ps1" / "grading_report.txt").read_text()
    assert "not valid JSON" in report and "score: 0 / 6" in report
    report = (course / "feedback" / "ann" / "ps1" / "grading_report.txt").read_text()
    assert "score: 3 / 6" in report and "tests passed: 2 of 3" in report


def test_feedback_math_is_mathml_and_the_page_loads_no_script_from_the_network(course):
    page = (course / "feedback" / "ann" / "ps1" / "ps1.html").read_text()
    assert "<script" not in page.lower() and "MathJax" not in page  # nothing to fetch or run
    assert "<math" in page  # the assignment's formulas, drawn natively by the browser
    assert not re.search(r"\$[^$\s][^$]*\$", html(course, "ann").replace("$$", ""))


def test_tex_becomes_mathml_outside_code_and_prices_stay_text():
    from autograder.feedback.math_ml import strip_mathjax, tex_to_mathml

    out = tex_to_mathml("Show $\\frac{\\partial L}{\\partial W}$ for $5 or `$HOME`;\n$$x^2$$")
    assert out.count("<math") == 2 and "<mfrac>" in out and "<msup>" in out
    assert 'display="block"' in out and "`$HOME`" in out and "for $5 or" in out
    page = "<head><!-- Load mathjax -->\n<script src='x'></script>\n" \
           "<!-- End of mathjax configuration --><style></style></head>"
    assert strip_mathjax(page) == "<head><style></style></head>"


def test_a_prime_follows_its_letter_and_the_page_wraps_long_verdicts():
    from autograder.feedback.math_ml import finish_page, tex_to_mathml

    out = tex_to_mathml("$f'(z)$ and $g''$ and $x^2$")
    assert "<mi>f</mi><mo>&#x02032;</mo>" in out and "<mi>g</mi><mo>&#x02033;</mo>" in out
    assert out.count("<msup>") == 1  # x^2 keeps its superscript
    page = finish_page("<head><!-- Load mathjax -->x<!-- End of mathjax configuration -->"
                       "</head><body></body>")
    assert "mathjax" not in page.lower() and page.endswith("</head><body></body>")
    assert "white-space: pre-wrap" in page and page.index("<style>") < page.index("</head>")
