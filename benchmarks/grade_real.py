"""Grading the course's own assignments: plain ``nbgrader autograde`` vs the grader.

For each assignment (default: all of source/), a class of N students (default 30, one
class section) hands in the release, built as ``autograder.course_build.demo`` builds
its demo class: in turn a correct submission (the instructor's answers), one with a
known bug of the audit library (``autograder/bugs``), one with two bugs, one with only
the first half of the answers, and a blank one. Both graders grade the same class in
fresh copies of one course, one after the other: plain ``nbgrader autograde <a>``
(serial, no sandbox) and ``python -m autograder grade <a>`` (bubblewrap sandbox, all
cores). Prints per assignment both wall times, whether both gradebooks hold the same
score for every test cell, and ``speedup=<nbgrader / autograder>``; then the grader's
machine seconds per submission once started ((wall time - start-up) x workers / N) split
into

- kernel: starting and stopping the sandboxed kernels (nbclient's start, shutdown; a warm
  kernel's fork from the zygote is part of its start);
- student code: the notebook's other code cells (set-up cells, the student's answers);
- checks: the test cells (the trusted checks run the student's functions on the cases);
- judge: the verdicts recomputed in the worker (autograder.judge.judge_notebook);
- gradebook: nbgrader gradebook sessions in the grader's main process;
- sandbox set-up: the rest of a worker's task (scratch directory, uid slot, records);
- other: workers idle (nbgrader's conversion and staging in the main process, waiting).

Start-up (interpreter and imports, starting the workers, grading the instructor's
solution first) is printed apart: it is paid once per run, whatever the class size.

The split is measured in the timed run itself: the grader runs in a child process of this
script whose spawned workers import this file, which wraps those functions with timers
(no change to the grader). Last line: ``speedup=`` of all assignments together.

    python benchmarks/grade_real.py [--n 30] [--assignments a1_perceptron_activations ...]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMINGS = "GRADE_REAL_TIMINGS"  # file the instrumented processes append their timings to
ROOT = Path(__file__).resolve().parents[1]
PARTS = ["kernel", "student code", "checks", "judge", "gradebook"]


# ------------------------------------------------------------------ instrumentation


# prefix: "self-check " while a worker grades the instructor's solution
_PHASE: dict = {"prefix": ""}


def _log(part: str, seconds: float, **more) -> None:
    with open(os.environ[TIMINGS], "a") as f:
        f.write(json.dumps({"part": _PHASE["prefix"] + part, "s": seconds, **more}) + "\n")


def _timed_async(part, fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            name, more = part(*args) if callable(part) else (part, {})
            _log(name, time.perf_counter() - t0, **more)
    return wrapper


def _timed(part, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _log(part, time.perf_counter() - t0)
    return wrapper


def _cell_part(client, cell, *rest) -> tuple[str, dict]:
    from autograder.cells import grade_id, is_test

    return ("checks" if is_test(cell) else "student code"), {"cell": grade_id(cell)}


def instrument_worker() -> None:
    """Wrap kernel start and stop, cell execution, the judge and the task with timers.

    A spawned worker imports these modules anyway (autograder.task needs nbclient). Once
    per process: a second call would count every event twice.
    """
    if _PHASE.get("instrumented"):
        return
    _PHASE["instrumented"] = True
    import nbclient
    from jupyter_client import AsyncKernelManager

    import autograder.judge
    import autograder.task

    nc = nbclient.NotebookClient
    nc.async_start_new_kernel = _timed_async("kernel", nc.async_start_new_kernel)
    nc.async_start_new_kernel_client = _timed_async("kernel",
                                                    nc.async_start_new_kernel_client)
    nc.async_execute_cell = _timed_async(_cell_part, nc.async_execute_cell)
    AsyncKernelManager.shutdown_kernel = _timed_async("kernel",
                                                      AsyncKernelManager.shutdown_kernel)
    autograder.judge.judge_notebook = _timed("judge", autograder.judge.judge_notebook)
    timed_task = _timed("worker", autograder.task.run_task)

    @functools.wraps(autograder.task.run_task)
    def run_task(task):
        same = json.loads(task.notebook) == json.loads(task.source_notebook)
        _PHASE["prefix"] = "self-check " if same else ""
        try:
            return timed_task(task)
        finally:
            _PHASE["prefix"] = ""
    autograder.task.run_task = run_task


def instrument_main() -> None:
    """Wrap the gradebook sessions, the self-check, the run and the pool's start."""
    import nbgrader.api
    import nbgrader.converters.autograde
    import nbgrader.preprocessors.saveautogrades

    import autograder.course_assignment
    import autograder.grade
    import autograder.preprocessors
    import autograder.selfcheck
    import autograder.task
    import autograder.workers

    instrument_worker()  # the same run_task object here and in the workers (pickled by name)
    autograder.workers.run_task = autograder.task.run_task
    pool = autograder.workers.LocalPool
    pool._start = _timed("pool start", pool._start)
    autograder.grade.Grader.run = _timed("run", autograder.grade.Grader.run)
    autograder.grade.self_check = _timed("self-check", autograder.grade.self_check)

    class TimedGradebook(nbgrader.api.Gradebook):
        def __enter__(self):
            self._t0 = time.perf_counter()
            return super().__enter__()

        def __exit__(self, *exc):
            try:
                return super().__exit__(*exc)
            finally:
                _log("gradebook", time.perf_counter() - self._t0)

    for mod in (autograder.course_assignment, autograder.preprocessors,
                nbgrader.converters.autograde, nbgrader.preprocessors.saveautogrades):
        mod.Gradebook = TimedGradebook


