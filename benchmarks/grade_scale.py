"""Grading a large class: time per submission at N = 50, 200 and 1000 students.

For each assignment (default: all of source/) and each class size N, a class of N students
hands in the release, built as ``benchmarks/grade_real.py`` builds its class: in turn a
correct submission, one with a known bug of the audit library, one with two bugs, half the
answers and a blank one, so that the verdicts vary. ``python -m autograder grade`` grades
it (sandboxed, all cores), with the timers of ``grade_real.py`` on, and then ``nbgrader
export`` writes the grade table. Printed per assignment and N:

- how many of the N students were graded (``all_graded=no`` and exit code 1 if any was
  not: a failure of the machine, such as a worker out of memory, is not a measurement);
- wall seconds per submission, and machine seconds per submission once started
  ((wall - start-up) x workers / N) with their breakdown (kernel, student code, checks,
  judge, gradebook, sandbox set-up, other: see ``grade_real.py``);
- the peak resident memory of the grader's process and of the largest worker (a worker's
  figure includes the sandboxed kernels it waited for);
- the seconds ``nbgrader export`` took for the class;
- the costliest cells of the students' notebooks (seconds per submission, by grade id).

Then, per assignment, whether the time grows linearly: the machine seconds per submission
at the largest N over those at the smallest (``linear=yes`` when at most 1.25, that is no
per-student cost that grows with the class: gradebook queries, state files, staging
folders), and the lines ``per_sub=<assignment>:<machine s per submission at the largest N>``
and ``class_1000_min=<assignment>:<minutes of wall time for 1000 students at that rate on
this machine's workers, start-up included>``.

With ``--db postgresql://...`` (an empty database the grader may fill) the largest class of
each assignment is graded a second time into PostgreSQL, and the two gradebooks' scores
and ``nbgrader export`` tables are compared (``same_gradebook=yes|no``).

    python benchmarks/grade_scale.py [--n 50 200 1000] [--assignments a3_backprop ...]
                                     [--workers 2] [--db postgresql://...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import grade_real  # noqa: E402  (its timers, its class, its gradebook reader)

LINEAR = 1.25  # largest-N over smallest-N machine seconds per submission still "linear"
PEAKS = "peaks"  # the record grade_instrumented adds to the timings file
TOP_CELLS = 4  # the costliest cells printed per assignment and N


def course_with_class(base: Path, assignment: str, n: int) -> Path:
    """A course folder: the config, the assignment's source and release, n submissions."""
    course = base / f"{assignment}-{n}"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
    grade_real.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                    "--force", "--log-level=WARN"], course)
    grade_real.make_class(course, assignment, n)
    return course


def grade(course: Path, assignment: str, workers: int, timings: Path,
          db: str | None = None) -> float:
    cmd = [sys.executable, __file__, "--grade", assignment, "--root", str(course),
           "--no-progress", "--workers", str(workers)] + (["--db", db] if db else [])
    return grade_real.run(cmd, course, **{grade_real.TIMINGS: str(timings)})


def export(course: Path, db: str | None = None) -> tuple[float, list[dict]]:
    """Run ``nbgrader export``; return its seconds and the table's rows, sorted."""
    out = course / "grades.csv"
    cmd = [sys.executable, "-m", "nbgrader", "export", "--log-level=WARN", f"--to={out}"]
    if db:
        cmd.append(f"--CourseDirectory.db_url={db}")
    seconds = grade_real.run(cmd, course)
    with out.open(newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: (r["assignment"], r["student_id"]))
    for r in rows:  # when each was graded differs from one run to another
        r.pop("timestamp", None)
    return seconds, rows


def peaks(timings: Path) -> dict[str, float]:
    for line in timings.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("part") == PEAKS:
            return rec
    return {}


def measure(course: Path, assignment: str, n: int, workers: int, base: Path) -> dict:
    timings = base / f"timings-{assignment}-{n}.jsonl"
    wall = grade(course, assignment, workers, timings)
    parts = grade_real.split(timings)
    startup = wall - parts.get("run", 0.0) + parts.get("pool start", 0.0) + \
        parts.get("self-check", 0.0)
    machine = (wall - startup) * workers / n
    shown = {p: parts.get(p, 0.0) / n for p in grade_real.PARTS}
    shown["sandbox set-up"] = parts.get("worker", 0.0) / n - sum(
        shown[p] for p in ("kernel", "student code", "checks", "judge"))
    shown["other"] = machine - sum(shown.values())
    # every student gets an autograded notebook; one whose grading failed for a reason of
    # the machine (a worker's MemoryError, a lost worker) has none, and nothing to measure
    graded = len(list((course / "autograded").glob(f"*/{assignment}/*.ipynb")))
    t_export, _ = export(course)
    by_cell = sorted(grade_real.cells(timings).items(), key=lambda kv: -kv[1])
    return dict(n=n, graded=graded, wall=wall, startup=startup, machine=machine, parts=shown,
                peaks=peaks(timings), export=t_export,
                cells={gid: s / n for gid, s in by_cell[:TOP_CELLS]})


