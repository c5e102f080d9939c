"""Build the course website, ``build/site/``, that works with no network at all.

    python docs/site/build_site.py [--out build/site] [--chapters course/chapters] [--jobs 2]

1. Checks that every assignment of ``source/`` has its student notebook
   ``release/<a>/<a>.ipynb`` and a row in the README's assignments table.
2. Executes the numbered chapters ``0*_*.ipynb`` with nbclient (in parallel;
   ``autograder.kernel_ready.ReadyNotebookClient``, which asks a kernel again when its
   ``kernel_info`` reply is lost). A cell that fails stops the build with the chapter's
   name, the cell's index and the error.
3. Prepares each executed notebook for the web: a live ipywidgets control becomes the
   figure of its default state and a note on running it in JupyterLab; every figure
   becomes an image whose alt text is its plot title; a download link to the notebook
   opens the page.
4. Writes the landing page from ``landing.md``, with the chapter and assignment tables
   of ``README.md`` (their one source) and a thumbnail per chapter, and the instructor's
   guide from the README's "For instructors" section.
5. Runs Sphinx (myst-nb, Sphinx Book Theme) with MathJax copied from a Python package,
   in a temporary folder next to the output, and moves the finished site into place:
   a failed build leaves no half-written site.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import io
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from autograder.layout import assignments  # noqa: E402  (the assignments of source/)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
THUMB_WIDTH = 420


class BuildError(RuntimeError):
    """The site cannot be built; the message says which input is at fault."""


@dataclass
class Chapter:
    stem: str
    title: str
    summary: str
    thumbnail: str      # file name under _static/thumbs/
    thumbnail_alt: str


# ---------------------------------------------------------------------------- inputs

def chapter_paths(chapters_dir: Path) -> list[Path]:
    """The numbered chapters ``0*_*.ipynb`` of chapters_dir, in order."""
    paths = sorted(chapters_dir.glob("0*_*.ipynb"))
    if not paths:
        raise BuildError(f"no chapter notebooks (0*_*.ipynb) in {chapters_dir}")
    return paths


def readme_section(readme: str, heading: str) -> str:
    """The text of the README's ``## heading`` section, without the heading line."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if not match:
        raise BuildError(f"README.md has no '## {heading}' section")
    return match.group(1).strip()


def readme_table(readme: str, heading: str) -> dict[str, str]:
    """The first table of a README section as {first cell without backticks: second cell}."""
    rows = {}
    for line in readme_section(readme, heading).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and line.lstrip().startswith("|") and not set(cells[0]) <= set("-: "):
            rows[cells[0].strip("`")] = cells[1]
        elif rows and not line.strip():
            break
    return rows


def release_notebooks(names: list[str], release_dir: Path) -> dict[str, Path]:
    """The student notebook ``release/<a>/<a>.ipynb`` of each assignment; BuildError if absent."""
    found = {a: release_dir / a / f"{a}.ipynb" for a in names}
    missing = [str(p) for p in found.values() if not p.is_file()]
    if missing:
        raise BuildError("missing release notebook(s): " + ", ".join(missing)
                         + " (run `nbgrader generate_assignment <a> --force`)")
    return found


def assignment_inputs(names: list[str], release_dir: Path, readme: str
                      ) -> tuple[dict[str, Path], dict[str, str]]:
    """(release notebook, goal in the README's "The assignments" table) of each assignment;
    BuildError names the first one missing."""
    notebooks = release_notebooks(names, release_dir)
    goals = readme_table(readme, "The assignments")
    for name in names:
        if name not in goals:
            raise BuildError(f"assignment {name} has no row in the README's "
                             "'The assignments' table")
    return notebooks, goals


# ------------------------------------------------------------------------- execution

def execute_chapter(path: Path, timeout: int = 600):
    """Execute a chapter notebook in its own folder; BuildError names chapter, cell, error."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    # nbclient's client, but a lost kernel_info reply costs a second, not `timeout`
    from autograder.kernel_ready import ReadyNotebookClient

    nb = nbformat.read(path, as_version=4)
    client = ReadyNotebookClient(
        nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR",
                         f"--IPKernelApp.exec_files=['{HERE / 'figure_alt.py'}']"])
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        for index, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    raise BuildError(f"chapter {path.name} failed at cell index {index}: "
                                     f"{out['ename']}: {out['evalue']}") from None
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"chapter {path.name} failed: {last}") from None
    return nb


def cache_key(path: Path) -> str:
    """A digest of what a chapter's outputs depend on: the notebook, `course`, the hook."""
    digest = hashlib.sha256(path.read_bytes())
    for dep in sorted((ROOT / "course").glob("*.py")) + [HERE / "figure_alt.py"]:
        digest.update(dep.name.encode() + dep.read_bytes())
    return digest.hexdigest()[:20]


