"""A submission's content, made safe to show in a browser.

A notebook a student hands in is content as well as code: its markdown, raw cells,
outputs, metadata and attachment names end up in pages an instructor opens in their
authenticated Jupyter session (formgrader) and in the feedback a student reads. Anything
there that a browser would run (script, event handlers, ``javascript:`` links, iframes,
forms, SVG with handlers, widget state that loads code from a CDN) is removed here, while
what a written answer needs stays: paragraphs, lists, emphasis, code, tables, headings,
images embedded in the notebook, and math (as MathML, which browsers draw with no script).

:func:`clean_html` is the allow-list (bleach, as nbconvert's own sanitiser, with a list
wide enough for a written answer). Three entry points use it, all set in
``nbgrader_config.py`` for nbconvert's ``HTMLExporter`` and so in force wherever nbgrader
renders a notebook to HTML (formgrader's submission view, ``nbgrader generate_feedback``,
``python -m autograder feedback``):

* :class:`SanitizeNotebook`, a preprocessor: outputs, metadata, ids and attachments;
* :func:`markdown2html`, the ``markdown2html`` filter: markdown rendered, then cleaned
  (formgrader's template renders markdown cells with no sanitising of its own);
* :func:`clean_html` itself as the ``clean_html`` filter of the templates.
"""

from __future__ import annotations

import html
import re

import bleach
from bleach.css_sanitizer import CSSSanitizer
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from traitlets.config import Config

from autograder.feedback.math_ml import finish_page, tex_to_mathml

__all__ = ["clean_html", "markdown2html", "SanitizeNotebook", "FeedbackExporter", "PAGE_POLICY"]

TEXT_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}
MATH_TAGS = {
    "math", "maction", "menclose", "merror", "mfenced", "mfrac", "mi", "mmultiscripts",
    "mn", "mo", "mover", "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms",
    "mspace", "msqrt", "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr",
    "munder", "munderover", "none", "semantics", "annotation",
}
TAGS = TEXT_TAGS | MATH_TAGS
MATH_ATTRS = [
    "accent", "accentunder", "close", "columnalign", "columnlines", "columnspacing",
    "depth", "display", "displaystyle", "encoding", "fence", "form", "frame", "height",
    "largeop", "linethickness", "lspace", "mathsize", "mathvariant", "maxsize", "minsize",
    "movablelimits", "notation", "open", "rowalign", "rowlines", "rowspacing", "rspace",
    "scriptlevel", "separator", "separators", "stretchy", "symmetric", "voffset", "width",
    "xmlns",
]
# Classes a renderer writes (pygments' short token names, nbconvert's code blocks); a
# student's class cannot take the look or the behaviour of formgrader's own elements.
CLASS = re.compile(r"^(highlight|hl-[\w-]+|anchor-link|[a-z]{1,3}[0-9]?)$")
IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$")
LINK = re.compile(r"^(https?://|mailto:|#)", re.I)
STYLES = ["text-align", "vertical-align", "color", "background-color", "font-weight",
          "font-style", "text-decoration", "width"]


