"""The bug audit: every known-bug variant of every assignment is caught by a test cell."""

import io
import subprocess
import sys

import nbformat
import pytest

from autograder import audit
from autograder.layout import assignments

pytestmark = pytest.mark.slow

ASSIGNMENTS = assignments()


@pytest.fixture(scope="module")
def results():
    return {a: audit.audit(a, workers=2) for a in ASSIGNMENTS}


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_library_has_at_least_twelve_variants_that_apply(a):
    variants = audit.load_variants(a)
    assert len(variants) >= 12
    assert len({v.name for v in variants}) == len(variants)
    nb = nbformat.read(str(audit.source_notebook(a)), 4)
    for v in variants:
        changed = audit.apply_patches(nb, v.patches)  # raises if a patch no longer applies
        assert changed and v.description


def test_a_patch_that_does_not_apply_is_an_error():
    nb = nbformat.read(str(audit.source_notebook("a3_backprop")), 4)
    with pytest.raises(ValueError, match="exactly once"):
        audit.apply_patches(nb, [("affine_layer", "no such text", "x")])


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_reference_passes_every_test_cell(results, a):
    ref = results[a].reference
    assert ref and all(ok for ok, _ in ref.values()), ref


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_every_variant_is_caught(results, a):
    r = results[a]
    missed = [name for name, gids in r.caught.items() if not gids]
    assert not missed
    assert r.catch_rate == 100.0
    assert all(r.messages[name] for name in r.caught)


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_report_prints_the_catch_rate(results, a):
    out = io.StringIO()
    audit.report(results[a], out=out)
    text = out.getvalue()
    assert f"{a}: {len(results[a].caught)}/{len(results[a].caught)} variants caught" in text
    assert "catch_rate=100.0%" in text and "NOT CAUGHT" not in text


def test_an_uncaught_variant_is_reported():
    harmless = audit.Variant("renamed_local", "renames a local variable, no bug",
                             [("mlp", "dh = dscores", "dh = 1.0 * dscores")])
    r = audit.audit("a3_backprop", variants=[harmless], workers=1)
    out = io.StringIO()
    audit.report(r, out=out)
    assert r.catch_rate == 0.0 and "NOT CAUGHT" in out.getvalue()


def test_command_line():
    proc = subprocess.run([sys.executable, "-m", "autograder.audit", "a2_losses"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    n = len(audit.load_variants("a2_losses"))
    assert f"a2_losses: {n}/{n} variants caught, catch_rate=100.0%" in proc.stdout
