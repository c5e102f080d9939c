"""The browser fixture itself: a local page loads, and the network watch catches leaks."""

from pathlib import Path


def test_local_page_loads_and_foreign_requests_are_caught(watched_page, serve_dir, tmp_path):
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang='en'><title>t</title><h1>local</h1>"
        "<img src='https://cdn.example.org/x.png'>"
        "<script>console.error('boom')</script>", encoding="utf-8")
    base = serve_dir(Path(tmp_path))
    watched_page.goto(base + "index.html")
    assert watched_page.locator("h1").inner_text() == "local"
    assert any("cdn.example.org" in u for u in watched_page.log.foreign_requests)
    assert any("boom" in m for m in watched_page.log.console_errors)
    assert len(watched_page.log.problems()) >= 2


def test_clean_page_has_no_problems(watched_page, serve_dir, tmp_path):
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang='en'><title>t</title><p>ok</p>", encoding="utf-8")
    watched_page.goto(serve_dir(Path(tmp_path)) + "index.html")
    assert watched_page.log.problems() == []
