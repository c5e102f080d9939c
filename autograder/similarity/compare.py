"""Similarity report: which submissions share code with a classmate or with the course.

``python -m autograder similarity <assignment>`` compares the solution code of every
submission in ``submitted/<student>/<assignment>/`` with every other one, and each with
the course package's source (``course/*.py``) and the instructor's solution
(``source/<assignment>/``), in the folders nbgrader's ``CourseDirectory`` names. The
comparison is copydetect's, which fingerprints code like MOSS (winnowing, Schleimer,
Wilkerson and Aiken, SIGMOD 2003) after Pygments has replaced every name by a
placeholder and dropped comments and whitespace: renamed variables, reordered functions,
new comments and blank lines leave the fingerprints as they were. Code the release gives
every student (signatures, docstrings, the stub) is boilerplate and never counts.

It writes ``similarity/<assignment>/report.html`` (pairs ranked, the matching regions
side by side and highlighted; one self-contained file) and ``pairs.csv``. It flags pairs
whose score reaches ``c.Similarity.threshold`` (:class:`autograder.config.Similarity`); it reads
notebooks as JSON, never runs their code and never touches the gradebook: a flag is for
the instructor to look at, not a grade.

The solution code of a submission is the source of its nbgrader solution code cells
(:func:`nbgrader.utils.is_solution`, or a ``grade_id`` that is a solution cell in
``source/``), plus code cells the student added (no nbgrader metadata, not in the release).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
from copydetect import CodeFingerprint
from nbgrader.utils import is_solution
from scipy import sparse
from traitlets.config import Config

from autograder.cells import grade_id
from autograder.config import GradingError, Similarity, command_line_settings, open_course
from autograder.layout import course_folder, course_notebooks
from autograder.sanitize import student_id_problem
from autograder.similarity.documents import COURSE, SOLUTION, SUBMISSION, Document, Pair, Report
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


def compare(docs: list[Document], boilerplate: str = "", noise: int = DEFAULTS.noise,
            guarantee: int = DEFAULTS.guarantee) -> list[Pair]:
    """Compare every submission with every other and with every reference document.

    Returns the pairs that share code, best score first; pairs of two reference documents
    are not compared. Shares are copydetect's: matched tokens over the tokens a document's
    fingerprints cover, boilerplate excluded.
    """
    common = np.array([])
    if boilerplate.strip():
        common = np.unique(np.array(list(_fingerprint(
            Document("boilerplate", "", boilerplate), noise, noise, None).hashes)))
    prints = [_fingerprint(d, noise, guarantee, common) for d in docs]
    tokens = _matched_tokens(prints, noise)
    cover = np.array([max(fp.token_coverage, 1) for fp in prints])
    student = np.array([d.kind == SUBMISSION for d in docs])
    pairs = []
    for i, j in zip(*np.nonzero(tokens)):
        if not student[i] or (student[j] and j < i):  # each pair once, a submission first
            continue
        pairs.append(Pair(docs[i], docs[j], tokens[i, j] / cover[i], tokens[j, i] / cover[j],
                          int(tokens[i, j]), (prints[i], prints[j])))
    pairs.sort(key=lambda p: (-p.score, -p.tokens, p.a.name, p.b.name))
    return pairs


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
    pairs = compare(docs, boilerplate, conf.noise, conf.guarantee)
    report = Report(assignment, pairs, conf.threshold, len(codes), [r.name for r in refs],
                    problems, time.perf_counter() - t0)
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
    print(f"{report.submissions} submissions, {len(report.pairs)} pairs sharing code, "
          f"{len(report.flagged)} flagged (score >= {report.threshold:.2f}) "
          f"in {report.seconds:.1f} s")
    for p in report.flagged[:20]:
        print(f"  {p.score:6.0%}  {p.a.name}  ~  {p.b.name}")
    for student, why in sorted(report.problems.items()):
        print(f"  not read: {student}: {why}")
    print(f"report: {report.html}\ntable:  {report.csv}")
    return 0