def _execute_cached(path: Path, cache: Path | None):
    import nbformat

    t0 = time.perf_counter()
    cached = cache / f"{path.stem}-{cache_key(path)}.ipynb" if cache else None
    if cached is not None and cached.is_file():
        return nbformat.read(cached, as_version=4), None
    nb = execute_chapter(path)
    if cached is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for old in cache.glob(f"{path.stem}-*.ipynb"):
            old.unlink()
        nbformat.write(nb, cached)
    return nb, time.perf_counter() - t0


def execute_all(paths: list[Path], jobs: int, cache: Path | None = None) -> list:
    """Execute the chapters, `jobs` at a time; the first failure (in chapter order) stops all.

    With a cache folder, a chapter whose notebook and `course` are unchanged since its
    last run is read from there instead.
    """
    # Spawned, not forked: the caller may hold threads and ZeroMQ contexts (a test run
    # with a browser and kernels open) that a forked child would inherit half-alive.
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_execute_cached, p, cache) for p in paths]
        notebooks = []
        for path, future in zip(paths, futures):
            try:
                nb, seconds = future.result()
            except BuildError:
                for f in futures:
                    f.cancel()
                raise
            how = f"executed ({seconds:.1f} s)" if seconds is not None else "unchanged (cached)"
            print(f"  {path.name}: {how}", flush=True)
            notebooks.append(nb)
    return notebooks


# --------------------------------------------------------------------- web preparation

def _widget_parts(state: dict, model_id: str, controls: list, outputs: list) -> None:
    """Collect the controls (description = value) and captured outputs under a widget."""
    model = state.get(model_id)
    if model is None:
        return
    s = model.get("state", {})
    if model.get("model_name") == "OutputModel":
        outputs.extend(s.get("outputs", []))
    elif s.get("description") and ("value" in s or "index" in s):
        value = s.get("value")
        if isinstance(s.get("index"), int) and s.get("_options_labels"):  # menus, selections
            value = s["_options_labels"][s["index"]]
        controls.append(f"{s['description']} = {value}")
    for child in s.get("children", []):
        _widget_parts(state, str(child).replace("IPY_MODEL_", ""), controls, outputs)


def staticize_widgets(nb) -> int:
    """Replace each live widget output by its default-state outputs and a note; return count."""
    import nbformat

    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        new_outputs, controls = [], []
        found = False
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                new_outputs.append(out)
                continue
            found = True
            captured: list = []
            _widget_parts(state, view["model_id"], controls, captured)
            new_outputs.extend(nbformat.from_dict(copy.deepcopy(o)) for o in captured)
        if found:
            count += 1
            cell.outputs = new_outputs
            settings = f" ({', '.join(controls)})" if controls else ""
            cells.append(nbformat.v4.new_markdown_cell(
                ":::{admonition} Interactive control\n:class: note\n"
                f"In the notebook this figure comes with controls{settings}; this page shows "
                "it at their default settings. To move them, download the notebook (link at "
                "the top of the page) and run it in JupyterLab: `jupyter lab "
                "course/chapters` from the course's folder.\n:::"))
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return count


INLINE_MATH = re.compile(r"(?<![$\\])\$(?!\$)([^$]+?)(?<!\\)\$(?!\$)")


def join_inline_math_lines(nb) -> None:
    """Put each inline formula of the markdown cells on one line, as JupyterLab reads it.

    JupyterLab takes the math out of a cell before it parses the Markdown; MyST parses
    first, so a formula wrapped onto a line that starts with ``+`` or ``-`` would become
    a list item. Display math (``$$``) is left alone.
    """
    for cell in nb.cells:
        if cell.cell_type != "markdown" or "$" not in cell.source:
            continue
        parts = re.split(r"(\$\$.*?\$\$)", cell.source, flags=re.S)
        cell.source = "".join(
            part if part.startswith("$$") else INLINE_MATH.sub(
                lambda m: "$" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "$", part)
            for part in parts)


def _section_headings(nb):
    """For each cell, the last markdown heading at or before it (the page's title first)."""
    heading, result = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
        result.append(heading)
    return result


