"""A mistake costs the points of what it breaks, and its feedback names the cause first.

In a5 a wrong rule of ``*`` shows in nearly every later test, since graphs, the MLP and
training all multiply. The rule check names ``*`` (never an operation that is right);
the graph, scale and MLP checks judge their own part with the student's rules; the
training checks, which cannot, say first that they build on the failed rule check. The
same cascade note appears wherever a part builds on an earlier one (a3's MLP on its
layers). The verdicts come from the audit's runner, which executes the notebook and
judges its recordings exactly as the grader does.
"""

from __future__ import annotations

import io

import nbformat
import pytest
from fixtures.a5 import solution

from autograder import audit, checks
from autograder.checks.framework import Finding

A5 = "a5_autodiff"


def variant_verdicts(assignment, *names):
    """{grade_id: (passed, message)} of the source notebook with the named bugs."""
    patches = [p for v in audit.load_variants(assignment) if v.name in names
               for p in v.patches]
    assert patches, names
    return audit.grade_variant(str(audit.source_notebook(assignment)), patches,
                               audit.AUDIT_SEED)


@pytest.fixture(scope="module")
def wrong_product():
    return variant_verdicts(A5, "mul_rule_own_operand")


@pytest.mark.slow
def test_a_wrong_product_rule_is_named_and_no_right_operation_is_blamed(wrong_product):
    ok, msg = wrong_product["test_value_rules"]
    assert not ok
    first = msg.splitlines()[0]
    assert "(operation=a * b)" in first and "`a * b` with respect to a" in first, first
    for right in ("`a + b`", "`a - b`", "`a / b`", "a.tanh()"):
        assert right not in msg, msg


@pytest.mark.slow
def test_the_parts_that_can_be_judged_apart_keep_their_points(wrong_product):
    assert wrong_product["test_value_forward"] == (True, "passed")
    for gid in ("test_value_graphs", "test_value_scale", "test_mlp_forward"):
        ok, msg = wrong_product[gid]
        assert ok, (gid, msg)
        assert msg.startswith("passed, judged apart from test_value_rules, which fails (the "
                              "gradient rule of `a * b` is wrong"), msg


@pytest.mark.slow
def test_training_failures_name_the_rule_first(wrong_product):
    ok, msg = wrong_product["test_train_xor"]
    assert not ok and msg.startswith("this part builds on test_value_rules, which fails: "
                                     "the gradient rule of `a * b` is wrong"), msg
    assert "fix that first" in msg.splitlines()[0]


@pytest.mark.slow
def test_train_step_is_judged_with_the_students_own_gradients(wrong_product):
    """With a wrong rule of `*`, train_step keeps its points when its loss, update and
    reset are right, and loses them when one of those is wrong too."""
    ok, msg = wrong_product["test_train_step"]
    assert ok and msg.startswith("passed, judged apart from test_value_rules"), msg
    for second, words in (("grads_not_reset", "the gradients are not reset"),
                          ("hinge_loss_summed", "the first loss is wrong")):
        ok, msg = variant_verdicts(A5, "mul_rule_own_operand", second)["test_train_step"]
        assert not ok and msg.startswith("this part builds on test_value_rules"), msg


@pytest.mark.slow
def test_a_wrong_product_rule_costs_the_rules_and_the_training_only(wrong_product):
    """The figures of the README's "How a mistake is scored"."""
    points = audit.test_points(str(audit.source_notebook(A5)))
    failed = {gid for gid, (ok, _) in wrong_product.items() if not ok}
    assert failed == {"test_value_rules", "test_train_xor"}
    kept = sum(p for gid, p in points.items() if gid not in failed)
    assert (kept, sum(points.values())) == (11, 16)
    readme = (audit.ROOT / "README.md").read_text(encoding="utf-8")
    assert f"scores {kept:g} of {sum(points.values()):g} autograded" in readme


