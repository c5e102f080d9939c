"""Throughput: plain ``nbgrader autograde`` vs ``python -m autograder grade``.

Both grade the same N submissions (default 60) of the grader's fixture assignment
(tests/fixtures/grader/course, ps1) in fresh copies of one course, in this run, one
after the other. The autograder runs with its sandbox on and its default number of
workers (all cores) unless --workers is given. Prints both throughputs, whether the two
gradebooks agree, and last a line ``speedup=<autograder / nbgrader>``.

    python benchmarks/grade_throughput.py [--n 60] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fixtures" / "grader"))
import gradertools as gt  # noqa: E402

WRONG = {
    "sigmoid_solution": "def sigmoid(z):\n    return 0.5 + 0 * z\n\n\n"
                        "def sigmoid_grad(z):\n    return 0.25 + 0 * z\n",
    "relu_solution": "def relu(z):\n    return np.abs(z)\n\n\n"
                     "def relu_grad(z):\n    return 1 + 0 * z\n",
}


def make_class(course: Path, n: int) -> None:
    rng = random.Random(0)
    for i in range(n):
        wrong = {k: v for k, v in WRONG.items() if rng.random() < 0.3}
        gt.submit(course, f"s{i:03d}", gt.student_notebook(course, wrong))


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=gt.venv_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="number of submissions")
    ap.add_argument("--workers", type=int, help="autograder workers (default: all cores)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="grade-throughput-"))
    try:
        template = gt.make_template(base / "template")
        make_class(template, args.n)
        plain = gt.new_course(template, base / "plain")
        ours = gt.new_course(template, base / "ours")

        t_plain = timed([sys.executable, "-m", "nbgrader", "autograde", "ps1"], plain)
        cmd = [sys.executable, "-m", "autograder", "grade", "ps1", "--root", str(ours),
               "--no-progress"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        t_ours = timed(cmd, ours)

        agree = gt.scores(plain) == gt.scores(ours)
        print(f"submissions={args.n} cores={os.cpu_count()}")
        print(f"nbgrader autograde (no sandbox, serial): {t_plain:.1f} s, "
              f"{args.n / t_plain:.2f} submissions/s")
        print(f"autograder grade (bubblewrap sandbox, {args.workers or os.cpu_count()} "
              f"workers): {t_ours:.1f} s, {args.n / t_ours:.2f} submissions/s")
        print(f"same scores in both gradebooks: {'yes' if agree else 'NO'}")
        print(f"speedup={t_plain / t_ours:.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
