"""Similarity report on a class of N generated submissions of a3_backprop (default 500).

Each generated student writes the first two parts (the affine and activation layers) in
their own way (tests/fixtures/similarity/corpus.py: habits and idioms drawn per student)
and answers each later cell in one of five styles (the instructor's solution and four
hand-written ones, tests/fixtures/similarity/students); local names are renamed at
random, comments and blank lines added, some cells left blank. One student in twenty
hands in a disguised copy of a classmate's notebook. With five styles many pairs share
whole cells, so far more pairs match than in a real class: more work for the comparison,
not less. Two students who drew the same style for the later cells share those cells
verbatim, as no two students of a real class would, so many of them are flagged too.

Times ``python -m autograder similarity`` (autograder.similarity.compare.run: reading the
notebooks, fingerprinting, comparing, writing the report) against the named baseline
"naive all-pairs difflib": difflib.SequenceMatcher(...).ratio() on the solution code of
each pair, measured on a random sample of pairs in the same run and scaled to all the
pairs the report compares. Prints both, whether every planted copy was flagged, and last
``ratio=<baseline / report>``.

With ``--before <commit>`` it also times ``python -m autograder similarity`` of that
commit and of this checkout on the same class, each in a fresh process, alternately
(``--repeat`` times each, best wall and CPU times kept), and prints their flags and the
ratios ``after/before``.

    python benchmarks/similarity.py [--n 500] [--sample 300] [--before main] [--repeat 2]
"""

from __future__ import annotations

import argparse
import ast
import csv
import difflib
import io
import keyword
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tokenize
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
from fixtures.similarity import classroom as cr  # noqa: E402
from fixtures.similarity import corpus  # noqa: E402

from autograder.config import open_course  # noqa: E402
from autograder.course_build import demo  # noqa: E402
from autograder.similarity import compare as similarity  # noqa: E402

WORDS = ["val", "tmp", "acc", "res", "arr", "grad", "upd", "cur", "prev", "nxt", "buf",
         "lay", "step", "part", "item", "node", "feat", "term", "piece", "slot"]
REMARKS = ["# compute it", "# TODO check shapes", "# vectorised", "# see lecture 5",
           "# chain rule", "# careful with broadcasting", "# this took a while"]


def stored_names(code: str) -> set[str]:
    """Names the code assigns (local variables, loop variables, parameters)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if not keyword.iskeyword(n)}


def disguise(code: str, rng: random.Random) -> str:
    """Rename assigned names, add comments and blank lines: what a copier would do."""
    names = sorted(stored_names(code))
    rename = {n: f"{rng.choice(WORDS)}_{i}" for i, n in enumerate(names) if rng.random() < 0.7}
    tokens = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.NAME and tok.string in rename:
            tok = tok._replace(string=rename[tok.string])
        tokens.append(tok)
    out = []
    for line in tokenize.untokenize(tokens).splitlines():
        out.append(line)
        stripped = line.strip()
        if stripped and not stripped.startswith(('"""', "#")) and rng.random() < 0.15:
            out.append(" " * (len(line) - len(line.lstrip())) + rng.choice(REMARKS))
        elif rng.random() < 0.08:
            out.append("")
    return "\n".join(out) + "\n"


