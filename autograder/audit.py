"""The bug audit: do the hidden tests catch known mistakes?

``python -m autograder.audit <assignment> [...]`` grades a library of known-bug variants
of an assignment's reference solution (``autograder/bugs/<assignment>.py``) and prints,
for each variant, the points it loses and the test cells that catch it, then the catch
rate. A variant is a
list of text replacements in the solution cells of the source notebook.

Each variant runs in a fresh process the way the sandboxed grader runs a submission:
the notebook's code cells (the test cells with their hidden blocks) execute with
``AUTOGRADER_RECORD_DIR`` set, then :func:`autograder.judge.judge_notebook` judges the
recordings. So the audit exercises exactly the check code the hidden tests use.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.cells import grade_id, python_only
from autograder.config import GradingError, open_course
from autograder.layout import ROOT, notebook

AUDIT_SEED = 20261123


@dataclass
class Variant:
    """A known mistake: text replacements ``(grade_id, old, new)`` in solution cells."""

    name: str
    description: str
    patches: list = field(default_factory=list)


def load_variants(assignment: str) -> list[Variant]:
    """Return the bug variants of an assignment from ``autograder.bugs.<assignment>``."""
    mod = importlib.import_module(f"autograder.bugs.{assignment}")
    return [v if isinstance(v, Variant) else Variant(**v) for v in mod.VARIANTS]


def source_notebook(assignment: str, root: Path = ROOT) -> Path:
    """Return the source notebook of an assignment."""
    return notebook(assignment, "source", root)


def apply_patches(nb, patches) -> dict[str, str]:
    """Return {grade_id: new source} for the patched cells; fail if a patch does not apply."""
    sources = {grade_id(c): c.source for c in nb.cells
               if c.cell_type == "code"}
    out = {}
    for gid, old, new in patches:
        src = out.get(gid, sources.get(gid))
        if src is None:
            raise ValueError(f"no code cell with grade_id {gid!r}")
        if src.count(old) != 1:
            raise ValueError(f"patch text must occur exactly once in {gid!r}: {old!r}")
        out[gid] = src.replace(old, new)
    return out


def execute_cells(nb, replaced: dict[str, str], namespace: dict | None = None) -> list[str]:
    """Run every code cell in order like a kernel that carries on after errors.

    Returns the error of each cell that raised (an empty list when none did).
    """
    ns = namespace if namespace is not None else {"__name__": "__main__"}
    errors = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = grade_id(cell)
        src = replaced.get(gid, cell.source)
        src = python_only(src)
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(src, f"<cell {gid}>", "exec"), ns)
        except Exception as e:
            errors.append(f"{gid}: {type(e).__name__}: {str(e)[:300]}")
    return errors


def grade_variant(nb_path: str, patches: list, seed: int) -> dict:
    """Run one variant in this (fresh) process; return {grade_id: (passed, message)}."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from autograder import checks
    from autograder.judge import judge_notebook

    nb = nbformat.read(nb_path, as_version=4)
    replaced = apply_patches(nb, patches)
    with tempfile.TemporaryDirectory(prefix="audit-") as rec:
        os.environ[checks.RECORD_ENV] = rec
        os.environ[checks.SEED_ENV] = str(seed)
        checks._OCCURRENCES.clear()
        checks._FOUND.clear()
        try:
            execute_cells(nb, replaced)
        finally:
            os.environ.pop(checks.RECORD_ENV, None)
            os.environ.pop(checks.SEED_ENV, None)
        verdicts = judge_notebook(Path(nb_path), Path(rec), seed)
    return {gid: (v.passed, v.message) for gid, v in verdicts.items()}


def _worker(args):
    nb_path, patches, seed = args
    try:
        return grade_variant(nb_path, patches, seed)
    except Exception:
        return {"<error>": (False, traceback.format_exc())}


@dataclass
class AuditResult:
    assignment: str
    reference: dict
    caught: dict  # variant name -> list of grade_ids that fail
    messages: dict  # variant name -> first failing message
    points: dict = field(default_factory=dict)  # grade_id -> its autograded points

    @property
    def catch_rate(self) -> float:
        return 100.0 * sum(bool(v) for v in self.caught.values()) / max(len(self.caught), 1)

    @property
    def total(self) -> float:
        """The autograded points of the assignment's test cells."""
        return float(sum(self.points.get(g, 0.0) for g in self.reference))

    def lost(self, name: str) -> float:
        """The points a variant loses: those of the test cells it fails."""
        return float(sum(self.points.get(g, 0.0) for g in self.caught[name]))


