"""A submission's content never runs in anyone's browser (the hostile-content suite).

A class of ``a3_backprop`` is graded by ``python -m autograder grade``: ``mallory`` hands in
right answers carrying every kind of active content (see ``tests/fixtures/hostile.py``:
markdown, a raw cell, outputs the kernel produces while grading, metadata, attachment
names), ``ada`` right answers, and one folder is named with markup. Then every page that
shows a student's content is opened in Chromium: formgrader as the instructor (a real
Jupyter server), both kinds of feedback page, the similarity report. Every payload that
ran would leave its name in ``window.__pwned`` of some frame; the same notebook rendered
by nbconvert with no sanitising shows those names, so "nothing ran" means "blocked".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import watched_page_of
from fixtures import hostile
from fixtures.hostile import ANSWER_TEXT, ASSIGNMENT, WRITTEN
from lab import running_lab
from playwright.sync_api import expect

LOAD = 60_000


def _run(course: Path, *args: str, ok=(0,)) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", *args], cwd=course, capture_output=True,
                          text=True, env=env, timeout=900)
    assert proc.returncode in ok, f"{args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded, its feedback written both ways, its similarity report."""
    course = tmp_path_factory.mktemp("hostile") / "course"
    paths = hostile.make_class(course)
    grading = _run(course, "autograder", "grade", ASSIGNMENT, "--no-progress", ok=(1,))
    _run(course, "nbgrader", "generate_feedback", ASSIGNMENT, "--force")
    shutil.copytree(course / "feedback", course / "nbgrader-feedback")
    _run(course, "autograder", "feedback", ASSIGNMENT)
    _run(course, "autograder", "similarity", ASSIGNMENT)
    autograded = course / "autograded" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    hostile.control_page(autograded, course / "control.html")
    return course, paths, grading


def _dialogs(page) -> list[str]:
    """Record the page's dialogs (and, in ``window.__blocked`` of each frame, the start of
    every script the Content-Security-Policy refused)."""
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "(window.__blocked = window.__blocked || []).push(e.sample))")
    seen = []

    def on_dialog(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def _markers(page) -> list[str]:
    """The names of the payloads that ran, from every frame of the page."""
    found = []
    for frame in page.frames:
        try:
            found += frame.evaluate("() => window.__pwned || []")
        except Exception:  # a frame that went away
            continue
    return sorted(set(found))


def _blocked_not_payloads(page) -> list[str]:
    """Scripts the policy refused that are not a student's payload (formgrader's own)."""
    blocked = []
    for frame in page.frames:
        blocked += frame.evaluate("() => window.__blocked || []")
    return [b for b in blocked if not b.startswith("(function(){var n=")]


def _active_elements(page) -> list[str]:
    """Elements of the page that could run or send something a student wrote."""
    found = []
    for frame in page.frames:
        found += frame.evaluate(
            """() => [...document.querySelectorAll(
                 'a[href^="javascript:" i], a[href^="data:" i], iframe, object, embed, '
                 + 'form[action*="evil"], [onerror], [onload], [ontoggle], [onmouseover], '
                 + 'img[src^="http"], base, meta[http-equiv="refresh" i]')]
               .map(e => e.outerHTML.slice(0, 120))""")
    return found


def _settle(page) -> None:
    """Let what a page loads run: images fail, frames load, toggles fire."""
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")


def _open(page, url: str) -> None:
    page.goto(url)
    _settle(page)


def test_grade_refuses_a_student_id_that_is_markup_and_grades_the_rest(graded):
    course, _, grading = graded
    assert "refused" in grading.stdout and "not a plain student id" in grading.stdout
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        ids = sorted(s.id for s in gb.students)
        scores = {s: gb.find_submission(ASSIGNMENT, s) for s in ids}
        assert ids == ["ada", "mallory"]
        # the payloads cost mallory nothing: both earn every autograded point
        assert scores["mallory"].code_score == scores["ada"].code_score
        assert scores["ada"].code_score == scores["ada"].max_code_score


def test_the_control_page_runs_the_payloads(graded, chromium, serve_dir):
    course, _, _ = graded
    with watched_page_of(chromium) as page:
        _dialogs(page)
        _open(page, serve_dir(course) + "control.html")
        ran = _markers(page)
        assert set(hostile.MARKERS_MARKDOWN) <= set(ran), ran
        assert set(hostile.MARKERS_OUTPUT) <= set(ran), ran
        assert any("javascript:" in e for e in _active_elements(page))
        assert any("evil.example" in u for u in page.log.foreign_requests)


def _formgrader_lab(course: Path, home: Path):
    return running_lab(course, home, env={"PATH": f"{Path(sys.executable).parent}:"
                                                  f"{os.environ['PATH']}"})


@pytest.fixture(scope="module")
def formgrader(graded, tmp_path_factory):
    course, _, _ = graded
    with _formgrader_lab(course, tmp_path_factory.mktemp("instructor-home")) as lab:
        yield lab


def _log_in(page, lab) -> None:
    """The instructor's session: the token once, then the server's cookie."""
    page.goto(lab.url("api/status"))


def _submission_id(course: Path, student: str) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).id


