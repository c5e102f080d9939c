"""The course website, opened page by page in headless Chromium with no network.

The site is built once per session (``docs/site/build.py``, into a temporary folder;
unchanged chapters come from the build cache that ``make course`` leaves) and served on
127.0.0.1. Every page must load with no request to another host and no console error,
show its math rendered (no raw TeX in the visible text), load every image, give every
image alt text, keep its headings in order, declare its language, and link only to
pages, anchors and files that exist. Full-page screenshots go to build/site-screens/.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "site"))
import build_site as builder  # noqa: E402  (docs/site/build_site.py)

CHAPTERS = [p.stem for p in builder.chapter_paths(ROOT / "course" / "chapters")]

# TeX that MathJax should have turned into math: a control word, \( \) \[ \] or $...$.
RAW_TEX = re.compile(r"\\[A-Za-z]{2,}|\\[()\[\]]|\$[^$\s][^$]{0,200}\$")

VISIBLE_PROSE_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, .highlight, mjx-assistive-mml')
      .forEach(e => e.remove());
  return copy.textContent;
}"""

PAGE_FACTS_JS = """() => ({
  lang: document.documentElement.lang,
  headings: [...document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6')]
      .filter(h => h.checkVisibility()).map(h => [Number(h.tagName[1]), h.textContent.trim()]),
  brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
      .map(i => i.getAttribute('src')),
  missingAlt: [...document.querySelectorAll('main img')]
      .filter(i => !(i.getAttribute('alt') || '').trim()
                   || /\\.(png|svg|jpe?g)$/i.test(i.getAttribute('alt')))
      .map(i => i.getAttribute('src')),
  mathRendered: document.querySelectorAll('mjx-container').length,
  mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
})"""


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The whole site, built once for the session."""
    return builder.build(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture
def site_url(site, serve_dir) -> str:
    return serve_dir(site)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


def _ids_of(page: Path, cache: dict) -> set:
    if page not in cache:
        parser = _Ids()
        parser.feed(page.read_text(encoding="utf-8"))
        cache[page] = parser.ids
    return cache[page]


def broken_links(links: list[str], base: str, site: Path, id_cache: dict) -> list[str]:
    """The links to the local server that point to no file, or to no anchor in their page."""
    broken = []
    for link in links:
        url, fragment = urldefrag(link)
        if not url.startswith(base):
            continue
        target = site / unquote(urlparse(url).path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(link)
        elif fragment and target.suffix == ".html" and unquote(fragment) not in _ids_of(
                target, id_cache):
            broken.append(link)
    return broken


def heading_problems(headings: list) -> list[str]:
    """Headings out of order: not one h1 first, or a level that skips a step down."""
    if not headings or headings[0][0] != 1:
        return [f"the first heading is not an h1: {headings[:1]}"]
    problems = [f"second h1: {text!r}" for level, text in headings[1:] if level == 1]
    for (prev, _), (level, text) in zip(headings, headings[1:]):
        if level > prev + 1:
            problems.append(f"h{prev} followed by h{level} ({text!r})")
    return problems


def test_every_page_works_offline(site, site_url, watched_page, screens_dir):
    """Each page: local requests only, no console error, math rendered, images, alt, links."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not p.relative_to(site).parts[0].startswith("_"))
    assert {"index.html", "instructors.html", "search.html"} <= set(pages)
    assert {f"chapters/{c}.html" for c in CHAPTERS} <= set(pages)
    screens = screens_dir("site-screens")
    page, report, id_cache = watched_page, {}, {}
    for rel in pages:
        page.goto(site_url + rel, wait_until="load")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) "
                      "await MathJax.startup.promise; }")
        facts = page.evaluate(PAGE_FACTS_JS)
        problems = page.log.problems()
        page.log.foreign_requests.clear()
        page.log.console_errors.clear()
        page.log.page_errors.clear()
        if facts["lang"] != "en":
            problems.append(f"lang is {facts['lang']!r}")
        tex = RAW_TEX.findall(page.evaluate(VISIBLE_PROSE_JS))
        problems += [f"raw TeX in the text: {t!r}" for t in tex[:5]]
        problems += [f"TeX error: {e!r}" for e in facts["mathErrors"]]
        problems += [f"image not loaded: {s}" for s in facts["brokenImages"]]
        problems += [f"image without alt text: {s}" for s in facts["missingAlt"]]
        problems += heading_problems(facts["headings"])
        problems += [f"broken link: {u}" for u in
                     broken_links(facts["links"], site_url, site, id_cache)]
        if rel.startswith("chapters/") and not facts["mathRendered"]:
            problems.append("no rendered math on a chapter page")
        page.screenshot(path=str(screens / (rel.replace("/", "_")[:-5] + ".png")),
                        full_page=True)
        if problems:
            report[rel] = problems
    assert not report, "\n".join(f"{rel}:\n  " + "\n  ".join(p) for rel, p in report.items())


