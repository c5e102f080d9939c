"""The similarity report's files: ``pairs.csv`` and a self-contained ``report.html``.

The page ranks the pairs, then shows each flagged pair side by side with the matching
regions highlighted (copydetect's highlighting); a joined document (the course package)
shows only its files with a match, each region with a few lines of context. No script,
no font and no stylesheet is fetched: the page opens offline.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from copydetect.utils import highlight_overlap

from autograder.export import write_rows
from autograder.sanitize import policy_meta

if TYPE_CHECKING:
    from autograder.similarity.documents import Document, Pair, Report

__all__ = ["write_csv", "write_html"]


def write_csv(report: Report, path: Path) -> Path:
    """One row per pair sharing code, best first."""
    write_rows(path, ["rank", "a", "b", "b_kind", "score", "share_a", "share_b",
                      "matched_tokens", "flagged"],
               ([rank, p.a.name, p.b.name, p.b.kind, f"{p.score:.3f}", f"{p.share_a:.3f}",
                 f"{p.share_b:.3f}", p.tokens, int(p.score >= report.threshold)]
                for rank, p in enumerate(report.pairs, 1)))
    return path


CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2430; background: #f6f7f9; }
main { max-width: 1400px; margin: 0 auto; padding: 1.5em 2em 4em; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
.lead { color: #4a5566; margin: 0 0 1.2em; }
.facts { display: flex; flex-wrap: wrap; gap: .6em 2.2em; margin: 0 0 1.4em; padding: .8em 1em;
         background: #fff; border: 1px solid #dde1e7; border-radius: 6px; }
.facts b { font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric:
        tabular-nums; border: 1px solid #dde1e7; }
th, td { padding: .35em .7em; text-align: left; border-bottom: 1px solid #e8ebef; }
th { background: #eef1f5; font-weight: 600; }
td.num, th.num { text-align: right; }
tr.flag td:first-child { border-left: 4px solid #c0392b; }
tr.below { color: #6b7685; }
.kind { font-size: .8em; padding: .05em .45em; border-radius: 3px; background: #e4e8ee; }
.kind.course, .kind.solution { background: #fde7c8; }
.bar { display: inline-block; height: .7em; background: #c0392b; vertical-align: middle;
       margin-right: .4em; border-radius: 2px; }
tr.below .bar { background: #aab4c0; }
details { margin: 1em 0; background: #fff; border: 1px solid #dde1e7; border-radius: 6px; }
summary { cursor: pointer; padding: .6em 1em; font-weight: 600; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 0; border-top: 1px solid #dde1e7; }
.side { min-width: 0; }
.side h3 { font-size: .95em; margin: 0; padding: .5em 1em; background: #f2f4f7;
           border-bottom: 1px solid #dde1e7; }
.side + .side { border-left: 1px solid #dde1e7; }
.side h4 { font: 600 .85em ui-monospace, "DejaVu Sans Mono", monospace; margin: 0;
           padding: .5em 1em 0; color: #8a4b08; }
pre { margin: 0; padding: .8em 1em; overflow-x: auto; font: 13px/1.4 ui-monospace,
      "DejaVu Sans Mono", Menlo, monospace; max-height: 36em; }
.hl { background: #ffd9a8; border-radius: 2px; }
.note { color: #4a5566; font-size: .92em; }
"""


def _kind(kind: str) -> str:
    kind = html.escape(kind)
    return f'<span class="kind {kind}">{kind}</span>'


def _row(rank: int, p: Pair, threshold: float) -> str:
    cls = "flag" if p.score >= threshold else "below"
    link = f'<a href="#pair-{rank}">{rank}</a>'
    return (f'<tr class="{cls}"><td class="num">{link}</td><td>{html.escape(p.a.name)}</td>'
            f'<td>{html.escape(p.b.name)} {_kind(p.b.kind)}</td>'
            f'<td class="num"><span class="bar" style="width:{p.score * 5:.2f}em"></span>'
            f"{p.score:.0%}</td><td class=\"num\">{p.share_a:.0%}</td>"
            f'<td class="num">{p.share_b:.0%}</td><td class="num">{p.tokens}</td></tr>')