def _attribute(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return all(CLASS.match(c) for c in value.split())
    if name in ("title", "lang", "dir", "style"):
        return True
    if tag == "a":
        return name == "href" and bool(LINK.match(value.strip()))
    if tag == "img":
        return name in ("alt", "width", "height") or (
            name == "src" and bool(IMAGE.match(value.strip())))
    if tag in ("td", "th"):
        return name in ("align", "colspan", "rowspan")
    if tag in ("ol", "li"):
        return name in ("start", "value", "type")
    if tag in MATH_TAGS:
        return name in MATH_ATTRS
    return False


_CLEANER = bleach.sanitizer.Cleaner(
    tags=TAGS, attributes=_attribute, protocols=["http", "https", "mailto", "data"],
    strip=False, strip_comments=True,
    css_sanitizer=CSSSanitizer(allowed_css_properties=STYLES),
)


def clean_html(fragment) -> str:
    """Return ``fragment`` with only the markup a written answer needs; anything else is
    shown as text (a ``<script>`` reads as the characters the student typed)."""
    text = fragment.decode() if isinstance(fragment, bytes) else str(fragment)
    return _CLEANER.clean(text)


def _render_markdown(source: str, attachments: dict | None = None) -> str:
    renderer = IPythonRenderer(escape=False, allow_harmful_protocols=False,
                               attachments=attachments or {}, embed_images=False, path="",
                               exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(source)


@pass_context
def markdown2html(context, source: str) -> str:
    """The ``markdown2html`` filter of nbconvert's templates, cleaned: math becomes MathML
    first, attachments become inline images, then the result goes through the allow-list."""
    cell = context.get("cell", {}) or {}
    attachments = cell.get("attachments", {}) if hasattr(cell, "get") else {}
    return clean_html(_render_markdown(tex_to_mathml(source), attachments))


# A student id is a plain name: it names folders, gradebook rows, CSV cells and pages.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def student_id_problem(student: str) -> str | None:
    """Why ``student`` cannot be a student id, or None when it is a plain name: letters,
    digits, ``.``, ``_``, ``-`` and ``@``, beginning with a letter or a digit (so no
    markup, path separator, control character, hidden name or spreadsheet formula)."""
    if STUDENT_ID.match(student):
        return None
    return (f"the submission folder {shown(student)} is not a plain student id (letters, "
            "digits, '.', '_', '-', '@', starting with a letter or digit): it was not "
            "graded; rename the folder to the student's login name and grade again")


def shown(text: str) -> str:
    """``text`` quoted for a terminal or a text file, control characters spelled out."""
    return repr(text)


SAFE_OUTPUT = {"text/plain", "image/png", "image/jpeg"}
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _clean_output(output) -> None:
    """Keep what can be shown without running anything; clean what is markup."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return
    data = output.get("data", {})
    shown = {}
    for mime, value in data.items():
        text = "".join(value) if isinstance(value, list) else value
        if mime in SAFE_OUTPUT:
            shown[mime] = text
        elif mime == "text/html":
            shown[mime] = clean_html(text)
        elif mime in ("text/markdown", "text/latex"):
            # drawn as cleaned HTML: markdown rendered, LaTeX turned into MathML
            shown["text/html"] = clean_html(_render_markdown(tex_to_mathml(text)))
        elif mime == "image/svg+xml":  # shown through <img src="data:...">: runs nothing
            shown[mime] = text
    output["data"] = shown
    meta = output.get("metadata", {})
    output["metadata"] = {m: {k: v for k, v in meta[m].items() if k in ("width", "height")}
                          for m in meta if m in shown and isinstance(meta[m], dict)}


def _clean_metadata(cell, index: int) -> None:
    nbg = cell.metadata.get("nbgrader")
    if isinstance(nbg, dict):
        for key in ("grade_id", "cell_id"):
            if key in nbg and not PLAIN_NAME.match(str(nbg[key])):
                nbg[key] = html.escape(str(nbg[key]), quote=True)
        if "points" in nbg and not isinstance(nbg["points"], (int, float)):
            nbg["points"] = 0
    tags = cell.metadata.get("tags")
    if tags is not None:
        cell.metadata["tags"] = [t for t in tags if isinstance(t, str) and PLAIN_NAME.match(t)]
    if "id" in cell and not PLAIN_NAME.match(str(cell.id)):
        cell.id = f"cell-{index}"
    for key in ("attachments",):
        if key in cell:
            cell[key] = {html.escape(name, quote=True): value
                         for name, value in cell[key].items()}
    if cell.cell_type == "code":
        count = cell.get("execution_count")
        cell.execution_count = count if isinstance(count, int) else None


class SanitizeNotebook(Preprocessor):
    """Make a notebook safe to render: outputs cleaned, metadata and ids made plain,
    raw cells shown as text, widget state (which loads code from a CDN) dropped."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        if "title" in nb.metadata:
            nb.metadata["title"] = html.escape(str(nb.metadata["title"]))
        for index, cell in enumerate(nb.cells):
            _clean_metadata(cell, index)
            if cell.cell_type == "raw":
                cell.metadata["raw_mimetype"] = "text/plain"
                cell.metadata.pop("format", None)
            for output in cell.get("outputs", []):
                _clean_output(output)
        return nb, resources


# The policy of a page that shows a student's content and runs no script of its own:
# nothing runs, nothing is fetched, images only from the page itself.
PAGE_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
               "font-src 'self' data:; base-uri 'none'; form-action 'none'")


def policy_meta(policy: str = PAGE_POLICY) -> str:
    """A ``<meta>`` element carrying a Content-Security-Policy, for the top of a page's head."""
    return f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">'


def safe_rendering() -> Config:
    """The nbconvert and nbgrader settings that show a submission safely: notebooks
    rendered through the allow-list, feedback pages under a policy, grade tables safe in a
    spreadsheet (merged into the course's configuration by ``nbgrader_config.py`` and by
    the grader's commands)."""
    c = Config()
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.preprocessors = ["autograder.sanitize.SanitizeNotebook"]
    c.HTMLExporter.filters = {"markdown2html": "autograder.sanitize.markdown2html",
                              "clean_html": "autograder.sanitize.clean_html"}
    c.GenerateFeedback.exporter_class = "autograder.sanitize.FeedbackExporter"
    c.ExportApp.plugin_class = "autograder.export.CsvExport"
    return c


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter for feedback pages: the policy above heads the page (no
    script runs, nothing is fetched), nbgrader's MathJax loader is gone (the math is
    MathML) and verdicts wrap inside their boxes. ``c.GenerateFeedback.exporter_class``."""

    def from_notebook_node(self, nb, resources=None, **kw):
        page, resources = super().from_notebook_node(nb, resources, **kw)
        return with_policy(finish_page(page)), resources


def with_policy(page: str, policy: str = PAGE_POLICY) -> str:
    """``page`` with a Content-Security-Policy as the first element of its head."""
    head = re.search(r"<head[^>]*>", page, re.I)
    if head is None:
        return policy_meta(policy) + page
    return page[:head.end()] + "\n" + policy_meta(policy) + page[head.end():]
