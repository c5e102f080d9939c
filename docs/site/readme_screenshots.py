"""Take the README's two screenshots of the built site (landing page, one chapter).

    python docs/site/readme_screenshots.py      # after `make course`

Writes ``docs/site-landing.png`` and ``docs/site-chapter.png``: the first screen of each
page in headless Chromium, scaled to 1000 pixels wide and reduced to a palette.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"
SHOTS = {"site-landing.png": ("index.html", None),
         "site-chapter.png": ("chapters/05_backprop.html", "#computation-graphs")}
# (page, the section to scroll to: its heading is shown near the top of the screen)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    if not (SITE / "index.html").is_file():
        print("build the site first: make course", file=sys.stderr)
        return 1
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, (rel, anchor) in SHOTS.items():
            page.goto((SITE / rel).as_uri())
            page.evaluate("async () => { if (window.MathJax && MathJax.startup) "
                          "await MathJax.startup.promise; }")
            if anchor:
                page.evaluate("(id) => window.scrollTo(0, document.querySelector(id)"
                              ".getBoundingClientRect().top + window.scrollY - 40)", anchor)
            png = Image.open(io.BytesIO(page.screenshot()))
            small = png.convert("RGB").resize((1000, round(png.height * 1000 / png.width)),
                                              Image.LANCZOS).quantize(colors=128)
            small.save(ROOT / "docs" / name, optimize=True)
            print(f"docs/{name}: {(ROOT / 'docs' / name).stat().st_size // 1024} KiB")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
