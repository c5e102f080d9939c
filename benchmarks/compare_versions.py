"""Do two versions of the course grade a class alike? ``grade``, ``feedback``, ``audit`` and
``similarity`` of this checkout against those of another commit, on one class.

The class is built once, by this checkout, as ``benchmarks/grade_real.py`` builds its
class (per assignment: correct submissions, one and two known bugs of the audit library,
half the answers, blank ones). Each version then grades its own copy of the course with
its own code (``PYTHONPATH`` set to its tree, so its ``python -m autograder`` and the
sandboxed kernels import it): ``grade``, ``feedback``, ``similarity``, ``nbgrader
export``, and the bug audit of every assignment. Compared, after removing the seconds each
run took and the folders it ran in:

- the gradebook: every grade's score of every student;
- the verdict in each autograded test cell's metadata;
- the summary table ``grade`` prints; the feedback pages and ``grading_report.txt``;
- ``nbgrader export``'s CSV (its rows sorted); the similarity table; the audit's report.

Prints ``same: <what>`` or ``DIFFERENT: <what>`` with the first differing lines, then
``identical=yes`` or ``identical=no`` (exit status 1).

With ``--demo`` the class is the demo class of ``make course`` (a correct submission, the
first half of the answers, a blank one) instead.

    python benchmarks/compare_versions.py --before <commit> [--n 10 | --demo]
                                          [--assignments a3_backprop ...]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from grade_real import make_course, venv_env  # noqa: E402

SECONDS = re.compile(r"\b\d+(\.\d+)?\s?s\b")


def run(cmd: list[str], cwd: Path, tree: Path, ok=(0, 1)) -> str:
    env = venv_env(PYTHONPATH=str(tree))
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} (in {cwd}, code of {tree}) exited {r.returncode}:\n"
                 f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def normal(text: str, *folders: Path) -> str:
    """The text without what differs from run to run: its folders, the seconds, and the
    padding of table columns that those seconds widen."""
    for folder in folders:
        text = text.replace(str(folder), "<folder>")
    text = SECONDS.sub("<s>", text)
    return "\n".join(re.sub(r"  +", "  ", line).rstrip("- ") or line[:1]
                     for line in text.splitlines())


def table(course: Path, name: str) -> str:
    """A CSV's header and its rows in sorted order (nbgrader lists students in the order
    they were graded, which parallel grading varies)."""
    lines = (course / name).read_text().splitlines()
    return "\n".join(lines[:1] + sorted(lines[1:]))


def gradebook(course: Path, assignments: list[str]) -> str:
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for a in assignments:
            for sub in gb.assignment_submissions(a):
                for nb in sub.notebooks:
                    for g in nb.grades:
                        rows.append(f"{a} {sub.student.id} {nb.name} {g.name} "
                                    f"auto={g.auto_score} manual={g.manual_score} "
                                    f"needs_manual={g.needs_manual_grade}")
    return "\n".join(sorted(rows))


def verdicts(course: Path) -> str:
    import nbformat

    rows = []
    for path in sorted((course / "autograded").glob("*/*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if "autograder" in cell.metadata:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                rows.append(f"{path.relative_to(course)} {gid} "
                            f"{json.dumps(cell.metadata['autograder'], sort_keys=True)}")
    return "\n".join(rows)


def files(course: Path, pattern: str) -> str:
    return "\n".join(f"== {p.relative_to(course)}\n{normal(p.read_text(), course)}"
                     for p in sorted(course.glob(pattern)))


def outcomes(tree: Path, template: Path, work: Path, assignments: list[str]) -> dict:
    """Everything one version produces on its copy of the class."""
    course = shutil.copytree(template, work)
    py = sys.executable
    out = {}
    for a in assignments:
        out[f"grade summary {a}"] = normal(run(
            [py, "-m", "autograder", "grade", a, "--no-progress"], course, tree), course)
        run([py, "-m", "autograder", "feedback", a], course, tree)
        run([py, "-m", "autograder", "similarity", a], course, tree)
        out[f"audit {a}"] = normal(run([py, "-m", "autograder", "audit", a], tree, tree),
                                   tree, course)
    run([py, "-m", "nbgrader", "export", "--to", "grades.csv", "--log-level=WARN"],
        course, tree)
    out["gradebook"] = gradebook(course, assignments)
    out["verdicts in autograded/"] = verdicts(course)
    out["feedback pages"] = files(course, "feedback/*/*/*.html")
    out["grading reports"] = files(course, "feedback/*/*/grading_report.txt")
    out["nbgrader export"] = table(course, "grades.csv")
    out["similarity tables"] = files(course, "similarity/**/*.csv")
    return out


def demo_course(template: Path, names: list[str]) -> Path:
    """A course folder holding the demo class of ``make course``
    (:func:`autograder.course_build.demo.submissions`: correct, half, blank)."""
    import nbformat

    from autograder.course_build.demo import submissions

    make_course(template, names, 0)
    for a in names:
        for student, nb in submissions(a).items():
            path = template / "submitted" / student / a / f"{a}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
    return template


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the commit to compare this checkout with")
    ap.add_argument("--n", type=int, default=10, help="students per assignment")
    ap.add_argument("--assignments", nargs="*", help="default: every assignment of source/")
    ap.add_argument("--demo", action="store_true",
                    help="the demo class of `make course` instead (ada, blaise, carl)")
    args = ap.parse_args()
    from autograder.layout import assignments as all_assignments

    names = args.assignments or all_assignments()
    os.environ.update(PATH=venv_env()["PATH"])
    base = Path(tempfile.mkdtemp(prefix="compare-versions-"))
    before = base / "before-tree"
    try:
        subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before],
                       cwd=ROOT, check=True, capture_output=True)
        if args.demo:
            template = demo_course(base / "template", names)
            print(f"class: the demo class x {len(names)} assignments; before={args.before}")
        else:
            template = make_course(base / "template", names, args.n)
            print(f"class: {args.n} students x {len(names)} assignments; "
                  f"before={args.before}")
        old = outcomes(before, template, base / "course-before", names)
        new = outcomes(ROOT, template, base / "course-after", names)
        differ = 0
        for what in new:
            if old.get(what) == new[what]:
                print(f"same: {what} ({len(new[what].splitlines())} lines)")
                continue
            differ += 1
            print(f"DIFFERENT: {what}")
            diff = difflib.unified_diff(old.get(what, "").splitlines(),
                                        new[what].splitlines(), "before", "after", lineterm="")
            print("\n".join(list(diff)[:40]))
        print(f"identical={'yes' if not differ else 'no'}")
        return 1 if differ else 0
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT,
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
