"""The similarity report's files: ``pairs.csv`` and a self-contained ``report.html``.

The page shows each distribution of scores (a histogram drawn as inline SVG, with the
flagged pairs marked), ranks the pairs with their robust z-score and percentile, then
shows each flagged pair side by side with the matching regions highlighted (copydetect's
highlighting); a joined document (the course package) shows only its files with a match,
each region with a few lines of context. No script, no font and no stylesheet is fetched:
the page opens offline. Every name on it is escaped.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from copydetect.utils import highlight_overlap

from autograder.export import write_rows
from autograder.sanitize import policy_meta
from autograder.similarity.documents import CLASSMATES

if TYPE_CHECKING:
    from autograder.similarity.documents import Distribution, Document, Pair, Report

__all__ = ["write_csv", "write_html", "histogram"]


def _z(z: float, fmt: str = "{:.1f}") -> str:
    return "" if math.isnan(z) else "inf" if math.isinf(z) else fmt.format(z)


def write_csv(report: Report, path: Path) -> Path:
    """One row per pair sharing code, best first."""
    flagged = {id(p) for p in report.flagged}
    write_rows(path, ["rank", "a", "b", "b_kind", "score", "share_a", "share_b",
                      "matched_tokens", "robust_z", "percentile", "flagged"],
               ([rank, p.a.name, p.b.name, p.b.kind, f"{p.score:.3f}", f"{p.share_a:.3f}",
                 f"{p.share_b:.3f}", p.tokens, _z(p.z, "{:.2f}"), _z(p.percentile, "{:.2f}"),
                 int(id(p) in flagged)] for rank, p in enumerate(report.pairs, 1)))
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
.dists { display: flex; flex-wrap: wrap; gap: 1em; margin: 0 0 1.4em; }
figure { margin: 0; padding: .6em .8em; background: #fff; border: 1px solid #dde1e7;
         border-radius: 6px; }
figcaption { font-size: .88em; color: #4a5566; max-width: 36em; }
svg text { font: 11px system-ui, sans-serif; fill: #4a5566; }
"""


def _kind(kind: str) -> str:
    kind = html.escape(kind)
    return f'<span class="kind {kind}">{kind}</span>'


def _row(rank: int, p: Pair, flagged: bool) -> str:
    cls = "flag" if flagged else "below"
    link = f'<a href="#pair-{rank}">{rank}</a>'
    return (f'<tr class="{cls}"><td class="num">{link}</td><td>{html.escape(p.a.name)}</td>'
            f'<td>{html.escape(p.b.name)} {_kind(p.b.kind)}</td>'
            f'<td class="num"><span class="bar" style="width:{p.score * 5:.2f}em"></span>'
            f"{p.score:.0%}</td><td class=\"num\">{p.share_a:.0%}</td>"
            f'<td class="num">{p.share_b:.0%}</td><td class="num">{p.tokens}</td>'
            f'<td class="num">{_z(p.z) or "&ndash;"}</td>'
            f'<td class="num">{_z(p.percentile) or "&ndash;"}</td></tr>')


W, H, PAD, BINS = 420, 120, 24, 20  # histogram: plot width and height, margin, bins


def _x(score: float) -> float:
    return PAD + min(max(score, 0.0), 1.0) * W


def _vline(score: float, colour: str, label: str, row: int) -> str:
    if not 0 <= score <= 1:
        return ""
    x = _x(score)
    return (f'<line x1="{x:.1f}" y1="{PAD - 6}" x2="{x:.1f}" y2="{PAD + H}" stroke="{colour}"'
            f' stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{PAD - 8 + 11 * row}">'
            f"{html.escape(label)}</text>")


def histogram(dist: Distribution, flagged: list[Pair], outlier: float,
              threshold: float) -> str:
    """An inline SVG histogram of a distribution's scores (bar heights on a log scale, so
    that a single pair shows), the median, the scores where z = outlier and the threshold,
    and a red mark under the axis at each flagged pair's score."""
    counts, _ = np.histogram(dist.scores, bins=BINS, range=(0.0, 1.0))
    top = math.log1p(max(int(counts.max(initial=0)), 1))
    bars = []
    for i, n in enumerate(counts):
        h = H * math.log1p(int(n)) / top
        bars.append(f'<rect x="{_x(i / BINS) + 1:.1f}" y="{PAD + H - h:.1f}" '
                    f'width="{W / BINS - 2:.1f}" height="{h:.1f}" fill="#aab4c0">'
                    f"<title>{i * 100 // BINS}-{(i + 1) * 100 // BINS}%: {n} pairs</title>"
                    "</rect>")
    marks = "".join(
        f'<path d="M{_x(p.score):.1f} {PAD + H + 3} l-4 8 h8 z" fill="#c0392b">'
        f"<title>{html.escape(p.a.name)} ~ {html.escape(p.b.name)}: {p.score:.0%}, "
        f"z = {_z(p.z) or 'none'}</title></path>" for p in flagged)
    axis = "".join(f'<text x="{_x(t) - 8:.1f}" y="{PAD + H + 24}">{t:.0%}</text>'
                   for t in (0, 0.25, 0.5, 0.75, 1))
    lines = (_vline(dist.median, "#4a5566", "median", 0)
             + _vline(dist.score_at(outlier), "#c0392b", f"z = {outlier:g}", 1)
             + _vline(threshold, "#8a4b08", "threshold", 2))
    return (f'<svg width="{W + 2 * PAD}" height="{H + 2 * PAD + 6}" role="img" '
            f'aria-label="histogram of scores">{"".join(bars)}{lines}{marks}'
            f'<line x1="{PAD}" y1="{PAD + H}" x2="{PAD + W}" y2="{PAD + H}" '
            f'stroke="#4a5566"/>{axis}</svg>')


