"""A submission's content, shown safely: the allow-list, the grade tables, student ids.

The browser-level proof (every page opened in Chromium) is
``tests/browser/test_hostile_content.py``; these are the parts, without a browser.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from html.parser import HTMLParser

import nbformat
import pytest
from fixtures import hostile
from fixtures.grader import gradertools
from nbconvert import HTMLExporter
from nbgrader.api import Gradebook
from traitlets.config import Config

from autograder import formgrader_policy
from autograder.export import spreadsheet_safe
from autograder.sanitize import clean_html, safe_rendering, student_id_problem


@pytest.mark.parametrize("fragment", [
    '<img src="x" onerror="alert(1)">', "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>', '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<svg onload="alert(1)"></svg>', '<iframe srcdoc="<script>alert(1)</script>">',
    '<details open ontoggle="alert(1)">', '<form action="http://evil.example">',
    '<img src="http://evil.example/t.png">', '<math><mtext><img src=x onerror=alert(1)>',
    '<div style="background:url(http://evil.example/x)">', '<base href="http://evil.example/">',
])
def test_the_allow_list_leaves_nothing_that_runs_or_fetches(fragment):
    elements = _elements(clean_html(fragment))
    assert not {tag for tag, _ in elements} & {"script", "iframe", "svg", "object", "form",
                                                "base", "style", "embed"}
    for tag, attrs in elements:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name not in ("srcdoc", "action"), (tag, name)
            if name in ("href", "src"):
                assert not value.strip().lower().startswith(("javascript:", "http://evil"))
            assert "url(" not in (value or ""), (tag, name)


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def _elements(fragment: str) -> list[tuple[str, list]]:
    """The elements a browser would build from ``fragment`` (tag, attributes)."""
    parser = _Elements()
    parser.feed(fragment)
    return parser.found


def test_the_allow_list_keeps_what_a_written_answer_needs():
    kept = ('<p>A <b>bold</b> <em>claim</em> with <code>dW</code></p><ul><li>one</li></ul>'
            '<table><thead><tr><th style="text-align: left;">q</th></tr></thead><tbody><tr>'
            '<td>dW</td></tr></tbody></table><a href="https://example.org/">a source</a>'
            f'<img src="data:image/png;base64,{hostile.PNG}" alt="d">'
            '<math display="block"><mfrac><mi>a</mi><mi>b</mi></mfrac></math>')
    assert clean_html(kept) == kept


def _render(nb, config: Config) -> str:
    page, _ = HTMLExporter(config=config).from_notebook_node(nb)
    return page


@pytest.fixture(scope="module")
def executed_hostile(tmp_path_factory):
    """The hostile notebook as the grader leaves it: executed, outputs included."""
    from autograder.kernel_ready import ReadyNotebookClient

    release = nbformat.read(hostile.ROOT / "release" / hostile.ASSIGNMENT
                            / f"{hostile.ASSIGNMENT}.ipynb", 4)
    source = nbformat.read(hostile.ROOT / "source" / hostile.ASSIGNMENT
                           / f"{hostile.ASSIGNMENT}.ipynb", 4)
    nb = hostile.hostile_notebook(release, source)
    nb.cells = [c for c in nb.cells if c.cell_type != "code"
                or c.metadata.get("nbgrader", {}).get("grade_id") == "affine_layer"]
    ReadyNotebookClient(nb, timeout=120, allow_errors=True).execute()
    return nb


def test_every_payload_survives_plain_nbconvert(executed_hostile):
    page = _render(executed_hostile, Config())
    for active in ("<script>(function(){var n='md-script'", 'onerror="(function(){var n=',
                   "application/javascript", "<iframe srcdoc"):
        assert active in page or active.replace("application/javascript", "out-javascript") \
            in page, active


def test_the_course_configuration_renders_the_answer_and_no_payload(executed_hostile):
    page = _render(executed_hostile, safe_rendering())
    assert hostile.ANSWER_TEXT in page and "<math" in page and "<td>(D, H)</td>" in page
    assert f"data:image/png;base64,{hostile.PNG}" in page  # the attachment, embedded
    body = page.split("<body", 1)[1]
    elements = _elements(body)
    assert not {tag for tag, _ in elements} & {"iframe", "object", "form", "embed", "base"}
    for tag, attrs in elements:
        assert not [name for name, _ in attrs if name.startswith("on")], tag
        for name, value in attrs:
            if name in ("href", "src"):
                assert not (value or "").lower().startswith(("javascript:", hostile.EVIL)), tag
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", body, re.S)
    assert not [s for s in scripts if "__pwned" in s or "widget" in s]


def test_nbgrader_config_of_the_course_carries_the_safe_rendering():
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(hostile.ROOT)).load_config()
    expected = safe_rendering()
    for section in ("HTMLExporter", "GenerateFeedback", "ExportApp"):
        for key, value in expected[section].items():
            assert cfg[section][key] == value, f"{section}.{key}"


@pytest.mark.parametrize("value, shown", [
    ("=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"),
    ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("ada", "ada"), ("-1.5", "-1.5"), ("3", "3"), (2.5, "2.5"), (None, ""),
])
def test_a_cell_that_a_spreadsheet_would_run_is_text(value, shown):
    assert spreadsheet_safe(value) == shown


def test_nbgrader_export_of_the_course_writes_formulas_as_text(tmp_path_factory):
    course = gradertools.new_course(gradertools.shared_template(tmp_path_factory),
                                    tmp_path_factory.mktemp("export") / "course")
    names = {"s1": ("=HYPERLINK(\"http://evil.example\",\"x\")", "Smith, Jr."),
             "s2": ("@SUM(1)", "line\nbreak")}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sid, (first, last) in names.items():
            gb.update_or_create_student(sid, first_name=first, last_name=last)
    # the course's own configuration selects the plugin
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text()
        + "\nfrom autograder.sanitize import safe_rendering\nc.merge(safe_rendering())\n")
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "grades.csv"],
                   cwd=course, check=True, env=gradertools.venv_env(), capture_output=True)
    with open(course / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["s1"]["first_name"] == "'" + names["s1"][0]
    assert rows["s1"]["last_name"] == "Smith, Jr.", "a comma stays inside its cell"
    assert rows["s2"]["first_name"] == "'@SUM(1)" and rows["s2"]["last_name"] == "line\nbreak"
    assert float(rows["s1"]["score"]) == 0.0


@pytest.mark.parametrize("student", [
    "eve<img src=x onerror=alert(1)>", "../etc", ".hidden", "=cmd", "+1", "-x", "@x",
    "a/b", "tab\there", "bell\x07", "new\nline", "", "x" * 101, "a+b",
])
def test_a_student_id_that_is_not_a_plain_name_is_refused(student):
    why = student_id_problem(student)
    assert why is not None and "not a plain student id" in why
    assert "\x07" not in why and "\n" not in why.replace("\\n", ""), "shown escaped"


@pytest.mark.parametrize("student", ["ada", "s123", "jane.doe", "j_doe-2", "ada@uni.edu"])
def test_plain_student_ids_are_accepted(student):
    assert student_id_problem(student) is None


def test_grade_refuses_a_named_student_whose_id_is_markup(tmp_path_factory):
    from autograder.grade import Grader, GradingError

    course = gradertools.new_course(gradertools.shared_template(tmp_path_factory),
                                    tmp_path_factory.mktemp("ids") / "course")
    with pytest.raises(GradingError, match="not a plain student id"):
        Grader(gradertools.ASSIGNMENT, root=course, students=["<b>x</b>"])


def test_the_formgrader_policy_gives_its_nonce_to_nbgrader_scripts_only():
    page = ('<script type="text/javascript">\nvar submission_id = "abc";\n'
            'var notebook_id = "n";\nvar assignment_id = "a";\nvar base_url = "/formgrader";\n'
            '</script><script>alert(1)</script>'
            '<script>var base_url = "";alert(1);//";</script>')
    marked = formgrader_policy.nonce_known_scripts(page, "N0NCE")
    assert marked.count('nonce="N0NCE"') == 1
    assert marked.index('nonce="N0NCE"') < marked.index("var submission_id")
    policy = formgrader_policy.policy("http://127.0.0.1:1", "/", "N0NCE")
    scripts = policy.split("script-src")[1].split(";")[0]
    assert "'unsafe-inline'" not in scripts and "'nonce-N0NCE'" in scripts
    assert "http://127.0.0.1:1/formgrader/static/" in scripts
    assert "frame-src 'none'" in policy and "object-src 'none'" in policy