def report(assignment: str, m: dict) -> None:
    p = m["peaks"]
    print(f"{assignment} N={m['n']}: graded {m['graded']} of {m['n']}; "
          f"{m['wall'] / m['n']:.2f} s per submission "
          f"({m['wall']:.0f} s, start-up {m['startup']:.0f} s); machine seconds per "
          f"submission {m['machine']:.2f} = " + ", ".join(
              f"{k} {v:.2f}" for k, v in m["parts"].items()))
    print(f"  peak memory: grader {p.get('grader_mb', float('nan')):.0f} MB, largest worker "
          f"{p.get('worker_mb', float('nan')):.0f} MB; nbgrader export {m['export']:.1f} s")
    print("  costliest cells (s per submission): " + ", ".join(
        f"{gid} {s:.2f}" for gid, s in m["cells"].items()))


def compare_postgresql(course: Path, assignment: str, workers: int, db: str,
                       base: Path) -> bool:
    """Grade the same class into PostgreSQL; compare scores and export tables."""
    from autograder.config import normalize_db_url

    url = normalize_db_url(db)  # the driver the grader uses, for nbgrader's own commands
    pg = shutil.copytree(course, base / f"{course.name}-postgresql",
                         ignore=shutil.ignore_patterns("autograded", "feedback",
                                                       "gradebook.db", "grades.csv"))
    grade_real.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                    "--force", "--log-level=WARN", f"--CourseDirectory.db_url={url}"], pg)
    grade(pg, assignment, workers, base / f"timings-{assignment}-pg.jsonl", db=db)
    t_sqlite, rows_sqlite = export(course)
    t_pg, rows_pg = export(pg, url)  # the database may hold other assignments graded before
    rows_pg = [r for r in rows_pg if r["assignment"] == assignment]
    same = rows_sqlite == rows_pg and rows_sqlite
    print(f"  PostgreSQL: nbgrader export {t_pg:.1f} s (SQLite {t_sqlite:.1f} s); "
          f"same_gradebook={'yes' if same else 'no'}")
    return bool(same)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--assignments", nargs="*", help="default: every assignment of source/")
    ap.add_argument("--workers", type=int, help="grading workers (default: all cores)")
    ap.add_argument("--db", help="also grade the largest class into this PostgreSQL URL")
    args = ap.parse_args()
    from autograder.layout import assignments

    names = args.assignments or assignments()
    os.environ.update(PATH=grade_real.venv_env()["PATH"])  # nbgrader runs `alembic`
    workers = args.workers or os.cpu_count()
    sizes = sorted(args.n)
    print(f"class sizes={sizes} cores={os.cpu_count()} workers={workers} "
          f"load={os.getloadavg()[0]:.2f}")
    base = Path(tempfile.mkdtemp(prefix="grade-scale-"))
    ok = True
    try:
        for a in names:
            runs = []
            for n in sizes:
                course = course_with_class(base, a, n)
                runs.append(measure(course, a, n, workers, base))
                report(a, runs[-1])
                if runs[-1]["graded"] < n:
                    print(f"  all_graded=no: {n - runs[-1]['graded']} students got no "
                          "autograded notebook (a failure of the machine, not a grade)")
                    ok = False
                if n == sizes[-1] and args.db:
                    ok &= compare_postgresql(course, a, workers, args.db, base)
                shutil.rmtree(course, ignore_errors=True)
            first, last = runs[0], runs[-1]
            ratio = last["machine"] / first["machine"]
            linear = ratio <= LINEAR
            ok &= linear or len(runs) == 1
            minutes = (last["startup"] + 1000 * last["machine"] / workers) / 60
            print(f"  growth: {ratio:.2f} x the machine seconds per submission from N="
                  f"{first['n']} to N={last['n']}; linear={'yes' if linear else 'no'}")
            print(f"per_sub={a}:{last['machine']:.2f}")
            print(f"class_1000_min={a}:{minutes:.1f}")
        print(f"load={os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


def grade_instrumented(argv: list[str]) -> int:
    """The grade command with grade_real's timers, then its peak memory in the timings."""
    import resource

    code = grade_real.grade_instrumented(argv)
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with open(os.environ[grade_real.TIMINGS], "a") as f:
        f.write(json.dumps({"part": PEAKS, "s": 0.0, "grader_mb": me,
                            "worker_mb": children}) + "\n")
    return code


if __name__ == "__main__":
    if sys.argv[1:2] == ["--grade"]:
        sys.exit(grade_instrumented(sys.argv[2:]))
    sys.exit(main())