def _highlight(code: str, slices, context: int) -> str:
    out, _ = highlight_overlap(code, slices, '<span class="hl">', "</span>",
                               truncate=context, escape_html=True)
    return f"<pre><code>{out}</code></pre>"


def _side(doc: Document, slices, share: float) -> str:
    head = (f'<h3>{html.escape(doc.name)} {_kind(doc.kind)} · '
            f"{share:.0%} of it matched</h3>")
    if not doc.parts:
        return f'<div class="side">{head}{_highlight(doc.code, slices, -1)}</div>'
    # a joined package: each file with a match, only its matching regions and some context
    body = []
    ends = [start for _, start in doc.parts[1:]] + [len(doc.code)]
    for (name, start), end in zip(doc.parts, ends):
        keep = (slices[1] > start) & (slices[0] < end)
        if keep.any():
            part = np.clip(slices[:, keep], start, end) - start
            body.append(f'<h4>{html.escape(name)}</h4>'
                        f"{_highlight(doc.code[start:end], part, 4)}")
    return f'<div class="side">{head}{"".join(body)}</div>'


def write_html(report: Report, path: Path, least: int = 10, most: int = 200) -> Path:
    """The ranked pairs, then each flagged pair side by side: at least the first ``least``
    pairs, at most ``most`` (the CSV has them all)."""
    flagged = report.flagged
    detail = report.pairs[: max(min(len(flagged), most), least)]
    rows = "\n".join(_row(i, p, report.threshold) for i, p in enumerate(detail, 1))
    sections = []
    for i, p in enumerate(detail, 1):
        is_open = " open" if i == 1 or p.score >= report.threshold else ""
        sections.append(
            f'<details id="pair-{i}"{is_open}><summary>{i}. '
            f"{html.escape(p.a.name)} and {html.escape(p.b.name)}: {p.score:.0%}"
            f"</summary><div class=\"sides\">{_side(p.a, p.slices_a, p.share_a)}"
            f"{_side(p.b, p.slices_b, p.share_b)}</div></details>")
    problems = "".join(f"<li>{html.escape(s)}: {html.escape(why)}</li>"
                       for s, why in sorted(report.problems.items()))
    rest = len(report.pairs) - len(detail)
    page = f"""<!DOCTYPE html>
<html lang="en"><head>{policy_meta()}<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Similarity: {html.escape(report.assignment)}</title><style>{CSS}</style></head>
<body><main>
<h1>Similarity of {html.escape(report.assignment)}</h1>
<p class="lead">Solution code compared pairwise and with the course package and the
instructor's solution. Names, comments, blank lines and the order of functions do not
change a score; code the release hands out does not count. A flag asks for a look; it
changes no grade.</p>
<div class="facts"><span>submissions <b>{report.submissions}</b></span>
<span>references <b>{len(report.references)}</b></span>
<span>pairs sharing code <b>{len(report.pairs)}</b></span>
<span>flagged (score &ge; {report.threshold:.0%}) <b>{len(flagged)}</b></span>
<span>time <b>{report.seconds:.1f} s</b></span></div>
{f'<p class="note">Not read: <ul>{problems}</ul></p>' if problems else ""}
<table><thead><tr><th class="num">#</th><th>submission</th><th>compared with</th>
<th class="num">score</th><th class="num">share of first</th>
<th class="num">share of second</th><th class="num">matched tokens</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p class="note">Score: the share of the submission's code found in the other document
(for two submissions, the larger of the two shares).
{f"{rest} more pairs share less code; all are in pairs.csv." if rest > 0 else ""}</p>
{"".join(sections)}
</main></body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