def title_of(nb, fallback: str) -> str:
    """The notebook's first level-1 heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _alt_escape(text: str) -> str:
    return re.sub(r"[\[\]\n`]", " ", text).strip()


def figures_to_files(nb, stem: str, folder: Path) -> list[tuple[Path, str]]:
    """Write each PNG output to folder and show it through an image with alt text.

    Returns (file, alt) per figure. The alt text is the figure's titles (from the kernel
    start-up file figure_alt.py) or, for a figure with none, the section it stands in.
    """
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    headings = _section_headings(nb)
    figures = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" not in data:
                outputs.append(out)
                continue
            name = f"{stem}-{index:02d}-{len(figures):02d}.png"
            (folder / name).write_bytes(base64.b64decode(data["image/png"]))
            plain = data.get("text/plain", "")
            plain = "".join(plain) if isinstance(plain, list) else plain
            alt = plain.strip() if plain.strip() and not plain.startswith("<") else ""
            alt = _alt_escape(alt or f"Figure in the section {headings[index]}")
            figures.append((folder / name, alt))
            outputs.append(nbformat.v4.new_output(
                "display_data", data={"text/markdown": f"![{alt}]({folder.name}/{name})"}))
        cell.outputs = outputs
    return figures


NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\((?!\d\d_)([\w.-]+\.ipynb)\)")


def link_companion_notebooks(nb, chapters_dir: Path, downloads: Path) -> None:
    """Turn links to notebooks beside the chapters that are not chapters (the playground)
    into download links, copying each notebook into the site's downloads."""
    def download(m):
        target = chapters_dir / m.group(2)
        if not target.is_file():
            raise BuildError(f"a link points to {target.name}, which is not in {chapters_dir}")
        shutil.copy2(target, downloads / target.name)
        return f"{{download}}`{m.group(1)} <../downloads/{target.name}>`"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(download, cell.source)


def add_download_link(nb, stem: str) -> None:
    """Open the page with a link to the chapter's own (unexecuted) notebook."""
    import nbformat

    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0,
                    nbformat.v4.new_markdown_cell(
                        f":::{{admonition}} Run this chapter\n:class: tip\n"
                        f"{{download}}`Download this notebook <../downloads/{stem}.ipynb>` "
                        "and open it in JupyterLab to run every cell and move every control.\n"
                        ":::"))


def pick_thumbnail(figures: list[tuple[Path, str]]) -> tuple[Path, str]:
    """The chapter's first titled figure that is not much wider than tall, else its first."""
    from PIL import Image

    def shape_ok(png: Path) -> bool:
        with Image.open(png) as im:
            return im.width <= 2 * im.height

    titled = [(f, a) for f, a in figures if not a.startswith("Figure in")]
    return next((fa for fa in titled if shape_ok(fa[0])), (titled or figures)[0])


