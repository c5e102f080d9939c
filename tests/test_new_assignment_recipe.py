"""docs/architecture.md's recipe "A new assignment", followed literally with a throwaway
assignment in a copy of the repository: the files the recipe lists, and nothing else,
make the assignment reach the checks, the audit, the website's list and the layout
tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.layout import ROOT

pytestmark = pytest.mark.slow

NAME = "a9_throwaway"
COPIED = ("autograder", "course", "source", "release", "docs/site", "tests/fixtures",
          "tests/conftest.py", "tests/test_grader_layout.py", "README.md",
          "nbgrader_config.py", "pyproject.toml")

CHECK = '''"""Checks of the throwaway assignment: double(x)."""

import numpy as np

from autograder.checks.framework import Check, register
from autograder.checks.guard import call


@register
class double(Check):
    name = "double"
    functions = ("double",)

    def cases(self, rng):
        return [dict(x=float(rng.normal()), info={}) for _ in range(3)]

    def run(self, fns, case):
        return {"y": np.asarray(call(fns[0], case["x"]), dtype=float)}

    def judge(self, case, outputs):
        if not np.isclose(outputs["y"], 2 * case["x"]):
            return False, f"double({case['x']:g}) is {float(outputs['y']):g}, not twice it"
        return True, ""
'''

BUGS = '''"""Known mistakes of the throwaway assignment."""

VARIANTS = [dict(name=f"times_{k}", description=f"{k} x instead of 2 x",
                 patches=[("double", "return 2 * x", f"return {k} * x")])
            for k in (0, 1, 3, 4, 5, 6, 7, 8, 9, 10, -1)]
VARIANTS.append(dict(name="calls_course", description="imports the course's answers",
                     patches=[("double", "    return 2 * x",
                               "    from course import activations  # noqa\\n"
                               "    return 2 * x")]))
CHEAT = "calls_course"
CHEAT_LOSES = {"test_double"}
'''


def _source_notebook() -> nbformat.NotebookNode:
    def meta(grade_id, **flags):
        return {"nbgrader": {"grade_id": grade_id, "locked": not flags.get("solution"),
                             "schema_version": 3, "solution": False, "grade": False,
                             "task": False, **flags}}

    return new_notebook(cells=[
        new_markdown_cell("# A throwaway assignment", metadata=meta("intro")),
        new_code_cell("import numpy as np\n\nfrom autograder import checks",
                      metadata=meta("setup")),
        new_code_cell("def double(x):\n    \"\"\"Return 2 x.\"\"\"\n    ### BEGIN SOLUTION\n"
                      "    return 2 * x\n    ### END SOLUTION",
                      metadata=meta("double", solution=True)),
        new_code_cell('"""double(x) is twice x."""\nchecks.double(double)\n'
                      "### BEGIN HIDDEN TESTS\nchecks.double(double, hidden=True)\n"
                      "### END HIDDEN TESTS",
                      metadata=meta("test_double", grade=True, points=1)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def _copy_repository(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "chapters", "*.db", ".autograder")
    for rel in COPIED:
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=ignore)
        else:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _follow_the_recipe(repo: Path, env: dict) -> None:
    """The five steps of "A new assignment", in order."""
    (repo / "source" / NAME).mkdir(parents=True)
    nbformat.write(_source_notebook(), repo / "source" / NAME / f"{NAME}.ipynb")
    (repo / "autograder" / "checks" / f"{NAME}.py").write_text(CHECK)
    (repo / "autograder" / "bugs" / f"{NAME}.py").write_text(BUGS)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", NAME, "--force",
                    "--log-level=WARN"], cwd=repo, env=env, check=True, capture_output=True)
    readme = repo / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = text.index("\n|", text.index("## The assignments"))
    end = text.index("\n\n", table)  # after the table's last row
    readme.write_text(text[:end] + f"\n| `{NAME}` | a function that doubles its input |"
                      + text[end:], encoding="utf-8")


PROBE = textwrap.dedent(f'''
    import sys
    from pathlib import Path
    import autograder
    assert Path(autograder.__file__).resolve().parents[1] == Path.cwd().resolve()
    from autograder import checks
    from autograder.layout import assignments
    assert "{NAME}" in assignments() and "{NAME}" in checks.assignment_modules()
    assert "double" in checks.CHECKS
    sys.path.insert(0, "docs/site")
    import build_site
    notebooks, goals = build_site.assignment_inputs(assignments(), Path("release"),
                                                    Path("README.md").read_text())
    assert "{NAME}" in notebooks and "{NAME}" in goals
    print("PROBE OK")
''')


def test_a_new_assignment_needs_only_the_files_its_recipe_lists(tmp_path):
    repo = _copy_repository(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    _follow_the_recipe(repo, env)
    release = nbformat.read(repo / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    assert "hidden=True" not in "".join(c.source for c in release.cells)

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=900)

    probe = run("-c", PROBE)
    assert "PROBE OK" in probe.stdout, probe.stderr[-3000:]
    audit = run("-m", "autograder", "audit", NAME, "--root", str(repo))
    assert audit.returncode == 0 and "12/12 variants caught" in audit.stdout, \
        audit.stdout[-3000:] + audit.stderr[-3000:]
    layout = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_grader_layout.py",
                 "-k", NAME)
    assert layout.returncode == 0 and " passed" in layout.stdout, layout.stdout[-3000:]