def _figure(report: Report, dist: Distribution) -> str:
    rule = report.rule
    flagged = [p for p in report.flagged if p.distribution == dist.name]
    what = ("Pairs of two submissions" if dist.name == CLASSMATES
            else f"Submissions against the {html.escape(dist.name)}")
    spread = ("too few pairs for a z-score" if math.isnan(dist.spread) else
              f"median {dist.median:.0%}, robust spread {dist.spread:.0%}; "
              f"z = {rule.outlier:g} at {dist.score_at(rule.outlier):.0%}")
    return (f"<figure>{histogram(dist, flagged, rule.outlier, rule.threshold)}"
            f"<figcaption><b>{what}</b> sharing code: {len(dist.scores)}, {spread}; "
            f"{len(flagged)} flagged (red marks). Bar heights on a log scale."
            "</figcaption></figure>")


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


def _section(rank: int, p: Pair, flagged: bool) -> str:
    is_open = " open" if rank == 1 or flagged else ""
    return (f'<details id="pair-{rank}"{is_open}><summary>{rank}. '
            f"{html.escape(p.a.name)} and {html.escape(p.b.name)}: {p.score:.0%}"
            f"</summary><div class=\"sides\">{_side(p.a, p.slices_a, p.share_a)}"
            f"{_side(p.b, p.slices_b, p.share_b)}</div></details>")


def _facts(report: Report) -> str:
    rule, limit = report.rule, report.common_limit
    common = ("" if math.isinf(limit) else
              f"<span>common code set aside <b>{report.common_passages}</b> passages "
              f"(in more than {limit:g} submissions)</span>")
    return (f'<div class="facts"><span>submissions <b>{report.submissions}</b></span>'
            f"<span>references <b>{len(report.references)}</b></span>"
            f"<span>pairs sharing code <b>{len(report.pairs)}</b></span>{common}"
            f"<span>flagged (score &ge; {rule.threshold:.0%}, robust z &ge; {rule.outlier:g},"
            f" &ge; {rule.min_tokens} tokens) <b>{len(report.flagged)}</b></span>"
            f"<span>time <b>{report.seconds:.1f} s</b></span></div>")


LEAD = """<p class="lead">Solution code compared pairwise and with the course package and
the instructor's solution. Names, comments, blank lines and the order of functions do not
change a score; code the release hands out does not count, nor does common code (a passage
that many submissions share). A pair is flagged when its score is unusual for this class:
far above the scores of the other pairs (a robust z-score: how many spreads above the
median), with enough matched code. A flag asks for a look; it changes no grade.</p>"""


def write_html(report: Report, path: Path, least: int = 10, most: int = 200) -> Path:
    """The distributions, the ranked pairs, then pairs side by side: the first ``least``
    pairs and the flagged ones, at most ``most`` of these (the CSV has them all)."""
    flagged = {id(p) for p in report.flagged[:most]}
    detail = [(i, p) for i, p in enumerate(report.pairs, 1) if i <= least or id(p) in flagged]
    rows = "\n".join(_row(i, p, id(p) in flagged) for i, p in detail)
    sections = "".join(_section(i, p, id(p) in flagged) for i, p in detail)
    figures = "".join(_figure(report, d) for d in report.distributions.values())
    problems = "".join(f"<li>{html.escape(s)}: {html.escape(why)}</li>"
                       for s, why in sorted(report.problems.items()))
    rest = len(report.pairs) - len(detail)
    page = f"""<!DOCTYPE html>
<html lang="en"><head>{policy_meta()}<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Similarity: {html.escape(report.assignment)}</title><style>{CSS}</style></head>
<body><main>
<h1>Similarity of {html.escape(report.assignment)}</h1>
{LEAD}
{_facts(report)}
{f'<p class="note">Not read: <ul>{problems}</ul></p>' if problems else ""}
<div class="dists">{figures}</div>
<table><thead><tr><th class="num">#</th><th>submission</th><th>compared with</th>
<th class="num">score</th><th class="num">share of first</th>
<th class="num">share of second</th><th class="num">matched tokens</th>
<th class="num">robust z</th><th class="num">percentile</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p class="note">Score: the share of the submission's code found in the other document
(for two submissions, the larger of the two shares), common code not counted. Robust z:
(score &minus; median) / spread in the pair's distribution, the spread being 1.4826 times
the median absolute deviation. Percentile: the share of that distribution scoring at most
as much. {f"{rest} more pairs share less code; all are in pairs.csv." if rest > 0 else ""}</p>
{sections}
</main></body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