if os.environ.get(TIMINGS) and __name__ != "__main__":  # a spawned grading worker
    instrument_worker()


# ------------------------------------------------------------------ the class


def make_class(course: Path, assignment: str, n: int, seed: int = 0) -> dict[str, str]:
    """Hand in n submissions of the release; return {student: kind}."""
    import nbformat

    from autograder.audit import apply_patches, load_variants
    from autograder.course_build.demo import answers, fill

    name = f"{assignment}.ipynb"
    release = nbformat.read(course / "release" / assignment / name, as_version=4)
    source = nbformat.read(course / "source" / assignment / name, as_version=4)
    everything = answers(source)
    code = list(answers(source, "code").items())
    variants = load_variants(assignment)
    rng = random.Random(seed)
    kinds = {}
    for i in range(n):
        kind = ["correct", "one bug", "two bugs", "half", "blank"][i % 5]
        if kind == "correct":
            filled = everything
        elif kind in ("one bug", "two bugs"):
            picked = rng.sample(variants, 1 if kind == "one bug" else 2)
            try:
                patched = apply_patches(source, [p for v in picked for p in v.patches])
            except ValueError:  # two bugs in the same line: keep the first
                patched = apply_patches(source, picked[0].patches)
            filled = {**everything, **patched}
        elif kind == "half":
            filled = dict(code[: max(1, len(code) // 2)])
        else:
            filled = {}
        student = f"s{i:03d}"
        path = course / "submitted" / student / assignment / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(fill(release, filled), path)
        kinds[student] = kind
    return kinds


def make_course(template: Path, names: list[str], n: int) -> Path:
    """A course folder holding the config, the assignments' source and release, and a
    class of n students handing in each assignment (:func:`make_class`)."""
    template.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", template)
    for a in names:
        shutil.copytree(ROOT / "source" / a, template / "source" / a)
        run([sys.executable, "-m", "nbgrader", "generate_assignment", a, "--force",
             "--log-level=WARN"], template)
        make_class(template, a, n)
    return template


def venv_env(**extra: str) -> dict[str, str]:
    """os.environ with this interpreter's bin directory first (nbgrader runs `alembic`)."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            **extra}


def run(cmd: list[str], cwd: Path, **extra: str) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=venv_env(**extra), capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode not in (0, 1):  # 1: some student failed, reported in the scores
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return elapsed


def scores(course: Path, assignment: str) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.auto_score is not None:  # autograded test cells
                        out[sub.student.id, g.name] = float(g.score or 0)
    return out


def split(path: Path) -> dict[str, float]:
    total: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            total[rec["part"]] = total.get(rec["part"], 0.0) + rec["s"]
    return total


def cells(path: Path) -> dict[str, float]:
    """Seconds per graded cell (grade id) of the students' notebooks, summed."""
    total: dict[str, float] = {}
    for line in path.read_text().splitlines() if path.exists() else ():
        rec = json.loads(line)
        if "cell" in rec and not rec["part"].startswith("self-check"):
            total[str(rec["cell"])] = total.get(str(rec["cell"]), 0.0) + rec["s"]
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="students per assignment")
    ap.add_argument("--assignments", nargs="*", help="default: every assignment of source/")
    ap.add_argument("--workers", type=int, help="autograder workers (default: all cores)")
    args = ap.parse_args()
    from autograder.layout import assignments

    names = args.assignments or assignments()
    os.environ.update(PATH=venv_env()["PATH"])  # nbgrader's gradebook runs `alembic`
    workers = args.workers or os.cpu_count()
    base = Path(tempfile.mkdtemp(prefix="grade-real-"))
    sums = {"plain": 0.0, "ours": 0.0}
    try:
        template = make_course(base / "template", names, args.n)
        print(f"students per assignment={args.n} cores={os.cpu_count()} workers={workers}")
        for a in names:
            plain = shutil.copytree(template, base / f"plain-{a}")
            ours = shutil.copytree(template, base / f"ours-{a}")
            t_plain = run([sys.executable, "-m", "nbgrader", "autograde", a,
                           "--log-level=WARN"], plain)
            timings = base / f"timings-{a}.jsonl"
            cmd = [sys.executable, __file__, "--grade", a, "--root", str(ours),
                   "--no-progress", "--workers", str(workers)]
            t_ours = run(cmd, ours, **{TIMINGS: str(timings)})
            s_plain, s_ours = scores(plain, a), scores(ours, a)
            differ = sorted(k for k in s_plain.keys() | s_ours.keys()
                            if s_plain.get(k) != s_ours.get(k))
            sums["plain"] += t_plain
            sums["ours"] += t_ours
            parts = split(timings)
            before = t_ours - parts.get("run", 0.0)  # interpreter, imports, configuration
            pool, check = parts.get("pool start", 0.0), parts.get("self-check", 0.0)
            startup = before + pool + check
            machine = (t_ours - startup) * workers / args.n
            shown = {p: parts.get(p, 0.0) / args.n for p in PARTS}
            shown["sandbox set-up"] = parts.get("worker", 0.0) / args.n - sum(
                shown[p] for p in ("kernel", "student code", "checks", "judge"))
            shown["other"] = machine - sum(shown.values())
            print(f"{a}: nbgrader autograde {t_plain:.1f} s ({t_plain / args.n:.2f} s per "
                  f"submission), autograder grade {t_ours:.1f} s; same scores: "
                  f"{'yes' if not differ else 'NO ' + str(differ[:6])}; "
                  f"speedup={t_plain / t_ours:.2f}")
            print(f"  machine seconds per submission {machine:.2f} = " + ", ".join(
                f"{p} {s:.2f}" for p, s in shown.items()))
            print(f"  once per run, start-up took {startup:.1f} s of the wall time: "
                  f"{before:.1f} s before grading (interpreter, imports, configuration), "
                  f"{pool:.1f} s starting {workers} workers, {check:.1f} s grading the "
                  "instructor's solution first")
        print(f"all: nbgrader autograde {sums['plain']:.1f} s, autograder grade "
              f"{sums['ours']:.1f} s")
        print(f"speedup={sums['plain'] / sums['ours']:.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def grade_instrumented(argv: list[str]) -> int:
    """``python -m autograder grade`` with the timers on (this script's child process)."""
    import autograder  # noqa: F401 - first, as in the CLI: it keeps a slow optional
    # dependency of jsonschema from being imported (see autograder/__init__.py)

    instrument_main()
    from autograder.__main__ import main as autograder_main

    return autograder_main(["grade", *argv])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--grade"]:
        sys.exit(grade_instrumented(sys.argv[2:]))
    main()
