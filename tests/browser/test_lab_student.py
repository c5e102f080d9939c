"""A student's term in JupyterLab, driven in Chromium: chapters, an assignment, Validate,
the Assignment List, and what the student's configuration hides.

Screenshots of each step go to ``build/tour/`` (the README's tour shows some of them).
"""

from __future__ import annotations

import re

import jlab
import pytest
from classroom import ASSIGNMENT, GOOD_AFFINE, ROOT, WRONG_AFFINE
from conftest import watched_page_of
from playwright.sync_api import expect

CHAPTERS = sorted((ROOT / "course" / "chapters").glob("0*.ipynb"))
INSTRUCTOR_ONLY = {"nbgrader:open-formgrader": "Formgrader",
                   "nbgrader:open-create-assignment": "Create assignment",
                   "nbgrader:open-course-list": "Course List"}


@pytest.fixture(scope="module")
def tour(screens_dir):
    return screens_dir("tour")


# ------------------------------------------------------------------------------ chapters

def _figure(widget) -> str:
    """The PNG (data URL) a control's figure shows right now."""
    img = widget.locator(".widget-output img").first
    expect(img).to_be_visible()
    return img.get_attribute("src")


def _move_first_control(widget) -> str:
    """Change the first slider or dropdown of an interactive widget; return what it was."""
    control = widget.locator(".widget-slider .noUi-handle, .widget-dropdown select").first
    if control.evaluate("e => e.tagName") == "SELECT":
        options = control.locator("option")
        current = control.input_value()
        other = next(v for v in (options.nth(i).get_attribute("value")
                                 for i in range(options.count())) if v != current)
        control.select_option(other)
        return f"dropdown {current} -> {other}"
    before = control.get_attribute("aria-valuenow")
    at_max = before == control.get_attribute("aria-valuemax")
    control.focus()
    control.press("Home" if at_max else "End")
    expect(control).not_to_have_attribute("aria-valuenow", before)
    return f"slider {before} -> {control.get_attribute('aria-valuenow')}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_and_its_first_control_redraws(chapter, student_lab, watched_page, tour):
    page = watched_page
    notebook = jlab.open_notebook(page, student_lab, f"chapters/{chapter.name}")
    jlab.run_all(page)

    errors = notebook.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.'
                              'error"]')
    assert errors.count() == 0, errors.first.inner_text()
    widgets = notebook.locator(".widget-interact")
    expect(widgets.first).to_be_attached()  # every chapter has at least one control
    for i in range(widgets.count()):
        expect(widgets.nth(i).locator(".widget-output img").first).to_be_visible()
        assert widgets.nth(i).locator(".widget-slider, .widget-dropdown").count() >= 1
    outputs = " ".join(notebook.locator(".jp-OutputArea-output").all_inner_texts())
    for broken in ("Error displaying widget", "Loading widget", "interactive(children="):
        assert broken not in outputs, f"a control did not render: {broken}"

    widget = widgets.first
    widget.scroll_into_view_if_needed()
    before = _figure(widget)
    what = _move_first_control(widget)
    expect(widget.locator(".widget-output img").first).not_to_have_attribute(
        "src", before, timeout=jlab.LOAD)
    assert _figure(widget) != before, f"{chapter.stem}: {what} did not change the figure"
    widget.screenshot(path=tour / f"student-chapter-{chapter.stem}.png")
    assert page.log.problems() == []
    student_lab.shutdown_kernels()


# ---------------------------------------------------------------------- the student's view

def _nbgrader_menu(page, lab) -> dict[str, str]:
    """{command: visible label} of the items in the Nbgrader menu."""
    jlab.open_lab(page, lab)
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    menu = page.locator("#jp-mainmenu-nbgrader")
    expect(menu).to_be_visible()
    return {li.get_attribute("data-command"): li.inner_text().strip()
            for li in menu.locator("li[data-command]").all() if li.is_visible()}


def _create_assignment_tab(page):
    return page.locator(".jp-SideBar .lm-TabBar-tab[title*='Create Assignment']")


def test_student_does_not_see_instructor_tools(student_lab, watched_page, tour):
    page = watched_page
    items = _nbgrader_menu(page, student_lab)
    page.screenshot(path=tour / "student-nbgrader-menu.png")
    assert items == {"nbgrader:open-assignment-list": "Assignment List"}
    assert _create_assignment_tab(page).count() == 0
    resp = page.request.get(student_lab.url("formgrader"))
    assert resp.status == 404, "the formgrader server extension is off for students"


