"""Command line: ``python -m autograder {grade,feedback,audit,similarity} ...``."""

from __future__ import annotations

import argparse
import importlib.util
import sys

# Short flags of the command line, each an alias of one setting (config.CONFIGURABLES).
ALIASES = {"--cell-timeout": "Autograder.cell_timeout"}


def print_settings() -> None:
    """Every setting of the grader with its help and default (``--help-all``)."""
    from autograder.config import CONFIGURABLES

    print("\nSettings: `c.<Class>.<name> = value` in nbgrader_config.py, or "
          "`--<Class>.<name>=value` on the command line (which wins).\n")
    for cls in CONFIGURABLES:
        print(cls.class_get_help())


def _grade(args: argparse.Namespace) -> int:
    from autograder.grade import Grader, GradingStopped, summary_table

    grader = Grader(
        args.assignment, root=args.root, students=args.student or None,
        workers=args.workers, scheduler=args.scheduler, db_url=args.db, force=args.force,
        progress=not args.no_progress, unsafe_no_sandbox=args.unsafe_no_sandbox,
        config=args.settings,
    )
    try:
        results = grader.run()
    except GradingStopped as stop:
        print(summary_table(stop.results) if stop.results else "no student graded")
        _print_notes(grader.notes)
        print(f"autograder: {stop}", file=sys.stderr)
        return stop.exit_code
    print(summary_table(results))
    _print_notes(grader.notes)
    return 1 if any(r.status in ("failed", "refused") for r in results) else 0


def _print_notes(notes: list[str]) -> None:
    """What the workers had to say (refused or lost Dask workers), after the table."""
    for line in notes:
        print(line)
    sys.stdout.flush()


def _feedback(args: argparse.Namespace) -> int:
    from autograder.feedback.generate import generate_feedback

    reports = generate_feedback(args.assignment, root=args.root, student=args.student,
                                db_url=args.db)
    print(f"feedback written for {len(reports)} student(s)")
    return 0


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade a class on top of nbgrader.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="autograde every submission of an assignment")
    g.add_argument("assignment")
    g.add_argument("--student", action="append", help="grade only this student (repeatable)")
    g.add_argument("--root", help="course directory (default: the one with nbgrader_config.py)")
    g.add_argument("--workers", type=int, help="parallel sandboxes (default: all cores)")
    g.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    g.add_argument("--db", help="gradebook URL, e.g. postgresql://user@host/gradebook")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    for flag, setting in ALIASES.items():
        g.add_argument(flag, metavar="N", help=f"alias of --{setting}")
    g.add_argument("--help-all", action="store_true",
                   help="also list every setting (c.Autograder, c.Similarity) and its default")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without bubblewrap (trusted code only)")
    g.set_defaults(func=_grade)
    f = sub.add_parser("feedback", help="write feedback without hidden tests")
    f.add_argument("assignment")
    f.add_argument("--student")
    f.add_argument("--root")
    f.add_argument("--db")
    f.set_defaults(func=_feedback)
    sub.add_parser("audit", help="the bug audit (autograder.audit)")
    sub.add_parser("similarity", help="flag copied code (autograder.similarity.compare)")
    return parser, g


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["audit"]:
        if importlib.util.find_spec("autograder.audit") is None:
            print("autograder: the audit subcommand is not installed", file=sys.stderr)
            return 2
        from autograder import audit

        return int(audit.main(argv[1:]) or 0)
    if argv[:1] == ["similarity"]:
        from autograder.similarity import compare as similarity

        return similarity.main(argv[1:])

    parser, grade_parser = _parser()
    from autograder.config import GradingError, command_line_settings

    settings = None
    if argv[:1] == ["grade"]:
        if "--help-all" in argv:
            grade_parser.print_help()
            print_settings()
            return 0
        argv, settings = command_line_settings(argv, ALIASES)
    args = parser.parse_args(argv)
    args.settings = settings

    from autograder.sandbox.confinement import SandboxError

    try:
        return args.func(args)
    except (GradingError, SandboxError) as e:
        print(f"autograder: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before any student was graded (see GradingStopped)
        print("\nautograder: interrupted" + ("; no student was graded in this run"
                                             if args.command == "grade" else ""),
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
