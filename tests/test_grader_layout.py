"""The grader's layout: small modules, short functions, no import cycle, one place for
each thing a maintainer changes (docs/architecture.md, "Extending the course")."""

import ast
import importlib
import sys
from pathlib import Path

import pytest

from autograder import checks
from autograder.layout import ROOT, assignments

PACKAGE = ROOT / "autograder"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def test_no_module_of_the_grader_or_the_course_is_longer_than_400_lines():
    paths = modules() + sorted((ROOT / "course").rglob("*.py"))
    long = {str(p.relative_to(ROOT)): n for p in paths
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert len(paths) > 60 and not long


def test_no_autograder_function_is_longer_than_60_lines():
    long = []
    for p in modules():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({n})")
    assert not long


def imports_of(path: Path) -> set[str]:
    """The autograder modules a module imports: at the top, in functions, and for type
    checking only (``if TYPE_CHECKING:``), so that a type-only cycle counts too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    known = {module_name(p) for p in modules()}
    return {m for m in found if m in known and m.startswith("autograder")}


def test_no_import_cycle_among_autograder_modules():
    """Not even one that only type checking follows."""
    graph = {module_name(p): imports_of(p) for p in modules()}
    for m in graph:  # a package imports its own modules; its modules may import it back
        graph[m] = {d for d in graph[m] if not (d.startswith(m + ".") or m.startswith(d + "."))}
    state: dict[str, int] = {}

    def visit(m, path):
        if state.get(m) == 1:
            raise AssertionError(" -> ".join(path + [m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            visit(d, path + [m])
        state[m] = 2

    for m in sorted(graph):
        visit(m, [])


def test_the_sandbox_package_never_imports_the_judge_or_the_checks():
    """The security boundary (autograder/sandbox/) stands on its own: it imports nothing
    of the grader but the reader of cell metadata, nothing that computes a verdict."""
    boundary = sorted((PACKAGE / "sandbox").glob("*.py"))
    assert {p.stem for p in boundary} >= {"confinement", "kernel", "warm_kernels", "zygote"}
    for path in boundary:
        deps = imports_of(path)
        assert not {d for d in deps if d.startswith(("autograder.judge", "autograder.checks"))}
        outside = {d for d in deps if not d.startswith("autograder.sandbox")}
        assert outside <= {"autograder.cells"}, (path.name, outside)  # which cells are tests


def test_the_zygote_imports_only_the_standard_library():
    """It runs as a script (``python -I zygote.py``), by path, beside the grader's side."""
    zygote = PACKAGE / "sandbox" / "zygote.py"
    tops = set()
    for node in ast.walk(ast.parse(zygote.read_text())):
        if isinstance(node, ast.Import):
            tops.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops.add(node.module.split(".")[0])
    assert tops - {"__future__", "ipykernel"} <= set(sys.stdlib_module_names), tops
    from autograder.sandbox import warm_kernels

    assert Path(warm_kernels.__file__).with_name("zygote.py") == zygote


def test_the_checks_a_kernel_imports_need_no_course_answer_module():
    code = ("import sys; from autograder import checks; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('course', 'autograd')))")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", assignments())
def test_every_assignment_has_a_checks_module_beside_its_known_bugs(name):
    assert (PACKAGE / "checks" / f"{name}.py").is_file()
    assert (PACKAGE / "bugs" / f"{name}.py").is_file()
    assert importlib.import_module(f"autograder.bugs.{name}").VARIANTS


def test_the_checks_package_loads_one_module_per_assignment_and_nothing_else():
    assert checks.assignment_modules() == assignments()
    for name, check in checks.CHECKS.items():
        assert getattr(checks, name) is check
        assert type(check).__module__.rsplit(".", 1)[-1] in assignments()


def test_every_limit_can_be_set_in_nbgrader_config():
    from dataclasses import fields

    from traitlets.config import Config

    from autograder.config import limits_from_config
    from autograder.sandbox.confinement import Limits

    cfg = Config()
    for f in fields(Limits):
        cfg.Autograder[f.name] = getattr(Limits(), f.name) + 7
    limits = limits_from_config(cfg)
    for f in fields(Limits):
        assert getattr(limits, f.name) == getattr(Limits(), f.name) + 7, f.name


def test_help_all_lists_every_setting_with_its_default(capsys):
    from dataclasses import fields

    from autograder.__main__ import main
    from autograder.config import CONFIGURABLES
    from autograder.sandbox.confinement import Limits

    assert main(["grade", "--help-all"]) == 0
    out = capsys.readouterr().out
    blocks = {b.split("=", 1)[0]: b for b in out.split("\n--")[1:]}
    for f in fields(Limits):
        assert f"Autograder.{f.name}" in blocks, f.name
        assert f"Default: {f.default}" in blocks[f"Autograder.{f.name}"], f.name
    for cls in CONFIGURABLES:
        for name, trait in cls.class_traits(config=True).items():
            assert trait.help, f"{cls.__name__}.{name} has no help"
            assert f"Default: {trait.default_value!r}" in blocks[f"{cls.__name__}.{name}"]


def test_each_setting_has_one_default():
    """The course's nbgrader_config.py sets no setting to its default: a default lives in
    the setting's trait alone."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.config import CONFIGURABLES
    from autograder.layout import ROOT

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    for cls in CONFIGURABLES:
        for name, value in cfg.get(cls.__name__, {}).items():
            assert value != cls.class_traits()[name].default_value, f"{cls.__name__}.{name}"


def test_open_course_gives_root_merged_settings_and_gradebook_url(tmp_path, monkeypatch):
    from traitlets.config import Config

    from autograder.config import GradingError, normalize_db_url, open_course

    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Autograder.memory_mb = 4096\nc.Autograder.nproc = 32\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # found from a folder below the course
    cli = Config()
    cli.Autograder.nproc = 16
    course = open_course(config=cli)
    assert course.root == tmp_path.resolve()
    assert (course.limits.memory_mb, course.limits.nproc) == (4096, 16)
    assert course.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    url = "postgresql://grader@db.example/gradebook"
    assert open_course(tmp_path, db_url=url).db_url == normalize_db_url(url)
    with pytest.raises(GradingError, match="does not exist"):
        open_course(tmp_path / "nowhere")


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _documented(name: str, text: str, per_assignment: set[str]) -> bool:
    """A module's dotted name is in the text, or it is one assignment's module of a
    package whose row reads ``<package>.<assignment>``."""
    package, _, stem = name.rpartition(".")
    return f"`{name}`" in text or (stem in per_assignment and
                                   f"`{package}.<assignment>`" in text)


def test_every_module_of_the_grader_and_the_course_is_in_the_architecture_document():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    names = [module_name(p) for p in modules()]
    names += [module_name(p) for p in sorted((ROOT / "course").glob("*.py"))]
    missing = [n for n in names if not _documented(n, text, set(assignments()))]
    assert not missing
    assert "`autograder.nowhere`" not in text and not _documented(
        "autograder.nowhere", text, set(assignments()))


def test_the_architecture_document_names_only_modules_that_exist():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    known = {module_name(p) for p in modules()}
    known |= {module_name(p) for p in sorted((ROOT / "course").glob("*.py"))}
    import re

    rows = re.findall(r"^\| `((?:autograder|course)[\w.]*)`", text, re.M)
    assert rows and set(rows) <= known


def test_the_paths_that_configurations_and_commands_name_still_work():
    import subprocess

    from autograder.feedback import hidden_tests, math_ml
    from autograder.feedback_filter import StripHiddenTests
    from autograder.feedback_math import MathToMathML

    assert StripHiddenTests is hidden_tests.StripHiddenTests
    assert MathToMathML is math_ml.MathToMathML
    named = (ROOT / "nbgrader_config.py").read_text()
    assert "autograder.feedback_filter.StripHiddenTests" in named
    for module in ("autograder.build", "autograder.course_build"):
        out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                             text=True, cwd=ROOT)
        assert out.returncode == 0 and "--skip-demo" in out.stdout, (module, out.stderr)
    assert "python -m autograder.course_build" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("name", assignments())
def test_every_assignment_names_its_cheat_beside_its_known_bugs(name):
    import nbformat

    from autograder.cells import grade_id, test_cells
    from autograder.layout import notebook

    bugs = importlib.import_module(f"autograder.bugs.{name}")
    assert bugs.CHEAT in {v["name"] if isinstance(v, dict) else v.name for v in bugs.VARIANTS}
    tests = {grade_id(c) for c in test_cells(nbformat.read(notebook(name), as_version=4))}
    assert bugs.CHEAT_LOSES and set(bugs.CHEAT_LOSES) <= tests