def make_class(course: Path, n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Hand in n generated submissions; return the planted (copier, original) pairs."""
    rng = random.Random(seed)
    styles = list(cr.hand_written().values())
    source = nbformat.read(cr.ROOT / "source" / cr.ASSIGNMENT / f"{cr.ASSIGNMENT}.ipynb", 4)
    styles.append(demo.answers(source, "code"))
    release = cr.release_notebook()
    handed, planted = {}, []
    for i in range(n):
        student = f"s{i:03d}"
        worth = sorted(s for s, a in handed.items() if len(a) >= 3)  # something to copy
        if worth and rng.random() < 0.05:
            original = rng.choice(worth)
            answers = {k: disguise(v, rng) for k, v in handed[original].items()}
            planted.append((student, original))
        else:
            blank = rng.random() < 0.08
            own = corpus.independent(f"benchmark {seed} {i}")  # the first two parts
            answers = {} if blank else {
                gid: disguise(own.get(gid) or rng.choice(styles)[gid], rng)
                for gid in styles[0] if rng.random() > 0.15}
        handed[student] = answers
        cr.submit(course, student, answers, release)
    return planted


def difflib_seconds(codes: list[str], pairs: int, sample: int, rng: random.Random) -> float:
    """Seconds the naive all-pairs difflib comparison would take for `pairs` pairs."""
    picks = [tuple(rng.sample(range(len(codes)), 2)) for _ in range(sample)]
    t0 = time.perf_counter()
    for i, j in picks:
        difflib.SequenceMatcher(None, codes[i], codes[j]).ratio()
    return (time.perf_counter() - t0) / sample * pairs


def tree_of(commit: str, into: Path) -> Path:
    """This repository's files at a commit (``git archive``), extracted into a folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_command(tree: Path, course: Path) -> tuple[float, float, set[frozenset[str]]]:
    """Wall and CPU seconds of ``python -m autograder similarity`` with the code of
    ``tree`` (a fresh process: start-up included), and the pairs its pairs.csv flags."""
    t0, c0 = time.perf_counter(), _cpu()
    r = subprocess.run([sys.executable, "-m", "autograder", "similarity", cr.ASSIGNMENT,
                        "--root", str(course)], cwd=tree, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(tree)})
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if r.returncode:
        sys.exit(f"similarity of {tree} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    with open(course / "similarity" / cr.ASSIGNMENT / "pairs.csv", newline="") as f:
        flagged = {frozenset((row["a"], row["b"])) for row in csv.DictReader(f)
                   if row["flagged"] == "1"}
    return wall, cpu, flagged


def before_after(commit: str, course: Path, planted, repeat: int, base: Path) -> None:
    """Time a commit's similarity command and this checkout's on the same class: the best
    wall and CPU times of ``repeat`` runs each, alternately (CPU time is the steadier on a
    shared machine)."""
    trees = {f"before ({commit})": tree_of(commit, base / "before"), "after": ROOT}
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    flagged: dict[str, set] = {}
    for _ in range(repeat):  # alternately, so that both see the same load
        for name, tree in trees.items():
            w, c, flagged[name] = timed_command(tree, course)
            wall[name], cpu[name] = min(wall.get(name, w), w), min(cpu.get(name, c), c)
    for name in trees:
        found = sum(frozenset(p) in flagged[name] for p in planted)
        print(f"{name}: {wall[name]:.1f} s wall, {cpu[name]:.1f} s CPU (best of {repeat}), "
              f"flagged={len(flagged[name])}, planted copies flagged {found}/{len(planted)}")
    before, after = f"before ({commit})", "after"
    print(f"after/before: wall {wall[after] / wall[before]:.2f}, "
          f"CPU={cpu[after] / cpu[before]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="number of submissions")
    ap.add_argument("--sample", type=int, default=300, help="pairs timed for the baseline")
    ap.add_argument("--before", metavar="COMMIT", help="also time this commit's command")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each with --before")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="similarity-bench-"))
    try:
        course = cr.new_course(base / "course")
        planted = make_class(course, args.n)
        t0 = time.perf_counter()
        report = similarity.run(cr.ASSIGNMENT, course)
        ours = time.perf_counter() - t0

        config = open_course(course).config
        codes, _ = similarity.submissions(config, cr.ASSIGNMENT)
        refs = [similarity.instructor(config, cr.ASSIGNMENT)[0],
                similarity.course_package().code]
        texts = list(codes.values()) + refs
        n = len(codes)
        compared = n * (n - 1) // 2 + n * len(refs)
        naive = difflib_seconds(texts, compared, args.sample, random.Random(1))

        flagged = {frozenset((p.a.name, p.b.name)) for p in report.flagged}
        found = sum(frozenset(p) in flagged for p in planted)
        print(f"submissions={n} pairs compared={compared} pairs sharing code="
              f"{len(report.pairs)} flagged={len(report.flagged)}")
        print(f"planted copies flagged: {found}/{len(planted)}")
        print(f"autograder similarity (copydetect fingerprints, inverted index): {ours:.1f} s")
        print(f"naive all-pairs difflib (estimated from {args.sample} pairs): {naive:.1f} s")
        print(f"under 2 minutes: {'yes' if ours < 120 else 'NO'}")
        print(f"ratio={naive / ours:.2f}")
        if args.before:
            before_after(args.before, course, planted, args.repeat, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
