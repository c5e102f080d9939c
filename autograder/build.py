"""The main job (``make course``): render the chapters, build the releases, grade a demo class.

    python -m autograder.build [--skip-chapters] [--skip-demo] [--out build]

1. Executes every lecture notebook in ``course/chapters`` and renders it to
   ``build/chapters/<name>.html``, with an ``index.html`` linking them.
2. Generates ``release/`` from ``source/`` with ``nbgrader generate_assignment``.
3. Grades a demo class (for every assignment a correct, a partly correct and a blank
   submission) in ``build/demo`` and writes its grade table to ``build/demo/grades.csv``.
"""

from __future__ import annotations

import argparse
import html
import os
import subprocess
import sys
import time
from pathlib import Path

from autograder.paths import ROOT, assignments

CHAPTERS = ROOT / "course" / "chapters"


def render_chapters(out: Path, timeout: int = 600) -> list[Path]:
    """Execute each chapter notebook and write it as HTML into out; return the pages."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for nb_path in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        t0 = time.perf_counter()
        nb = nbformat.read(nb_path, as_version=4)
        ExecutePreprocessor(timeout=timeout, kernel_name="python3",
                            extra_arguments=["--IPKernelApp.log_level=ERROR"]).preprocess(
            nb, {"metadata": {"path": str(CHAPTERS)}})
        body, _ = HTMLExporter().from_notebook_node(nb)
        page = out / f"{nb_path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        print(f"  rendered {nb_path.name} -> {page.relative_to(ROOT)} "
              f"({time.perf_counter() - t0:.1f} s)")
    links = "\n".join(f'<li><a href="{p.name}">{html.escape(p.stem)}</a></li>' for p in pages)
    (out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Deep feedforward networks</title>"
        f"<h1>Deep feedforward networks: the chapters</h1><ol>{links}</ol>\n", encoding="utf-8")
    return pages


def build_releases() -> None:
    """Regenerate release/ from source/ with nbgrader."""
    for name in assignments():
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name,
                        "--force", "--log-level=WARN"], cwd=ROOT, check=True)
        print(f"  release/{name} generated from source/{name}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Render the chapters, build the releases, "
                                                 "grade the demo class.")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--skip-chapters", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args(argv)
    # nbgrader runs tools of this environment (alembic) by name
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                          os.environ.get("PATH", "")])
    if not args.skip_chapters:
        print("Chapters:")
        pages = render_chapters(args.out / "chapters")
        print(f"  open {(args.out / 'chapters' / 'index.html')} ({len(pages)} chapters)")
    if assignments():
        print("Releases:")
        build_releases()
        if not args.skip_demo:
            from autograder import demo

            print("Demo class:")
            demo.run(args.out / "demo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