def test_formgrader_shows_the_answer_and_runs_none_of_it(graded, formgrader, chromium,
                                                         screens_dir):
    course, _, _ = graded
    sid = _submission_id(course, "mallory")
    with watched_page_of(chromium) as page:
        dialogs = _dialogs(page)
        # formgrader's scripts load the grades and comments, then the boxes save
        with page.expect_response(lambda r: "/formgrader/api/comments?" in r.url), \
                page.expect_response(lambda r: "/formgrader/api/grades?" in r.url):
            _log_in(page, formgrader)
            response = page.goto(f"{formgrader.base}formgrader/submissions/{sid}/")
        policy = response.headers.get("content-security-policy", "")
        assert "script-src" in policy and "'unsafe-inline'" not in policy.split(
            "script-src")[1].split(";")[0]
        _settle(page)
        answer = page.locator(".nbgrader_cell", has_text=ANSWER_TEXT)
        expect(answer).to_be_visible(timeout=LOAD)
        assert answer.locator("math").count() >= 2, "the answer's math is MathML"
        expect(answer.locator("td", has_text="(D, H)")).to_be_visible()
        diagram = answer.locator('img[alt="my diagram"]')
        assert diagram.evaluate("i => i.complete && i.naturalWidth") == 16
        answer.scroll_into_view_if_needed()
        page.screenshot(path=screens_dir("hostile") / "formgrader-answer.png")
        # formgrader's own scripts still run: the written answer takes a score
        box = page.locator(f"#{WRITTEN}")
        with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                                  and r.request.method == "PUT") as saved:
            box.fill("1")
            box.press("Tab")
        assert saved.value.ok
        assert _markers(page) == [] and dialogs == []
        assert _active_elements(page) == []
        assert page.log.foreign_requests == []
        assert page.log.page_errors == [] and _blocked_not_payloads(page) == []


@pytest.mark.parametrize("path", ["formgrader/manage_submissions/a3_backprop",
                                  "formgrader/gradebook/a3_backprop/a3_backprop",
                                  "formgrader/manage_students",
                                  "formgrader/manage_students/mallory/a3_backprop"])
def test_formgrader_lists_run_nothing_and_still_work(graded, formgrader, chromium, path):
    with watched_page_of(chromium) as page:
        dialogs = _dialogs(page)
        _log_in(page, formgrader)
        _open(page, formgrader.base + path)
        expect(page.locator("body")).to_contain_text("mallory", timeout=LOAD)
        assert _markers(page) == [] and dialogs == []
        assert page.log.foreign_requests == [] and page.log.page_errors == []
        assert _blocked_not_payloads(page) == [], "formgrader's own scripts run"


@pytest.mark.parametrize("folder", ["feedback", "nbgrader-feedback"])
def test_feedback_shows_the_answer_and_runs_none_of_it(graded, chromium, serve_dir, folder,
                                                       screens_dir):
    course, _, _ = graded
    base = serve_dir(course / folder)
    with watched_page_of(chromium) as page:
        dialogs = _dialogs(page)
        _open(page, f"{base}mallory/{ASSIGNMENT}/{ASSIGNMENT}.html")
        body = page.locator("body")
        expect(body).to_contain_text(ANSWER_TEXT, timeout=LOAD)
        if folder == "feedback":  # the course's feedback shows the judge's verdicts
            expect(body).to_contain_text("PASSED")
        assert page.locator("math").count() >= 2
        expect(page.locator("td", has_text="(D, H)")).to_be_visible()
        assert page.locator('img[alt="my diagram"]').evaluate("i => i.naturalWidth") == 16
        page.locator(".text_cell_render", has_text=ANSWER_TEXT).last.screenshot(
            path=screens_dir("hostile") / f"{folder}-answer.png")
        assert _markers(page) == [] and dialogs == []
        assert _active_elements(page) == []
        assert page.log.foreign_requests == []


def test_the_similarity_report_shows_ids_and_code_as_text(graded, chromium, serve_dir):
    course, _, _ = graded
    base = serve_dir(course / "similarity" / ASSIGNMENT)
    with watched_page_of(chromium) as page:
        dialogs = _dialogs(page)
        _open(page, base + "report.html")
        text = page.locator("body").inner_text()
        assert "eve<img src=x onerror=" in text, "the refused folder is named, as text"
        assert _markers(page) == [] and dialogs == []
        assert _active_elements(page) == []
        assert page.log.foreign_requests == []