def thumbnail(png: Path, target: Path) -> None:
    """A copy of png scaled down to THUMB_WIDTH pixels wide."""
    from PIL import Image

    with Image.open(png) as im:
        ratio = THUMB_WIDTH / im.width
        if ratio < 1:
            im = im.resize((THUMB_WIDTH, round(im.height * ratio)), Image.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    target.write_bytes(buf.getvalue())


# ------------------------------------------------------------------------ pages

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def chapter_cards(chapters: list[Chapter]) -> str:
    """The landing page's chapter list: thumbnail, linked title, one-line summary."""
    items = []
    for i, ch in enumerate(chapters, 1):
        items.append(
            f"::::{{container}} chapter-card\n"
            f"```{{image}} _static/thumbs/{ch.thumbnail}\n:alt: {ch.thumbnail_alt}\n"
            f":class: chapter-thumb\n:target: chapters/{ch.stem}.html\n```\n\n"
            f"**[{ch.title}](chapters/{ch.stem}.ipynb)**\n\n"
            f"You will be able to {ch.summary}.\n::::\n")
    return ":::::{container} chapter-grid\n" + "\n".join(items) + ":::::\n"


def assignment_table(goals: dict[str, str], notebooks: dict[str, Path]) -> str:
    """The landing page's assignment table: the student notebook's link, what it asks for."""
    lines = ["| student notebook | what you write |", "|---|---|"]
    for name, nb in notebooks.items():
        lines.append(f"| {{download}}`{nb.name} <release/{name}/{nb.name}>` "
                     f"| {_md_cell(goals[name])} |")
    return "\n".join(lines) + "\n"


def write_sources(src: Path, chapters: list[Chapter], readme: str,
                  notebooks: dict[str, Path], goals: dict[str, str],
                  playground: Path | None) -> None:
    """Write the landing page and the instructor's guide into the staging folder."""
    commands = re.search(r"```bash\n.*?```", readme_section(readme, "Two commands"), re.S)
    playground_text = ""
    if playground is not None:
        shutil.copy2(playground, src / "downloads" / playground.name)
        playground_text = (
            "\n## The playground\n\nA notebook for JupyterLab in which you train small "
            "networks of the course's own `MLP` on toy data sets and watch the decision "
            "boundary, the loss and the hidden units change as you move the controls: "
            f"{{download}}`{playground.name} <downloads/{playground.name}>`.\n")
    text = string.Template((HERE / "landing.md").read_text(encoding="utf-8")).substitute(
        n_assignments={4: "four", 5: "five", 6: "six"}.get(len(notebooks), len(notebooks)),
        commands=commands.group(0) if commands else "",
        chapters=chapter_cards(chapters),
        assignments=assignment_table(goals, notebooks),
        playground=playground_text,
        toctree="\n".join(f"chapters/{ch.stem}" for ch in chapters))
    (src / "index.md").write_text(text, encoding="utf-8")
    guide = readme_section(readme, "For instructors")
    for image in re.findall(r"!\[[^\]]*\]\((docs/[^)\s]+)\)", guide):  # its pictures
        (src / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / image, src / image)
    (src / "instructors.md").write_text(
        "# The instructor's guide\n\n" + guide + "\n", encoding="utf-8")


def copy_mathjax(static: Path) -> None:
    """Copy MathJax 3 (from the django-static-mathjax wheel) into static/mathjax."""
    import mathjax

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise BuildError(f"MathJax not found at {es5}: pip install django-static-mathjax")
    bundles = re.compile(r"^(tex|mml)-.*\.js$|^node-main\.js$")
    shutil.copytree(es5, static / "mathjax", ignore=lambda d, names: [
        n for n in names if Path(d) == es5 and bundles.match(n) and n != "tex-chtml.js"])


# ------------------------------------------------------------------------- the build

def build(out: Path = ROOT / "build" / "site", chapters_dir: Path = ROOT / "course" / "chapters",
          release_dir: Path = ROOT / "release",
          readme_path: Path = ROOT / "README.md", jobs: int = 2,
          cache: Path | None = ROOT / "build" / ".site-cache") -> Path:
    """Build the whole site into out (replaced only when the build succeeds); return out."""
    import nbformat

    out = out.resolve()
    readme = readme_path.read_text(encoding="utf-8")
    notebooks, goals = assignment_inputs(assignments(), release_dir, readme)
    summaries = readme_table(readme, "The course")
    paths = chapter_paths(chapters_dir)
    for p in paths:
        if p.stem not in summaries:
            raise BuildError(f"chapter {p.stem} has no row in the README's 'The course' table")

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".site-build-", dir=out.parent))
    try:
        src = work / "src"
        for sub in ("chapters", "downloads", "_static/thumbs"):
            (src / sub).mkdir(parents=True)
        shutil.copy2(HERE / "conf.py", src / "conf.py")
        shutil.copytree(HERE / "_static", src / "_static", dirs_exist_ok=True)
        copy_mathjax(src / "_static")
        for name, nb_path in notebooks.items():
            (src / "release" / name).mkdir(parents=True)
            shutil.copy2(nb_path, src / "release" / name / nb_path.name)

        print(f"Chapters ({len(paths)}, {jobs} at a time):", flush=True)
        executed = execute_all(paths, jobs, cache)
        chapters = []
        for path, nb in zip(paths, executed):
            shutil.copy2(path, src / "downloads" / path.name)
            join_inline_math_lines(nb)
            link_companion_notebooks(nb, chapters_dir, src / "downloads")
            n_widgets = staticize_widgets(nb)
            figures = figures_to_files(nb, path.stem, src / "chapters" / "figures")
            if not figures:
                raise BuildError(f"chapter {path.name} shows no figure for its thumbnail")
            add_download_link(nb, path.stem)
            nbformat.write(nb, src / "chapters" / path.name)
            thumb, alt = pick_thumbnail(figures)
            thumbnail(thumb, src / "_static" / "thumbs" / f"{path.stem}.png")
            chapters.append(Chapter(path.stem, title_of(nb, path.stem),
                                    summaries[path.stem], f"{path.stem}.png", alt))
            print(f"  prepared {path.name}: {len(figures)} figures, "
                  f"{n_widgets} interactive controls shown at their defaults", flush=True)
        playground = chapters_dir / "playground.ipynb"
        write_sources(src, chapters, readme, notebooks, goals,
                      playground if playground.is_file() else None)

        print("Sphinx:", flush=True)
        t0 = time.perf_counter()
        html = work / "html"
        result = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", str(max(1, jobs)),
             "-d", str(work / "doctrees"), str(src), str(html)],
            capture_output=True, text=True)
        if result.stderr.strip():
            print(result.stderr.rstrip(), file=sys.stderr)
        if result.returncode != 0:
            raise BuildError(f"Sphinx failed (exit {result.returncode})")
        print(f"  pages written ({time.perf_counter() - t0:.1f} s)", flush=True)
        old = work / "previous"
        if out.exists():
            os.replace(out, old)
        os.replace(html, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the course website (offline).")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--chapters", type=Path, default=ROOT / "course" / "chapters")
    parser.add_argument("--jobs", type=int, default=2, help="chapters executed at a time")
    parser.add_argument("--no-cache", action="store_true",
                        help="execute every chapter even if unchanged since the last build")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = build(args.out, chapters_dir=args.chapters, jobs=args.jobs,
                    cache=None if args.no_cache else ROOT / "build" / ".site-cache")
    except BuildError as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 1
    print(f"Site: open {out / 'index.html'} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
