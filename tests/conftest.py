"""Shared pytest settings.

Notebooks and helpers under ``tests/fixtures`` are data for tests, not tests. The helpers
are a package: a test imports them as ``from fixtures.grader import gradertools`` (pytest
puts this directory on ``sys.path``, as for every test module here). The list of
assignments comes from one place, :func:`autograder.paths.assignments`.
"""

import pytest

collect_ignore_glob = ["fixtures/*", "fixtures/**/*"]


@pytest.fixture
def clean_checks_env(monkeypatch):
    """No recording directory, seed or nbgrader run in the environment; no check called yet."""
    from autograder import checks

    for k in (checks.RECORD_ENV, checks.SEED_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)
    checks._OCCURRENCES.clear()


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