def test_next_from_the_landing_page_visits_the_chapters_in_order(site_url, watched_page):
    """Following "next" from the landing page walks through the seven chapters in order."""
    page = watched_page
    page.goto(site_url + "index.html")
    visited = []
    for _ in CHAPTERS:
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.locator("a.right-next").first.click()
        visited.append(Path(urlparse(page.url).path).stem)
    assert visited == CHAPTERS
    assert len(CHAPTERS) == 7
    assert page.log.problems() == []


def test_landing_page_lists_chapters_assignments_and_guide(site, site_url, watched_page):
    """Seven chapter cards with thumbnails, each assignment with a notebook link, the guide."""
    page = watched_page
    page.goto(site_url + "index.html")
    cards = page.locator(".chapter-card")
    assert cards.count() == len(CHAPTERS)
    for i, stem in enumerate(CHAPTERS):
        card = cards.nth(i)
        assert card.locator("img").evaluate("i => i.naturalWidth") > 0
        assert card.locator("a", has_text=re.compile(r"\w")).last.get_attribute(
            "href").endswith(f"chapters/{stem}.html")
        assert "You will be able to" in card.inner_text()
    for name in builder.assignments():
        link = page.locator(f"a:has-text('{name}.ipynb')")
        assert link.count() == 1, name
        served = site / link.get_attribute("href")
        assert served.read_bytes() == (ROOT / "release" / name / f"{name}.ipynb").read_bytes()
    assert page.locator("a[href='instructors.html']").count() >= 1
    text = page.inner_text("main")
    assert "make course" in text and "conda env create -f environment.yml" in text


def test_chapter_page_has_outline_download_and_static_widget(site, site_url, watched_page):
    """A chapter page: sidebar of all chapters, its own outline, its notebook, widget figure."""
    page = watched_page
    stem = CHAPTERS[4]
    page.goto(site_url + f"chapters/{stem}.html")
    sidebar = page.locator(".bd-sidebar-primary li.toctree-l1 > a")
    hrefs = [sidebar.nth(i).get_attribute("href") for i in range(sidebar.count())]
    stems = [stem if h == "#" else Path(h).stem for h in hrefs]  # "#": this page
    assert [s for s in stems if s.startswith("0")] == CHAPTERS
    assert page.locator(".bd-sidebar-secondary nav a").count() >= 5  # the page's outline
    download = page.locator("a:has-text('Download this notebook')")
    assert (site / "chapters" / download.get_attribute("href")).resolve().read_bytes() == (
        ROOT / "course" / "chapters" / f"{stem}.ipynb").read_bytes()
    note = page.locator(".admonition", has_text="Interactive control")
    assert note.count() >= 1
    figure = note.first.locator("xpath=preceding::img[1]")
    assert figure.evaluate("i => i.naturalWidth") > 0
    assert "jupyter lab" in note.first.inner_text()


def test_search_finds_a_chapter_offline(site_url, watched_page):
    """Sphinx's own search index answers a query with no network."""
    page = watched_page
    page.goto(site_url + "search.html?q=perceptron")
    results = page.locator("#search-results li a")
    results.first.wait_for(timeout=20_000)
    assert any("01_perceptron" in (results.nth(i).get_attribute("href") or "")
               for i in range(results.count()))
    assert page.log.problems() == []
