"""Similarity report: which submissions share code with a classmate or with the course.

``python -m autograder similarity <assignment>`` compares the solution code of every
submission in ``submitted/<student>/<assignment>/`` with every other one, and each with
the course package's source (``course/*.py``) and the instructor's solution
(``source/<assignment>/``), in the folders nbgrader's ``CourseDirectory`` names. The
comparison is copydetect's, which fingerprints code like MOSS (winnowing, Schleimer,
Wilkerson and Aiken, SIGMOD 2003) after Pygments has replaced every name by a
placeholder and dropped comments and whitespace: renamed variables, reordered functions,
new comments and blank lines leave the fingerprints as they were. Code the release gives
every student (signatures, docstrings, the stub) is boilerplate and never counts, and
neither does common code: a passage found in more submissions than
``max(c.Similarity.common_min, c.Similarity.common_share x submissions)`` (MOSS's ``-m``),
the ten lines of an affine layer that every student writes alike.

On short functions independent solutions still converge, so a share alone flags a large
part of a class. A pair is flagged when its score reaches ``c.Similarity.threshold``, it matches at
least ``c.Similarity.min_tokens`` tokens, and its score is unusual for this class and
assignment: a robust z-score of at least ``c.Similarity.outlier`` in its distribution
(:mod:`.distribution`; settings: :class:`autograder.config.Similarity`).

It writes ``similarity/<assignment>/report.html`` (the distributions of the scores and
where the flagged pairs lie in them, pairs ranked, the matching regions side by side and
highlighted; one self-contained file) and ``pairs.csv``. It reads notebooks as JSON, never
runs their code and never touches the gradebook: a flag is for the instructor to look at,
not a grade.

The solution code of a submission is the source of its nbgrader solution code cells
(:func:`nbgrader.utils.is_solution`, or a ``grade_id`` that is a solution cell in
``source/``), plus code cells the student added (no nbgrader metadata, not in the release).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import math
import sys
import time
from collections import Counter
from pathlib import Path

import nbformat
import numpy as np
from copydetect import CodeFingerprint
from copydetect.utils import get_token_coverage
from nbgrader.utils import is_solution
from scipy import sparse
from traitlets.config import Config

from autograder.cells import grade_id
from autograder.config import GradingError, Similarity, command_line_settings, open_course
from autograder.layout import course_folder, course_notebooks
from autograder.sanitize import student_id_problem
from autograder.similarity.distribution import place
from autograder.similarity.documents import (
    COURSE,
    SOLUTION,
    SUBMISSION,
    Document,
    FlagRule,
    Pair,
    Report,
)
from autograder.similarity.report import write_csv, write_html

# copydetect's noise and guarantee thresholds: their defaults and meaning are those of
# the settings c.Similarity.noise and c.Similarity.guarantee (autograder.config.Similarity).
DEFAULTS = Similarity()


# ------------------------------------------------------------------ reading code


def solution_code(nb, solution_ids=(), release_sources=frozenset()) -> str:
    """Return the code a student wrote in a notebook: its solution code cells, joined.

    A cell counts when nbgrader marks it a solution (``is_solution``) or its ``grade_id``
    is in ``solution_ids``; a code cell without nbgrader metadata counts unless its source
    is one of ``release_sources`` (a cell the student added or retyped).
    """
    parts = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader")
        if is_solution(cell) or (grade_id(cell) in solution_ids):
            parts.append(cell.source)
        elif not meta and cell.source.strip() and cell.source not in release_sources:
            parts.append(cell.source)
    return "\n\n\n".join(p.rstrip() for p in parts) + "\n" if parts else ""


def _read(path: Path):
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def instructor(config: Config, assignment: str) -> tuple[str, set[str]]:
    """Return the instructor's solution code and the grade_ids of its solution cells."""
    nbs = [_read(p) for p in course_notebooks(config, "source", assignment).get(".", [])]
    if not nbs:
        raise FileNotFoundError(f"no notebook in {course_folder(config, 'source', assignment)}")
    ids = {grade_id(c) for nb in nbs for c in nb.cells if is_solution(c)} - {None}
    return "".join(solution_code(nb) for nb in nbs), ids


def release(config: Config, assignment: str) -> tuple[str, frozenset[str]]:
    """Return the release's solution code (the boilerplate) and the sources of all its cells."""
    nbs = [_read(p) for p in course_notebooks(config, "release", assignment).get(".", [])]
    if not nbs:
        raise FileNotFoundError(f"no notebook in {course_folder(config, 'release', assignment)}"
                                f": run nbgrader generate_assignment {assignment} first")
    sources = frozenset(c.source for nb in nbs for c in nb.cells)
    return "".join(solution_code(nb) for nb in nbs), sources


