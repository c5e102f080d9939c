"""The checks of a5_autodiff: the reference passes them, each known mistake is named.

The reference and the buggy classes come from the source notebook's solution cells, with
the text replacements of the audit's bug library (autograder/bugs/a5_autodiff.py), so the
classes tested here are the ones the audit grades.
"""

import math

import nbformat
import numpy as np
import pytest
from fixtures.a5 import SOURCE, solution

from autograder import checks
from autograder.checks import a5_autodiff as a5
from autograder.checks import autodiff_cases as cases
from autograder.checks import autodiff_judge as judge
from autograder.checks import autodiff_programs as programs
from autograder.seeds import student_seed

A5 = "a5_autodiff"


@pytest.fixture(autouse=True)
def interactive(monkeypatch):
    for k in (checks.RECORD_ENV, checks.SEED_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(k, raising=False)
    checks._FOUND.clear()  # what earlier checks found is kept per kernel: each test starts anew


@pytest.fixture(scope="module")
def ref():
    return solution()


def failure(check, *fns, hidden=False):
    with pytest.raises(AssertionError) as info:
        check(*fns, hidden=hidden)
    return str(info.value)


# --------------------------------------------------------------- the trusted side

def test_the_lecture_example_and_its_known_wrong_orders():
    x = [-2.0, 5.0, -4.0]
    prog = [("bin", "+", 0, 1), ("bin", "*", 3, 2)]
    t = judge.trusted(x, prog)
    assert t["data"].tolist() == [-2.0, 5.0, -4.0, 3.0, -12.0]
    assert t["grad"].tolist() == [-4.0, -4.0, 3.0, -4.0, 1.0]
    # inputs first: the sum's rule runs while its grad is still 0, then the product's
    assert judge.simulate_backward(x, prog, "not_reversed").tolist() == [0, 0, 3, -4, 1]
    # a + a: overwriting keeps one of the two contributions
    assert judge.simulate_backward([1.5], [("bin", "+", 0, 0)], "overwrite").tolist() == [1, 1]
    assert judge.trusted([1.5], [("bin", "+", 0, 0)])["grad"].tolist() == [2, 1]


def test_random_programs_have_the_shape_they_claim():
    rng = np.random.default_rng(0)
    for shape in ("tree", "shared", "chain"):
        for _ in range(10):
            x, prog = cases.random_program(rng, 4, 20, shape)
            uses = np.zeros(len(x) + len(prog), int)
            for ins in prog:
                for j in programs.operands(ins):
                    uses[j] += 1
            assert np.all(uses[:-1] >= 1), "every node reaches the output"
            if shape == "tree":
                assert np.all(uses <= 1)
            t = judge.trusted(x, prog)
            assert np.all(np.isfinite(t["data"])) and np.all(np.abs(t["data"]) <= 60)
    drawn = [cases.random_program(np.random.default_rng(s), 3, 25, "shared") for s in range(10)]
    assert any(cases.path_count(len(x), p) > len(x) + len(p) for x, p in drawn), "reuse happens"


def test_every_random_graph_of_value_graphs_has_at_most_max_paths_and_reuse_remains():
    """A backward pass that runs a rule per path (no visited set) must be shown wrong in
    a moment on every graph, not run into the time limit on a chain of millions of paths;
    the graphs still share nodes heavily and the deep chain stays deep."""
    check = checks.CHECKS["value_graphs"]
    most = []
    for hidden, seeds in ((False, [checks.VISIBLE_SEED]), (True, range(40))):
        for seed in seeds:
            drawn = [c for c in check.draw(hidden, seed) if "nodes" in c["info"]]
            paths = [cases.path_count(len(c["x"]), c["prog"]) for c in drawn]
            assert max(paths) <= cases.MAX_PATHS, (hidden, seed, paths)
            most.append(max(paths))
            chain = drawn[-1]
            assert chain["info"]["graph"] == "chain" and len(chain["prog"]) >= 60
    assert np.median(most) > 1000  # thousands of paths through a hundred nodes


def test_central_differences_of_a_known_function(ref):
    # f = a * b + exp(a): df/da = b + exp(a), df/db = a
    x, prog = [0.3, -1.2], [("bin", "*", 0, 1), ("un", "exp", 0), ("bin", "+", 2, 3)]
    num = programs.central_differences(ref["Value"], x, prog)
    assert np.allclose(num, [-1.2 + math.exp(0.3), 0.3], rtol=1e-8)


def test_ladder_has_two_to_the_levels_paths():
    x, prog = cases.ladder_program(10)
    assert cases.path_count(len(x), prog) > 2 ** 10


# --------------------------------------------------------------- the reference

@pytest.mark.parametrize("name", ["value_forward", "value_rules", "value_graphs",
                                  "mlp_forward"])
def test_reference_passes_for_many_students(ref, name):
    check = checks.CHECKS[name]
    fns = [ref[f] for f in check.functions]
    for student in range(8):
        seed = student_seed(f"student{student}", A5)
        cases = check.cases(checks.case_rng(name, True, seed))
        ok, msg = check.judge_all(cases, [check.safe_run(fns, c) for c in cases])
        assert ok, msg


def test_reference_passes_scale_and_training(ref):
    checks.value_scale(ref["Value"])
    checks.train_step(ref["MLP"], ref["train_step"], hidden=True)


@pytest.mark.slow
def test_train_xor_is_judged_on_the_labels_it_was_given(ref):
    """For the visible seed and for students: the reference passes the visible XNOR case
    and the hidden XOR case; a train_xor that trains on XOR data of its own (the same model
    whatever it is given), or on the XOR labels of the X it is given, fails the visible
    one; one that learns XNOR whatever it is given fails the hidden one."""
    chk = checks.train_xor
    own = solution("xor_data_of_its_own")["train_xor"]
    from_x = solution("xor_labels_from_x")["train_xor"]
    always_xnor = solution(patches=[("training", "    y = [float(t) for t in y]",
                                     "    y = [-1.0 if x[0] * x[1] < 0 else 1.0 for x in X]")])
    for hidden, seed in [(False, checks.VISIBLE_SEED)] + \
            [(True, student_seed(f"student{k}", A5)) for k in range(2)]:
        cases = chk.draw(hidden, seed)
        assert [c["info"]["labels"] for c in cases] == ["XOR" if hidden else "XNOR"]
        ok, msg = chk.judge_all(cases, [chk.safe_run([ref["train_xor"]], c) for c in cases])
        assert ok and "on the 100 points it did not see" in msg, msg
        wrong = [always_xnor["train_xor"]] if hidden else [own, from_x]
        for fn in wrong:
            ok, msg = chk.judge_all(cases, [chk.safe_run([fn], c) for c in cases])
            assert not ok and "the opposite of the labels y it was given" in msg, msg


def test_the_task_text_states_what_train_xor_is_given():
    nb = nbformat.read(str(SOURCE), 4)
    text = " ".join(next(c.source for c in nb.cells if c.cell_type == "markdown"
                         and "`train_xor(X, y)`" in c.source).split())
    for words in (f"on {a5.N_TRAIN} XOR points drawn for you",
                  f"on {a5.N_TRAIN} points with the opposite labels (XNOR",
                  "prints the accuracy reached",
                  f"accuracy of at least {a5.TARGET_ACCURACY}**",
                  f"on {a5.N_VAL} points it did not see",
                  "About 8 hidden units and 100 steps on batches of 10 are enough"):
        assert words in text, words
    code = next(c.source for c in nb.cells if "def train_xor(" in c.source)
    for words in ("MLP(2, [8, 1]", "range(100)", "rng.choice(len(X), 10,"):
        assert words in code, words


# ------------------------------------------------------------- named mistakes

XNOR_CAUGHT = ["case 1 of 1 (labels=XNOR", "the opposite of the labels y it was given",
               "not from XOR data or labels of its own"]


@pytest.mark.parametrize("variant, check, words", [
    ("grad_overwritten", "value_graphs",
     ["node 0 (a leaf), used 2 times", "`=` where `+=` is needed"]),
    ("order_not_reversed", "value_graphs",
     ["visits a node before all the nodes that use it", "reversed"]),
    ("no_visited_set", "value_graphs", ["ran 3 times", "visited set"]),
    ("pow_exponent_not_lowered", "value_rules", ["`a ** ", "the exponent is not lowered"]),
    ("div_denominator_sign", "value_rules",
     ["the gradient of `a / b` with respect to b", "wrong sign"]),
    ("exp_rule_with_input", "value_rules", ["`a.exp()`", "the input x instead of the output"]),
    ("log_rule_times_x", "value_rules", ["`a.log()`", "1 / x, not x"]),
    ("tanh_rule_with_input", "value_rules", ["`a.tanh()`", "the input x instead of the output"]),
    ("sigmoid_rule_missing_factor", "value_rules", ["`a.sigmoid()`", "misses the factor"]),
    ("relu_kink_is_one", "value_rules", ["at a = 0", "use a > 0, not a >= 0"]),
    ("sub_written_as_add", "value_rules", ["`a - b` with respect to b",
                                            "subtraction written as addition"]),
    ("rule_ignores_upstream", "value_rules", ["1.75", "multiply the local derivative by "
                                                      "out.grad"]),
    ("output_grad_not_seeded", "value_graphs", ["the output's grad is 0",
                                                "setting the output's grad to 1"]),
    ("rsub_operands_swapped", "value_forward", ["the operands are swapped", "__rsub__"]),
    ("mlp_last_layer_tanh", "mlp_forward", ["the output layer applies tanh too"]),
    ("parameters_bias_first", "mlp_forward", ["bias before its weights"]),
    ("hinge_loss_summed", "train_step", ["the sum of the hinge terms"]),
    ("grads_not_reset", "train_step", ["step 2 of 3", "not reset between two backward calls",
                                       "zero_grad()"]),
    ("value_is_course_autodiff", "value_rules", ["course.autodiff", "your own code"]),
    ("sigmoid_overflows", "value_forward", ["at a = -", "OverflowError",
                                            "exp(a) / (1 + exp(a))"]),
    ("backward_resets_grads", "value_graphs", ["backward() called twice", "resets the grads",
                                               "accumulate"]),
    ("mul_rule_own_operand", "value_rules", ["(operation=a * b)", "`a * b` with respect to a",
                                             "the operand's own value"]),
    pytest.param("xor_data_of_its_own", "train_xor", XNOR_CAUGHT, marks=pytest.mark.slow),
    pytest.param("xor_labels_from_x", "train_xor", XNOR_CAUGHT, marks=pytest.mark.slow),
])
def test_each_known_mistake_is_named(variant, check, words):
    ns = solution(variant)
    c = checks.CHECKS[check]
    # train_xor's visible check is the XNOR one, which a model of XOR fails
    msg = failure(c, *[ns[f] for f in c.functions], hidden=check != "train_xor")
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.slow
def test_recursion_and_exponential_time_are_named():
    msg = failure(checks.value_scale, solution("recursive_sort")["Value"])
    assert "RecursionError" in msg and "explicit stack" in msg
    msg = failure(checks.value_scale, solution("no_visited_set")["Value"])
    assert "would not finish within 5 s" in msg and "no visited set" in msg
    # told from the small ladder: its 51 rules ran once per path, thousands of times
    assert "ran the nodes' rules" in msg and "12 levels (51 nodes" in msg


def _backward_passes(Value, monkeypatch, sandboxed):
    """How many times ValueScale runs the student's backward() on the ladder."""
    import autograder.checks.guard as guard

    passes = []
    backward = Value.backward
    ladder = [c for c in a5.ValueScale().cases(np.random.default_rng(0))
              if c["kind"] == "ladder"][0]
    with monkeypatch.context() as m:
        if sandboxed:  # the sandbox hides the answers: call() has nothing to watch
            m.setattr(guard, "all_hidden", lambda: True)
        m.setattr(Value, "backward", lambda self: passes.append(1) or backward(self))
        out = a5.ValueScale().run([Value], ladder)
    return len(passes), out


def test_a_backward_pass_that_walks_every_path_costs_one_small_ladder(monkeypatch):
    # The small ladder first: a backward pass that runs the rules once per path is told
    # from it, and the 300-level ladder (which it would never finish) is not run, watched
    # or not. A correct one goes on to the whole ladder: in the sandbox at once, in a
    # student's own Jupyter after a prefix under the guard.
    for sandboxed in (True, False):
        n, out = _backward_passes(solution("no_visited_set")["Value"], monkeypatch,
                                  sandboxed)
        assert n == 1 and out["rule_runs"] >= 2 ** 10 and not math.isfinite(out["t_backward"])
    n, out = _backward_passes(solution()["Value"], monkeypatch, True)
    assert n == 2 and "grad" in out and "rule_runs" not in out
    n, out = _backward_passes(solution()["Value"], monkeypatch, False)
    assert n == 3 and "grad" in out and "prefix" not in out


def test_rules_run_a_few_times_each_are_not_a_walk_of_every_path():
    # twice per node (a backward pass that runs the whole order twice) is linear time
    ns = solution()
    Value = ns["Value"]
    backward = Value.backward

    def twice(self):
        backward(self)
        backward(self)

    Value.backward = twice
    assert a5.ValueScale().rule_runs(Value) is None
    Value.backward = backward
    assert a5.ValueScale().rule_runs(Value) is None
    assert a5.ValueScale().rule_runs(solution("no_visited_set")["Value"]) >= 2 ** 10


def test_the_hidden_scale_check_adds_a_chain_and_no_second_ladder():
    check = a5.ValueScale()
    visible = check.cases(np.random.default_rng(0))
    hidden = check.hidden_cases(np.random.default_rng(1))
    assert [c["kind"] for c in visible] == ["chain", "ladder"]
    assert [c["kind"] for c in hidden] == ["chain"]
    assert hidden[0]["prog"] != visible[0]["prog"]


def test_a_class_without_reflected_forms_is_told_which_method_is_missing():
    ns = solution(patches=[("value_class", "def __rsub__(self, other):",
                            "def _rsub(self, other):")])
    msg = failure(checks.value_forward, ns["Value"])
    assert "- a` raised TypeError" in msg
    assert "a number on the left calls __rsub__" in msg


def test_micrograd_counts_as_an_autodiff_library():
    assert checks._forbidden("micrograd.engine") and checks._forbidden("course.autodiff")


def test_the_trusted_output_of_a_program_is_kept_and_equals_a_fresh_run():
    from autograder.checks.autodiff_cases import chain_program
    from autograder.checks.autodiff_judge import trusted_output
    from autograder.checks.autodiff_programs import build
    from course.autodiff import Value

    x, prog = chain_program(np.random.default_rng(3), n=200)
    data, grads = trusted_output(x, prog)
    nodes = build(Value, x, prog)
    nodes[-1].backward()
    assert data == nodes[-1].data and grads.tolist() == [n.grad for n in nodes[:len(x)]]
    assert trusted_output(x.copy(), list(prog))[1] is grads and not grads.flags.writeable
    assert trusted_output(x + 1.0, prog)[0] != data