def test_the_dependencies_the_readme_names_are_declared():
    deps = {name: set(c.depends) for name, c in checks.CHECKS.items()}
    assert {"value_rules"} <= deps["value_graphs"] and {"value_rules"} <= deps["train_xor"]
    assert {"value_rules", "mlp_forward"} <= deps["train_step"]
    assert {"affine_forward", "affine_backward", "relu_backward"} <= deps["mlp_backward"]
    assert {"momentum_step", "minibatches"} <= deps["train_digits"]
    assert deps["softmax_backward"] == {"softmax"}
    assert deps["perceptron_train"] == {"perceptron_update"}
    for name, ds in deps.items():  # a dependency is a check of the same assignment
        module = type(checks.CHECKS[name]).__module__
        assert all(type(checks.CHECKS[d]).__module__ == module for d in ds), name


@pytest.mark.slow
def test_a_second_mistake_in_backward_is_still_caught_with_a_wrong_rule():
    verdicts = variant_verdicts(A5, "mul_rule_own_operand", "order_not_reversed")
    ok, msg = verdicts["test_value_graphs"]
    assert not ok
    assert "this part builds on test_value_rules" in msg
    assert "wrong even with your own rules" in msg and "reversed" in msg, msg


@pytest.mark.slow
def test_a3_mlp_names_the_failed_layer_first():
    verdicts = variant_verdicts("a3_backprop", "affine_forward_no_bias")
    assert not verdicts["test_affine_forward"][0]
    ok, msg = verdicts["test_mlp_backward"]
    assert not ok and msg.startswith("this part builds on test_affine_forward, which fails"), \
        msg


def test_in_jupyter_a_later_check_knows_what_an_earlier_one_found(monkeypatch):
    """Run interactively, the checks keep what they found in the kernel: the graph check
    passes a wrong product rule that the rule check reported, and names it."""
    for k in (checks.RECORD_ENV, checks.SEED_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)
    checks._FOUND.clear()
    V = solution("mul_rule_own_operand")["Value"]
    with pytest.raises(AssertionError, match=r"`a \* b` with respect to a"):
        checks.value_rules(V)
    found = checks._FOUND["value_rules"]
    assert "a * b" in found.wrong and "a + b" not in found.wrong
    assert found.cause.startswith("the gradient rule of `a * b` is wrong")
    checks.value_graphs(V)  # judged with the student's own rules: passes
    checks._FOUND.clear()
    with pytest.raises(AssertionError, match=r"a \* b"):
        checks.value_graphs(V)  # nothing found before: the wrong rule is named here


def test_blame_names_the_first_failed_dependency():
    check = checks.CHECKS["train_xor"]
    earlier = {"train_step": Finding("train_step", "test_train_step", "step 1 is wrong"),
               "value_rules": Finding("value_rules", "test_value_rules",
                                      "the gradient rule of `a * b` is wrong",
                                      frozenset({"a * b"}))}
    assert check.blame(earlier).startswith(
        "this part builds on test_value_rules, which fails: the gradient rule of `a * b`")
    assert check.blame({}) == ""
    assert checks.CHECKS["value_forward"].blame(earlier) == ""


def test_the_audit_prints_the_points_each_mistake_costs():
    nb = nbformat.read(str(audit.source_notebook(A5)), 4)
    points = audit.test_points(str(audit.source_notebook(A5)))
    assert points["test_value_rules"] == 3 and points["test_value_graphs"] == 4
    assert sum(points.values()) == sum(
        float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    result = audit.AuditResult(A5, {g: (True, "") for g in points},
                               {"mul_rule_own_operand": ["test_value_rules", "test_train_step"]},
                               {"mul_rule_own_operand": "m"}, points)
    out = io.StringIO()
    audit.report(result, out=out)
    total = sum(points.values())
    lost = points["test_value_rules"] + points["test_train_step"]
    assert f"-{lost:g} of {total:g} points, caught by test_value_rules, test_train_step" \
        in out.getvalue()
