"""The instructor's side of a term, driven in Chromium where a person would use a browser:
collect, grade in the sandbox, hand-grade the written answer in formgrader, release
feedback that the student fetches and reads, export the grades.

Screenshots of each step go to ``build/tour/``.
"""

from __future__ import annotations

import csv
import re
import sys

import jlab
import nbformat
import pytest
from classroom import ASSIGNMENT, ROOT, WRONG_AFFINE
from conftest import watched_page_of
from playwright.sync_api import expect

from autograder.course_build import demo

WRITTEN = "written_bias_gradient"
ANSWER = ("b is added to every row of the batch, so each of the N rows sends its dout back "
          "to the same b: db sums them into one (H,) vector. Each example has its own row "
          "of x, so dx keeps one row per example: (N, D).")
MANUAL_SCORE = 1.5
COMMENT = "Right idea; say which axis the sum runs over."
# The wrong dW fails its own test and the MLP's, which chains the student's affine layer.
FAILING = ("test_affine_backward", "test_mlp_backward")


def _points(assignment: str) -> tuple[dict[str, float], dict[str, float]]:
    """Points of the autograded test cells and of the manually graded cells, by grade id."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    auto, manual = {}, {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            (auto if cell.cell_type == "code" else manual)[meta["grade_id"]] = meta["points"]
    return auto, manual


@pytest.fixture(scope="module")
def tour(screens_dir):
    return screens_dir("tour")


@pytest.fixture(scope="module")
def submitted(fetched_assignment, student_lab, chromium):
    """The student hands in every answer right except the affine layer's dW (a misplaced
    transpose), plus a written answer, through the Assignment List."""
    notebook = fetched_assignment
    with watched_page_of(chromium) as page:
        jlab.open_lab(page, student_lab)
        jlab.open_assignment_list(page)
        source = nbformat.read(ROOT / "source" / ASSIGNMENT / notebook.name, as_version=4)
        answers = {**demo.answers(source), "affine_layer": WRONG_AFFINE, WRITTEN: ANSWER}
        nbformat.write(demo.fill(nbformat.read(notebook, as_version=4), answers), notebook)
        jlab.submit_assignment(page, ASSIGNMENT)
        assert page.log.problems() == []
    return notebook


@pytest.fixture(scope="module")
def graded(submitted, classroom):
    """``nbgrader collect`` then ``python -m autograder grade`` (sandboxed) in the course."""
    classroom.nbgrader("collect", ASSIGNMENT, "--update")
    assert (classroom.course / "submitted" / classroom.student_id / ASSIGNMENT
            / submitted.name).is_file()
    proc = classroom.instructor(sys.executable, "-m", "autograder", "grade", ASSIGNMENT,
                                "--no-progress", timeout=900)
    return proc.stdout


def _problems_but_known(log) -> list[str]:
    """The page's problems, less one that belongs to JupyterLab by design: it shows an HTML
    file in a sandboxed frame, so a page's inline scripts would not run until the reader
    presses "Trust HTML" (the feedback has none; it reads the same either way).

    Nothing is fetched from another host: formgrader's MathJax loader is replaced
    (``autograder.formgrader_policy``) and the feedback's math is MathML.
    """
    return [p for p in log.problems() if "because the document's frame is sandboxed" not in p]


def _formgrader(page, lab):
    """Open Nbgrader > Formgrader in JupyterLab; return its frame."""
    jlab.open_lab(page, lab)
    jlab.menu(page, "Nbgrader", "nbgrader:open-formgrader")
    frame_el = page.locator("#jp-main-dock-panel iframe")
    expect(frame_el).to_be_visible(timeout=jlab.LOAD)
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_load_state()
    return frame


def test_formgrader_shows_autograded_scores_and_takes_a_manual_grade(graded, classroom,
                                                                     instructor_lab,
                                                                     watched_page, tour):
    auto, manual = _points(ASSIGNMENT)
    expected_auto = sum(auto.values()) - sum(auto[g] for g in FAILING)
    page = watched_page
    frame = _formgrader(page, instructor_lab)
    base = instructor_lab.base.rstrip("/")

    frame.goto(f"{base}/formgrader/manage_submissions/{ASSIGNMENT}")
    row = frame.locator("tr", has_text=classroom.student_id)
    expect(row).to_have_count(1, timeout=jlab.LOAD)
    score = row.locator("td.score")
    total = sum(auto.values()) + sum(manual.values())
    expect(score).to_contain_text(f"{expected_auto:g} / {total:g}")
    page.screenshot(path=tour / "instructor-formgrader-submissions.png")

    frame.goto(f"{base}/formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
    # The score and comment boxes save once the page has loaded the grades and comments.
    with page.expect_response(lambda r: "/formgrader/api/comments?" in r.url), \
            page.expect_response(lambda r: "/formgrader/api/grades?" in r.url):
        frame.locator("a", has_text=re.compile(r"Submission #1")).click()
    box = frame.locator(f"#{WRITTEN}")
    expect(box).to_be_visible(timeout=jlab.LOAD)
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                              and r.request.method == "PUT") as saved:
        box.fill(f"{MANUAL_SCORE}")
        box.press("Tab")
    assert saved.value.ok
    comment = frame.locator(f"#{WRITTEN}-comment")
    with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url
                              and r.request.method == "PUT") as saved:
        comment.fill(COMMENT)
        comment.press("Tab")
    assert saved.value.ok
    frame.locator(f"#{WRITTEN}").scroll_into_view_if_needed()
    page.screenshot(path=tour / "instructor-formgrader-manual-grade.png")
    assert _problems_but_known(page.log) == []

    with classroom.api().gradebook as gb:
        sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, classroom.student_id)
        grades = {g.name: g for g in sub.grades}
        comments = {c.name: c for c in sub.comments}
        assert grades[WRITTEN].manual_score == MANUAL_SCORE
        assert comments[WRITTEN].manual_comment == COMMENT
        assert sub.score == expected_auto + MANUAL_SCORE


@pytest.fixture(scope="module")
def feedback_released(graded, classroom):
    # Runs after the manual grade (tests of this module run in order): the feedback
    # carries the instructor's comment and the hand-given points.
    classroom.instructor(sys.executable, "-m", "autograder", "feedback", ASSIGNMENT)
    classroom.nbgrader("release_feedback", ASSIGNMENT)


@pytest.fixture(scope="module")
def feedback_seen(feedback_released, student_lab, chromium, tour):
    """The student fetches the feedback in the Assignment List and opens it in JupyterLab;
    returns the text they read, what the page asked of the network, its formulas and the
    outputs (verdicts) the student would have to scroll sideways."""
    with watched_page_of(chromium) as page:
        jlab.open_lab(page, student_lab)
        jlab.open_assignment_list(page)
        row = jlab.assignment_rows(page, "submitted").filter(has_text=ASSIGNMENT)
        expect(row).to_contain_text("feedback available to fetch", timeout=jlab.LOAD)
        row.locator('button:text("Fetch Feedback")').click()
        view = row.locator("a", has_text="view feedback")
        expect(view).to_have_count(1, timeout=jlab.LOAD)
        page.screenshot(path=tour / "student-feedback-fetched.png")

        view.first.click()  # the file browser goes to the feedback folder
        html = page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html")
        expect(html).to_be_visible(timeout=jlab.LOAD)
        html.dblclick()
        body = page.frame_locator(".jp-HTMLViewer iframe").locator("body")
        expect(body).to_contain_text(COMMENT, timeout=jlab.LOAD)
        page.screenshot(path=tour / "student-feedback.png")
        for what, text in (("verdict", "FAILED"), ("comment", COMMENT)):
            body.get_by_text(text).first.evaluate("e => e.scrollIntoView({block: 'center'})")
            page.screenshot(path=tour / f"student-feedback-{what}.png")
        sideways = body.evaluate(
            "b => [...b.querySelectorAll('.output_subarea, .output_subarea *')].filter(e => "
            "e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX != 'visible')"
            ".map(e => e.tagName + ': ' + e.textContent.slice(0, 60))")
        return body.inner_text(), page.log, body.locator("math").count(), sideways


def test_feedback_shows_verdicts_and_comment_but_no_hidden_tests(feedback_seen):
    text, log, _, sideways = feedback_seen
    assert "hidden=True" not in text and "HIDDEN TESTS" not in text
    auto, _ = _points(ASSIGNMENT)
    verdicts = re.findall(r"\b(PASSED|FAILED)\b", text)
    assert len(verdicts) == len(auto), f"one verdict per test cell: {verdicts}"
    assert verdicts.count("FAILED") == len(FAILING) and "dW is wrong" in text
    assert COMMENT in text
    assert _problems_but_known(log) == []
    assert sideways == [], "a verdict wraps inside its box"


def test_feedback_needs_no_internet_and_shows_its_math(feedback_seen):
    text, log, formulas, _ = feedback_seen
    assert log.foreign_requests == []
    assert formulas > 0, "the assignment's formulas are drawn as MathML"
    assert not re.search(r"\$\\[a-z]", text), "no raw TeX left in the page"


def test_export_shows_autograded_plus_manual_score(feedback_released, classroom):
    auto, manual = _points(ASSIGNMENT)
    classroom.nbgrader("export")
    with open(classroom.course / "grades.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f)
                if r["assignment"] == ASSIGNMENT and r["student_id"] == classroom.student_id]
    assert len(rows) == 1
    expected = sum(auto.values()) - sum(auto[g] for g in FAILING) + MANUAL_SCORE
    assert float(rows[0]["score"]) == pytest.approx(expected)
    assert float(rows[0]["max_score"]) == pytest.approx(sum(auto.values()) + sum(manual.values()))

