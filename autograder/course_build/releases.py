"""The main job (``make course``): build the releases, grade a demo class.

    python -m autograder.course_build [--skip-demo] [--out build]

(``make course`` then builds the website, ``build/site/``, with
``docs/site/build_site.py``.)

1. Generates ``release/`` from ``source/`` with ``nbgrader generate_assignment``.
2. Grades a demo class (for every assignment a correct, a partly correct and a blank
   submission) in ``build/demo`` and writes its grade table to ``build/demo/grades.csv``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from autograder.config import open_course
from autograder.layout import ROOT, assignments


def build_releases() -> None:
    """Regenerate release/ from source/ with nbgrader."""
    for name in assignments():
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name,
                        "--force", "--log-level=WARN"], cwd=ROOT, check=True)
        print(f"  release/{name} generated from source/{name}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the releases, grade the demo class.")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args(argv)
    open_course(ROOT)  # a misspelt setting of nbgrader_config.py stops the build here
    # nbgrader runs tools of this environment (alembic) by name
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                          os.environ.get("PATH", "")])
    if assignments():
        print("Releases:")
        build_releases()
        if not args.skip_demo:
            from autograder.course_build import demo

            print("Demo class:")
            demo.run(args.out / "demo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