def submissions(config: Config, assignment: str, solution_ids=(),
                release_sources=frozenset()) -> tuple[dict[str, str], dict[str, str]]:
    """Return ({student: solution code}, {student: why it could not be read})."""
    codes, problems = {}, {}
    for student, paths in course_notebooks(config, "submitted", assignment, "*").items():
        refused = student_id_problem(student)
        if refused:  # as `grade` does: shown (escaped) among the problems, never compared
            problems[student] = refused
            continue
        if not paths:
            problems[student] = "no notebook"
            continue
        try:
            codes[student] = "".join(solution_code(_read(p), solution_ids, release_sources)
                                     for p in paths)
        except Exception as e:  # invalid JSON, not a notebook: say so, go on
            problems[student] = f"unreadable notebook: {type(e).__name__}: {e}"
    return codes, problems


def course_package() -> Document:
    """The source of the installed ``course`` package (read, not imported) as one document.

    One document, not one per module: code pasted from several modules adds up.
    """
    spec = importlib.util.find_spec("course")
    code, parts = "", []
    for folder in spec.submodule_search_locations or []:
        for path in sorted(Path(folder).glob("*.py")):
            parts.append((f"course/{path.name}", len(code)))
            code += path.read_text() + "\n\n"
    return Document("course package", COURSE, code, tuple(parts))


# ------------------------------------------------------------------ comparing


def _fingerprint(doc: Document, noise: int, guarantee: int, boilerplate) -> CodeFingerprint:
    return CodeFingerprint(doc.name, noise, guarantee - noise + 1, boilerplate,
                           language="python", fp=io.StringIO(doc.code))


def _matched_tokens(prints: list[CodeFingerprint], k: int) -> np.ndarray:
    """Return T with T[a, b] = how many tokens of document a are matched in document b.

    The same number as copydetect's ``compare_files`` (the tokens covered by the k-grams
    of a whose fingerprint b also has), for all pairs at once: an inverted index maps each
    fingerprint to the documents holding it, and the union of the k-token windows is summed
    per document from the sorted start positions.
    """
    ids: dict[int, int] = {}
    rows, cols, starts = [], [], []
    for d, fp in enumerate(prints):
        pos, hid = [], []
        for h, where in fp.hash_idx.items():
            i = ids.setdefault(h, len(ids))
            rows.append(i)
            cols.append(d)
            pos.extend(where)
            hid.extend([i] * len(where))
        order = np.argsort(pos, kind="stable")
        starts.append((np.asarray(pos, dtype=np.int64)[order],
                       np.asarray(hid, dtype=np.int64)[order]))
    n = len(prints)
    holders = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)),
                                shape=(len(ids), n))
    tokens = np.zeros((n, n), dtype=np.int64)
    for a, (pos, hid) in enumerate(starts):
        if not len(pos):
            continue
        # (other document, start position) of every window of a that the other one shares
        shared = holders[hid].tocoo()
        other, at = shared.col, pos[shared.row]
        keep = other != a
        other, at = other[keep], at[keep]
        order = np.lexsort((at, other))
        other, at = other[order], at[order]
        if not len(at):
            continue
        same = np.r_[False, other[1:] == other[:-1]]
        step = np.where(same, np.minimum(np.diff(at, prepend=0), k), k)
        tokens[a] = np.bincount(other, weights=step, minlength=n).astype(np.int64)
    return tokens


def common_limit(submissions: int, share: float = DEFAULTS.common_share,
                 least: int = DEFAULTS.common_min) -> float:
    """The most submissions a passage may be found in and still count: more is common code."""
    return max(float(least), share * submissions)


def set_aside_common(prints: list[CodeFingerprint], student: list[bool],
                     limit: float) -> int:
    """Drop the fingerprints found in more than ``limit`` submissions from every document.

    Common code is then treated as the release's code (copydetect's boilerplate): its
    fingerprints are removed after winnowing, wherever they occur, and the tokens they
    covered leave the document's token coverage (copydetect's ``get_token_coverage`` of
    what remains), so a share is a share of the code that is not common. Returns how many
    fingerprints were set aside.
    """
    held = Counter(h for fp, s in zip(prints, student) if s for h in fp.hashes)
    common = {h for h, n in held.items() if n > limit}
    for fp in prints:
        if common.isdisjoint(fp.hashes):
            continue
        fp.hashes = fp.hashes - common
        fp.hash_idx = {h: at for h, at in fp.hash_idx.items() if h not in common}
        fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code))
    return len(common)


def fingerprint(docs: list[Document], boilerplate: str = "", noise: int = DEFAULTS.noise,
                guarantee: int = DEFAULTS.guarantee, limit: float = math.inf
                ) -> tuple[list[CodeFingerprint], int]:
    """Fingerprint every document, the release's code and common code set aside.

    Returns the fingerprints and the number of common ones (see :func:`set_aside_common`).
    """
    common = np.array([])
    if boilerplate.strip():
        common = np.unique(np.array(list(_fingerprint(
            Document("boilerplate", "", boilerplate), noise, noise, None).hashes)))
    prints = [_fingerprint(d, noise, guarantee, common) for d in docs]
    return prints, set_aside_common(prints, [d.kind == SUBMISSION for d in docs], limit)


