"""Math in feedback pages that renders with no network and no script.

nbgrader's feedback template loads MathJax from a CDN, and JupyterLab shows feedback
pages in a sandboxed frame that runs no script anyway, so a student would read raw TeX.
Here the TeX of every markdown cell becomes MathML (``latex2mathml``), which browsers
draw natively, and the page's MathJax loader is removed. Text outputs (the verdicts) wrap
inside their boxes.
"""

from __future__ import annotations

import re

from latex2mathml.converter import convert
from nbgrader.preprocessors import NbGraderPreprocessor

# Code spans and fenced blocks are left alone; display math first, then inline math
# ($x$: no space just inside the dollars, as in Jupyter's Markdown).
CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE = re.compile(r"(?<![\\$])\$(?![\s$])((?:[^$\n]|\n(?!\s*\n))+?)(?<![\s\\])\$(?!\d)")
# A prime as a superscript (f') is drawn by browsers at superscript height above the
# prime's own raised glyph, far above the letter: it is written after the letter instead.
PRIME = re.compile(r"<msup>(<mi>[^<]*</mi>)(?:<mrow>)?<mi>(&#x0203[234];)</mi>(?:</mrow>)?</msup>")
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)


def _mathml(tex: str, display: str) -> str:
    try:
        return PRIME.sub(r"\1<mo>\2</mo>", convert(" ".join(tex.split()), display=display))
    except Exception:  # a formula the converter cannot read stays as it was written
        return None


def tex_to_mathml(markdown: str) -> str:
    """Replace the $...$ and $$...$$ formulas of a markdown text with MathML."""
    def display(m):
        return _mathml(m.group(1), "block") or m.group(0)

    def inline(m):
        return _mathml(m.group(1), "inline") or m.group(0)

    parts = CODE.split(markdown)
    for i in range(0, len(parts), 2):  # even parts are prose, odd parts are code
        parts[i] = INLINE.sub(inline, DISPLAY.sub(display, parts[i]))
    return "".join(parts)


def strip_mathjax(html: str) -> str:
    """Remove the MathJax loader and its configuration from an nbconvert page."""
    return MATHJAX.sub("", html)


# A verdict is one long line: wrapped at its spaces inside its box, so the student never
# scrolls sideways; a markdown table's columns get some room between them.
PAGE_STYLE = ("<style>.output_stream pre, .output_text pre {white-space: pre-wrap; "
              "word-break: normal; overflow-wrap: break-word;}\n"
              ".rendered_html th, .rendered_html td {padding: 0.2em 1em 0.2em 0; "
              "text-align: left;}</style>\n")


def finish_page(html: str) -> str:
    """The feedback page as the student reads it: no MathJax, text outputs wrapped."""
    return strip_mathjax(html).replace("</head>", PAGE_STYLE + "</head>", 1)


class MathToMathML(NbGraderPreprocessor):
    """Turn the TeX of markdown cells into MathML."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "markdown" and "$" in cell.source:
                cell.source = tex_to_mathml(cell.source)
        return nb, resources
