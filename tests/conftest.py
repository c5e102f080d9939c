"""Shared pytest settings.

Notebooks and helpers under ``tests/fixtures`` are data for tests, not tests. The helpers
are a package: a test imports them as ``from fixtures.grader import gradertools`` (pytest
puts this directory on ``sys.path``, as for every test module here). The list of
assignments comes from one place, :func:`autograder.layout.assignments`.

Markers (registered in pyproject.toml; ``make test-fast`` leaves these out): every test
under ``tests/browser`` is ``browser`` and every chapter cell run by nbval is ``slow``,
by folder, here; a test module that grades in the sandbox or takes long marks itself
(``pytestmark``).
"""

from pathlib import Path

import pytest

collect_ignore_glob = ["fixtures/*", "fixtures/**/*"]

REPO = Path(__file__).resolve().parent.parent
MARKED_FOLDERS = {REPO / "tests" / "browser": "browser", REPO / "course" / "chapters": "slow"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath)).resolve()
        for folder, mark in MARKED_FOLDERS.items():
            if folder in path.parents:
                item.add_marker(mark)


@pytest.fixture
def clean_checks_env(monkeypatch):
    """No recording directory, seed or nbgrader run in the environment; no check called yet."""
    from autograder import checks

    for k in (checks.RECORD_ENV, checks.SEED_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)
    checks._OCCURRENCES.clear()
    checks._FOUND.clear()


@pytest.fixture
def doubling_check():
    """A new check, registered the way an assignment module registers its checks."""

    from autograder import checks

    class Doubles(checks.Check):
        """double(x) returns 2 x."""

        name = "doubles_for_test"
        functions = ("double",)

        def cases(self, rng):
            return [dict(x=rng.standard_normal(3), info=dict(k=k)) for k in range(2)]

        def run(self, fns, case):
            return {"y": checks.call(fns[0], case["x"].copy(), what="double")}

        def judge(self, case, outputs):
            msg = checks.compare("double(x)", outputs["y"], 2 * case["x"])
            return msg is None, msg or ""

    checks.register(Doubles)
    yield checks.CHECKS["doubles_for_test"]
    del checks.CHECKS["doubles_for_test"]
    delattr(checks, "doubles_for_test")