def pairs_of(docs: list[Document], prints: list[CodeFingerprint]) -> list[Pair]:
    """The pairs that share code, best score first; pairs of two reference documents are
    not compared. Shares are copydetect's: matched tokens over the tokens a document's
    fingerprints cover."""
    tokens = _matched_tokens(prints, prints[0].k if prints else 1)
    cover = np.array([max(fp.token_coverage, 1) for fp in prints])
    student = np.array([d.kind == SUBMISSION for d in docs], dtype=bool)
    i, j = np.nonzero(tokens)
    once = student[i] & (~student[j] | (j > i))  # each pair once, a submission first
    i, j = i[once], j[once]
    share_a, share_b = tokens[i, j] / cover[i], tokens[j, i] / cover[j]
    score = np.where(student[j], np.maximum(share_a, share_b), share_a)  # as Pair.score
    name = np.argsort(np.argsort(np.array([d.name for d in docs]), kind="stable"))
    order = np.lexsort((name[j], name[i], -tokens[i, j], -score))  # best first, then names
    return [Pair(docs[a], docs[b], float(share_a[k]), float(share_b[k]), int(tokens[a, b]),
                 (prints[a], prints[b])) for k, a, b in zip(order, i[order], j[order])]


def compare(docs: list[Document], boilerplate: str = "", noise: int = DEFAULTS.noise,
            guarantee: int = DEFAULTS.guarantee, limit: float = math.inf) -> list[Pair]:
    """Compare every submission with every other and with every reference document.

    Returns the pairs that share code, best score first (:func:`pairs_of`), the release's
    code (``boilerplate``) and the passages found in more than ``limit`` submissions not
    counted.
    """
    return pairs_of(docs, fingerprint(docs, boilerplate, noise, guarantee, limit)[0])


# ------------------------------------------------------------------ configuration, run


def run(assignment: str, root: Path | str | None = None, threshold: float | None = None,
        out: Path | str | None = None, config: Config | None = None) -> Report:
    """Compare the class's submissions of an assignment and write the report and the CSV.

    The settings are ``c.Similarity`` of the course's configuration, then ``config`` (the
    command line's), then ``threshold``.
    """
    course = open_course(root, config=config)
    root, conf = course.root, course.similarity
    if threshold is not None:
        conf.threshold = threshold
    t0 = time.perf_counter()
    boilerplate, release_sources = release(course.config, assignment)
    reference, ids = instructor(course.config, assignment)
    codes, problems = submissions(course.config, assignment, ids, release_sources)
    refs = [Document("instructor's solution", SOLUTION, reference), course_package()]
    docs = [Document(s, SUBMISSION, c) for s, c in codes.items()] + refs
    limit = common_limit(len(codes), conf.common_share, conf.common_min)
    prints, common = fingerprint(docs, boilerplate, conf.noise, conf.guarantee, limit)
    pairs = pairs_of(docs, prints)
    report = Report(assignment, pairs, FlagRule(conf.threshold, conf.outlier, conf.min_tokens),
                    len(codes), [r.name for r in refs], problems, 0.0,
                    place(pairs, conf.min_pairs), limit, common)
    report.seconds = time.perf_counter() - t0
    folder = Path(out) if out else root / "similarity" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    report.csv = write_csv(report, folder / "pairs.csv")
    report.html = write_html(report, folder / "report.html")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder similarity",
                                 description="Flag submissions that share code with a "
                                 "classmate, the course package or the instructor's solution.")
    ap.add_argument("assignment")
    ap.add_argument("--root", help="course directory (default: the one with nbgrader_config.py)")
    ap.add_argument("--threshold", metavar="SHARE",
                    help="alias of --Similarity.threshold (0 to 1)")
    argv, config = command_line_settings(sys.argv[1:] if argv is None else list(argv),
                                         {"--threshold": "Similarity.threshold"})
    args = ap.parse_args(argv)
    try:
        report = run(args.assignment, args.root, config=config)
    except (FileNotFoundError, GradingError) as e:
        print(f"autograder similarity: error: {e}")
        return 2
    rule = report.rule
    print(f"{report.submissions} submissions, {len(report.pairs)} pairs sharing code, "
          f"{len(report.flagged)} flagged (score >= {rule.threshold:.2f}, robust z >= "
          f"{rule.outlier:g}, >= {rule.min_tokens} tokens matched) in {report.seconds:.1f} s")
    for p in report.flagged[:20]:
        print(f"  {p.score:6.0%}  {p.a.name}  ~  {p.b.name}")
    for student, why in sorted(report.problems.items()):
        print(f"  not read: {student}: {why}")
    print(f"report: {report.html}\ntable:  {report.csv}")
    return 0
