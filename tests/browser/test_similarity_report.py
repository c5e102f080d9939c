"""The similarity report in Chromium: offline, ranked, matches highlighted side by side."""

from __future__ import annotations

from fixtures.similarity import classroom as cr

from autograder.similarity import compare as similarity


def test_report_in_the_browser(watched_page, serve_dir, screens_dir, tmp_path):
    course = cr.new_course(tmp_path / "course")
    for student, answers in cr.hand_written().items():
        cr.submit(course, student, answers)
    report = similarity.run(cr.ASSIGNMENT, course)
    page = watched_page
    page.goto(serve_dir(report.html.parent) + "report.html")
    shots = screens_dir("similarity")
    page.screenshot(path=str(shots / "report-top.png"))

    rows = page.locator("tbody tr")
    assert rows.count() == min(len(report.pairs), 10)
    assert page.locator("tbody tr.flag").count() == len(report.flagged) == 2
    assert rows.nth(0).locator("td").nth(1).inner_text() == "ana"

    # the first pair is open: both sides visible next to each other, matches highlighted
    first = page.locator("#pair-1")
    left, right = first.locator(".side").nth(0), first.locator(".side").nth(1)
    lb, rb = left.bounding_box(), right.bounding_box()
    assert abs(lb["y"] - rb["y"]) < 1 and rb["x"] >= lb["x"] + lb["width"] - 1
    hl = first.locator(".hl").first
    assert hl.is_visible()
    background = hl.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")

    # the copy from the course package: a link in the table opens the pair's matches
    eli = page.locator("tbody tr.flag").nth(1)
    assert "course package" in eli.inner_text()
    eli.locator("a").click()
    target = page.locator("#pair-2")
    assert target.locator("h4", has_text="course/layers.py").is_visible()
    target.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "report-course-copy.png"))
    assert page.log.problems() == []
