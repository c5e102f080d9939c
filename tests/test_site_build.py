"""The website builder on bad input: it stops with a message naming the fault, and leaves
no half-written site behind. (The built site itself is checked in a browser by
tests/browser/test_site.py.)"""

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "site"))
import build_site as builder  # noqa: E402  (docs/site/build_site.py)
from figure_alt import describe  # noqa: E402  (docs/site/figure_alt.py)


def _notebook(path: Path, *codes: str) -> None:
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}")]
    cells += [nbformat.v4.new_code_cell(c) for c in codes]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


@pytest.fixture
def course_copy(tmp_path):
    """A chapters folder with a good and a broken chapter, and a README that lists both."""
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    _notebook(chapters / "01_fine.ipynb", "x = 1", "print(x)")
    _notebook(chapters / "02_broken.ipynb", "y = 2", "z = y + 1", "z / 0")
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace(
        "| `01_perceptron` |", "| `01_fine` | run a cell |\n| `02_broken` | fail |\n"
        "| `01_perceptron` |")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return tmp_path


@pytest.mark.slow
def test_a_failing_chapter_stops_the_build_with_name_cell_and_error(course_copy):
    out = course_copy / "out" / "site"
    with pytest.raises(builder.BuildError) as err:
        builder.build(out, chapters_dir=course_copy / "chapters",
                      readme_path=course_copy / "README.md", cache=None, jobs=1)
    message = str(err.value)
    assert "02_broken.ipynb" in message
    assert "cell index 3" in message          # markdown title is cell 0
    assert "ZeroDivisionError" in message
    assert not out.exists()
    assert list((course_copy / "out").iterdir()) == []   # no temporary build left


@pytest.mark.slow
def test_a_failed_build_leaves_the_previous_site_untouched(course_copy):
    out = course_copy / "site"
    out.mkdir()
    (out / "index.html").write_text("previous site")
    with pytest.raises(builder.BuildError):
        builder.build(out, chapters_dir=course_copy / "chapters",
                      readme_path=course_copy / "README.md", cache=None, jobs=1)
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text() == "previous site"
    assert sorted(p.name for p in course_copy.iterdir()) == ["README.md", "chapters", "site"]


def test_a_missing_release_notebook_is_an_error_that_names_it(tmp_path):
    names = builder.assignments()
    assert names, "source/ holds no assignment"
    for name in names[1:]:
        (tmp_path / name).mkdir()
        shutil.copy2(ROOT / "release" / name / f"{name}.ipynb", tmp_path / name)
    with pytest.raises(builder.BuildError, match=f"{names[0]}/{names[0]}.ipynb"):
        builder.build(tmp_path / "site", release_dir=tmp_path, cache=None)
    assert not (tmp_path / "site").exists()


def test_a_chapter_missing_from_the_readme_table_is_an_error(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    _notebook(chapters / "01_unlisted.ipynb", "pass")
    with pytest.raises(builder.BuildError, match="01_unlisted"):
        builder.build(tmp_path / "site", chapters_dir=chapters, cache=None)


def test_inline_math_wrapped_onto_a_plus_line_stays_one_formula():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "so $a = b\n   + c$ and $x$, not $$d\n+ e$$ nor \\$5 or \\$6")])
    builder.join_inline_math_lines(nb)
    assert nb.cells[0].source == "so $a = b + c$ and $x$, not $$d\n+ e$$ nor \\$5 or \\$6"


def test_figure_alt_text_is_the_titles_else_the_axis_labels():
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    fig.suptitle("Two activations")
    left.set_title(r"$\sigma(z)$")
    right.set_title("ReLU")
    assert describe(fig) == "Two activations; sigma(z); ReLU"
    bare = Figure()
    ax = bare.subplots()
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    assert describe(bare) == "loss against epoch"


def test_the_landing_page_links_the_playground_only_when_there_is_one(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    chapters = [builder.Chapter("01_perceptron", "Chapter 1", "explain", "01.png", "a plot")]
    playground = tmp_path / "playground.ipynb"
    _notebook(playground, "pass")
    for given in (playground, None):
        src = tmp_path / f"src-{given is None}"
        (src / "downloads").mkdir(parents=True)
        builder.write_sources(src, chapters, readme, {}, {}, given)
        landing = (src / "index.md").read_text(encoding="utf-8")
        assert ("{download}`playground.ipynb <downloads/playground.ipynb>`" in landing) == (
            given is not None)
        assert (src / "downloads" / "playground.ipynb").exists() == (given is not None)
        assert "chapters/01_perceptron" in landing


def test_a_live_control_becomes_its_default_figure_and_a_note():
    figure = {"output_type": "display_data", "metadata": {},
              "data": {"image/png": "iVBORw0KGgo=", "text/plain": "sigmoid; relu"}}
    state = {
        "box": {"model_name": "VBoxModel",
                "state": {"children": ["IPY_MODEL_menu", "IPY_MODEL_slider", "IPY_MODEL_out"]}},
        "menu": {"model_name": "DropdownModel",
                 "state": {"description": "first", "index": 1,
                           "_options_labels": ["step", "sigmoid"]}},
        "slider": {"model_name": "FloatSliderModel", "state": {"description": "T", "value": 1.0}},
        "out": {"model_name": "OutputModel", "state": {"outputs": [figure]}},
    }
    cell = nbformat.v4.new_code_cell("activation_explorer()")
    cell.outputs = [nbformat.v4.new_output("execute_result", data={
        builder.WIDGET_VIEW: {"model_id": "box"}, "text/plain": "interactive(...)"})]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["widgets"] = {builder.WIDGET_STATE: {"state": state}}
    assert builder.staticize_widgets(nb) == 1
    assert [o["data"] for o in nb.cells[0].outputs] == [figure["data"]]
    assert "first = sigmoid, T = 1.0" in nb.cells[1].source
    assert "JupyterLab" in nb.cells[1].source
    assert "widgets" not in nb.metadata


def test_a_link_to_the_playground_becomes_a_download_and_a_missing_one_is_an_error(tmp_path):
    chapters, downloads = tmp_path / "chapters", tmp_path / "downloads"
    chapters.mkdir()
    downloads.mkdir()
    _notebook(chapters / "playground.ipynb", "x = 1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Try the [playground](playground.ipynb), then [chapter 3](03_activations.ipynb).")])
    builder.link_companion_notebooks(nb, chapters, downloads)
    text = nb.cells[0].source
    assert "{download}`playground <../downloads/playground.ipynb>`" in text
    assert "[chapter 3](03_activations.ipynb)" in text  # chapters stay page links
    assert (downloads / "playground.ipynb").read_bytes() == \
        (chapters / "playground.ipynb").read_bytes()
    missing = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "See [the lab](lab.ipynb).")])
    with pytest.raises(builder.BuildError, match="lab.ipynb"):
        builder.link_companion_notebooks(missing, chapters, downloads)


def test_the_guides_pictures_go_with_it(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    chapters = [builder.Chapter("01_perceptron", "Chapter 1", "explain", "01.png", "a plot")]
    src = tmp_path / "src"
    (src / "downloads").mkdir(parents=True)
    builder.write_sources(src, chapters, readme, {}, {}, None)
    guide = (src / "instructors.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", guide)
    assert "docs/feedback-cascade.png" in pictures
    for picture in pictures:
        assert (src / picture).read_bytes() == (ROOT / picture).read_bytes()