def test_points(nb_path: str) -> dict[str, float]:
    """{grade_id: points} of the autograded test cells of a notebook."""
    nb = nbformat.read(nb_path, as_version=4)
    return {grade_id(c): float(c.metadata["nbgrader"].get("points", 0) or 0)
            for c in nb.cells if c.cell_type == "code"
            and c.metadata.get("nbgrader", {}).get("grade")}


def audit(assignment: str, root: Path = ROOT, seed: int = AUDIT_SEED, workers: int = 2,
          variants: list[Variant] | None = None) -> AuditResult:
    """Grade the reference and every variant; a variant is caught if a test cell fails."""
    nb_path = str(source_notebook(assignment, root))
    variants = load_variants(assignment) if variants is None else variants
    jobs = [(nb_path, [], seed)] + [(nb_path, v.patches, seed) for v in variants]
    import multiprocessing as mp

    # Forked workers start from this process, with numpy, nbformat and the checks already
    # imported; each serves one variant, so no state leaks from one variant to the next.
    import autograder.judge  # noqa: F401
    import course.data

    with contextlib.suppress(Exception):
        course.data.digits()  # loads scikit-learn once, before the workers fork

    ctx = mp.get_context("fork")
    with ctx.Pool(processes=max(1, workers), maxtasksperchild=1) as pool:
        results = pool.map(_worker, jobs, chunksize=1)
    reference, rest = results[0], results[1:]
    caught, messages = {}, {}
    for v, res in zip(variants, rest):
        if "<error>" in res:
            raise RuntimeError(f"variant {v.name} could not run:\n{res['<error>'][1]}")
        caught[v.name] = [gid for gid, (ok, _) in res.items()
                          if not ok and reference.get(gid, (False,))[0]]
        messages[v.name] = next((res[g][1] for g in caught[v.name]), "")
    return AuditResult(assignment, reference, caught, messages, test_points(nb_path))


def report(result: AuditResult, out=sys.stdout, verbose=False) -> None:
    """Print the per-variant table and the catch rate."""
    bad_ref = [g for g, (ok, _) in result.reference.items() if not ok]
    print(f"== {result.assignment}", file=out)
    if bad_ref:
        print(f"   the reference solution FAILS: {', '.join(bad_ref)}", file=out)
        for g in bad_ref:
            print(f"     {g}: {result.reference[g][1]}", file=out)
    for name, gids in result.caught.items():
        status = (f"-{result.lost(name):g} of {result.total:g} points, caught by "
                  + ", ".join(gids)) if gids else "NOT CAUGHT"
        print(f"   {name:<38} {status}", file=out)
        if verbose and gids:
            print(f"      {result.messages[name].splitlines()[0][:200]}", file=out)
    n = len(result.caught)
    k = sum(bool(v) for v in result.caught.values())
    print(f"   {result.assignment}: {k}/{n} variants caught, catch_rate={result.catch_rate:.1f}%",
          file=out)


def main(argv=None) -> int:
    """Command line: ``python -m autograder.audit [assignment ...] [-v]``."""
    p = argparse.ArgumentParser(prog="python -m autograder.audit", description=__doc__.split(
        "\n")[0])
    p.add_argument("assignments", nargs="*", help="assignment names (default: all with bugs)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each catching message")
    p.add_argument("--seed", type=int, default=AUDIT_SEED, help="the hidden checks' seed")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--root", help="course directory (default: the one with nbgrader_config.py)")
    args = p.parse_args(argv)
    try:
        root = open_course(args.root).root
    except GradingError as e:
        print(f"autograder audit: error: {e}", file=sys.stderr)
        return 2
    names = args.assignments or sorted(
        f.stem for f in (Path(__file__).parent / "bugs").glob("a*.py"))
    ok = True
    for name in names:
        result = audit(name, root=root, seed=args.seed, workers=args.workers)
        report(result, verbose=args.verbose)
        ok &= result.catch_rate == 100.0 and all(v[0] for v in result.reference.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