def test_instructor_sees_instructor_tools(instructor_lab, watched_page, tour):
    page = watched_page
    items = _nbgrader_menu(page, instructor_lab)
    page.screenshot(path=tour / "instructor-nbgrader-menu.png")
    for command, label in INSTRUCTOR_ONLY.items():
        assert items.get(command) == label
    assert items.get("nbgrader:open-assignment-list") == "Assignment List"
    expect(_create_assignment_tab(page)).to_have_count(1)


# ------------------------------------------------------------------------ the assignment

@pytest.fixture(scope="module")
def affine_attempts(fetched_assignment, student_lab, chromium, tour):
    """Type a correct, then a wrong affine layer into the answer cell; run the test cell
    after each. Returns the test cell's output for both. The notebook is saved with the
    wrong version."""
    with watched_page_of(chromium) as page:
        notebook = jlab.open_notebook(page, student_lab,
                                      f"{ASSIGNMENT}/{fetched_assignment.name}")
        jlab.run_cell(jlab.cell_by_text(notebook, "from autograder import checks"))
        answer = jlab.cell_by_text(notebook, "def affine_backward(dout, cache)")
        test_forward = jlab.cell_by_text(notebook, "checks.affine_forward(")
        test = jlab.cell_by_text(notebook, "checks.affine_backward(")
        outputs = {}
        for name, source in (("good", GOOD_AFFINE), ("wrong", WRONG_AFFINE)):
            jlab.set_source(answer, source)
            for cell in (answer, test_forward, test):
                jlab.run_cell(cell)
            outputs[name] = jlab.output_text(test)
            answer.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=tour / f"student-affine-{name}.png")
            test.screenshot(path=tour / f"student-affine-{name}-check.png")
        jlab.save(page)
        assert page.log.problems() == []
    return outputs


def test_correct_affine_layer_passes(affine_attempts):
    assert re.search(r"affine_backward: \d+ cases passed", affine_attempts["good"])
    assert "Error" not in affine_attempts["good"]


def test_wrong_transpose_names_dW_and_the_likely_mistake(affine_attempts):
    out = affine_attempts["wrong"]
    assert "dW is wrong" in out
    assert ".T" in out and "transpose" in out


def test_failing_check_shows_its_message_first_and_no_grader_frames(affine_attempts):
    out = affine_attempts["wrong"]
    assert "autograder/" not in out and "checks.py" not in out, out
    before_message = out[:out.index("dW is wrong")]
    assert "Traceback" not in before_message and "File " not in before_message, out


def test_validate_lists_the_failing_cells_with_their_messages(affine_attempts,
                                                              fetched_assignment,
                                                              student_lab, watched_page,
                                                              tour):
    page = watched_page
    jlab.open_notebook(page, student_lab, f"{ASSIGNMENT}/{fetched_assignment.name}")
    jlab.current_panel(page).locator("jp-button.validate-button").click()
    dialog = page.locator(".nbgrader-ErrorDialog")
    expect(dialog).to_have_count(1, timeout=jlab.RUN)
    expect(dialog.locator(".validation-failed")).to_be_visible()
    page.screenshot(path=tour / "student-validate.png")
    text = dialog.inner_text()
    message = next(line for line in affine_attempts["wrong"].splitlines() if "dW is wrong" in line)
    assert message in text
    # The MLP's check fails too (unanswered, or chaining the wrong affine layer); the
    # affine forward pass is right and its cell is not listed.
    assert "checks.affine_backward(" in text and "checks.mlp_backward(" in text
    assert "checks.affine_forward(" not in text
    page.locator(".nbgrader-ErrorDialog button.jp-Dialog-button").click()
    assert page.log.problems() == []


def test_submit_from_the_assignment_list(affine_attempts, classroom, student_lab,
                                         watched_page, tour):
    page = watched_page
    jlab.open_lab(page, student_lab)
    jlab.open_assignment_list(page)
    jlab.submit_assignment(page, ASSIGNMENT)
    page.screenshot(path=tour / "student-submitted.png")
    inbound = classroom.exchange / classroom.course_id / "inbound"
    assert any(p.name.startswith(f"{classroom.student_id}+{ASSIGNMENT}+")
               for p in inbound.iterdir())
    assert page.log.problems() == []
