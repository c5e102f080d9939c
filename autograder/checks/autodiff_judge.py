"""Judging a program evaluated by a student's Value against the trusted engine.

The trusted engine is ``course.autodiff.Value``, imported only here, in the grader's
process. A message names the operation whose value or rule is wrong ("the gradient of
`a / b` with respect to b"), or the structural mistake of the backward pass: a
contribution overwritten instead of added, an order that is not reversed, a rule run once
per path.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.autodiff_hints import fmt, near, rule_hints, rule_message, upstream_message
from autograder.checks.autodiff_programs import (
    W_UP,
    build,
    central_differences,
    evaluate,
    expr,
    op_key,
    operands,
    time_limited,
)
from autograder.checks.comparison import NUM_TOL, rel_error
from autograder.checks.diagnosis import close as _close
from autograder.checks.framework import Check
from autograder.checks.guard import StudentError, call

__all__ = ["ProgramCheck", "PROGRAM_LIMIT", "engine", "trusted", "trusted_output",
           "simulate_backward", "close", "near", "fmt", "rule_hints", "judge_program",
           "wrong_rules", "rules_named", "judge_rules"]

TOL = 1e-7


def engine():
    from course import autodiff

    return autodiff


def trusted(x, prog, local=True, passes=1):
    """Evaluate a program with course.autodiff.Value (the judge only)."""
    return evaluate(engine().Value, x, prog, local=local, passes=passes)


_OUTPUTS: dict = {}  # (leaves, program) -> (output, leaves' grads), see trusted_output


def trusted_output(x, prog):
    """The output and the leaves' grads of a program under the trusted engine (read-only).

    Kept for the life of the process: a judging worker meets the same long graphs in
    student after student (every visible case, the fixed ladder)."""
    key = (np.asarray(x, dtype=float).tobytes(), tuple(prog))
    if key not in _OUTPUTS:
        if len(_OUTPUTS) >= 16:
            _OUTPUTS.clear()
        nodes = build(engine().Value, x, prog)
        nodes[-1].backward()
        grads = np.array([v.grad for v in nodes[:len(x)]], dtype=float)
        grads.setflags(write=False)
        _OUTPUTS[key] = (float(nodes[-1].data), grads)
    return _OUTPUTS[key]


def simulate_backward(x, prog, mistake):
    """Return every node's grad under a known structural mistake.

    ``"not_reversed"``: the rules run in topological order (inputs first);
    ``"overwrite"``: each rule sets its inputs' grad (``=``) instead of adding to it.
    """
    ad = engine()
    nodes = build(ad.Value, x, prog)
    root = nodes[-1]
    topo = ad._topological(root)
    root.grad = 1.0
    for n in (topo if mistake == "not_reversed" else reversed(topo)):
        if mistake == "overwrite":
            before = [p.grad for p in n._prev]
            n._backward()
            after = [p.grad for p in n._prev]
            for p, b, a in zip(n._prev, before, after):  # a + a, a * a: one slot's share
                p.grad = (a - b) / sum(q is p for q in n._prev)
        else:
            n._backward()
    return np.array([n.grad for n in nodes])


# ----------------------------------------------------------------- comparisons

def close(got, want, tol=TOL):
    """True if got matches want (arrays) to tol, relative to the largest entry of want."""
    return _close(got, want, tol)


def _forward_message(t, prog, n_leaves, outputs):
    """Name the first operation whose value is wrong, or return ''."""
    for k, ins in enumerate(prog):
        i = n_leaves + k
        if not near(float(outputs["data"][i]), t["data"][i], 1e-9):
            return (f"the value of `{expr(ins)}` (node {i}) is {fmt(outputs['data'][i])}, expected "
                    f"{fmt(t['data'][i])} with "
                    + ", ".join(f"{'ab'[s]} = {fmt(t['data'][j])}"
                                for s, j in enumerate(operands(ins))))
    return ""


def _rule_wrong(k, n_operands, outputs, t):
    """Whether instruction k's rule differs from the trusted one (upstream 1 or W_UP)."""
    return any(not near(float(outputs[key][k, s]), float(t[key][k, s]))
               for key in ("local", "local_w") for s in range(n_operands))


def _linear(k, n_operands, outputs):
    """Whether instruction k's rule scales with the upstream gradient, as a rule must."""
    return all(near(float(outputs["local_w"][k, s]), W_UP * float(outputs["local"][k, s]))
               for s in range(n_operands))


def wrong_rules(t, prog, outputs) -> list[str]:
    """The operations (:func:`op_key`) whose rule, applied alone, is wrong."""
    return [op_key(ins) for k, ins in enumerate(prog)
            if _rule_wrong(k, len(operands(ins)), outputs, t)]


def rules_named(keys) -> str:
    """``the gradient rule of `a * b` is wrong``: the first operation named, the others
    (often built on it, as ``-a`` on ``*``) listed after it."""
    keys = list(dict.fromkeys(keys))
    others = ", ".join(f"`{k}`" for k in keys[1:4]) + (", ..." if len(keys) > 4 else "")
    return f"the gradient rule of `{keys[0]}` is wrong" + (
        f" (and those of {others})" if others else "")


def _local_message(t, prog, n_leaves, outputs, known=frozenset()):
    """Name the first operation whose rule, applied alone, is wrong, or return ''.

    A rule of an operation in ``known`` (found wrong by an earlier check) is passed over
    when it still scales with the upstream gradient."""
    for k, ins in enumerate(prog):
        vals = [float(t["data"][j]) for j in operands(ins)]
        if op_key(ins) in known and _linear(k, len(vals), outputs):
            continue
        out = float(t["data"][n_leaves + k])
        for s in range(len(vals)):
            got, want = float(outputs["local"][k, s]), float(t["local"][k, s])
            if not near(got, want):
                return rule_message(ins, vals, out, s, got, want)
        for s in range(len(vals)):
            got, want = float(outputs["local_w"][k, s]), float(t["local_w"][k, s])
            if not near(got, want):
                return upstream_message(ins, vals, s, got, want, float(outputs["local"][k, s]))
    return ""


def _propagate(prog, n_leaves, local, passes=1):
    """Every node's grad by the chain rule with the given local derivatives (one row per
    instruction): what a right backward() gives with those rules."""
    g = np.zeros(n_leaves + len(prog))
    for _ in range(passes):
        g[-1] = 1.0
        for k in range(len(prog) - 1, -1, -1):
            for s, j in enumerate(operands(prog[k])):
                g[j] += float(local[k, s]) * g[n_leaves + k]
    return g


def _numeric_message(g, outputs, n_leaves):
    """Compare the leaves' grads with central differences of the student's forward."""
    num = outputs.get("num")
    got = g[:n_leaves]
    if num is None or num.shape != got.shape:
        return ""
    e = rel_error(got, num)
    if e > NUM_TOL and float(np.max(np.abs(got - num), initial=0.0)) > 1e-6:
        return (f"the leaves' gradients do not match central differences of your own "
                f"forward pass (relative error {e:.2e})")
    return ""


def judge_rules(x, prog, outputs):
    """Judge the forward values and the local rules of a program's operations, each
    measured alone (not the gradients backward() gives the whole program: the graphs'
    check judges those); return (ok, message)."""
    t = trusted(x, prog)
    if outputs["data"].shape != (len(x) + len(prog),):
        return False, f"data has shape {outputs['data'].shape}, expected " \
                      f"({len(x) + len(prog)},)"
    msg = _forward_message(t, prog, len(x), outputs) or \
        _local_message(t, prog, len(x), outputs)
    return not msg, msg


def judge_program(x, prog, outputs, numeric=True, known=frozenset(), passes=1):
    """Judge a student's evaluation of a program; return (ok, message).

    ``known``: operations whose rules an earlier check found wrong. When those are the
    only wrong rules, backward() is judged with the student's own rules (the gradients a
    right backward pass gives with them), so that the graph measures the pass itself.
    ``passes``: how many times backward() ran from the output (gradients accumulate)."""
    t = trusted(x, prog, passes=passes)
    n_leaves = len(x)
    nodes = n_leaves + len(prog)
    for key in ("data", "grad"):
        if outputs[key].shape != (nodes,):
            return False, f"{key} has shape {outputs[key].shape}, expected ({nodes},)"
    msg = _forward_message(t, prog, n_leaves, outputs) or \
        _local_message(t, prog, n_leaves, outputs, known)
    if msg:
        return False, msg
    g = outputs["grad"]
    if not near(float(g[-1]), 1.0):
        return False, (f"after backward() the output's grad is {fmt(g[-1])}: backward() "
                       "must start by setting the output's grad to 1")
    own = wrong_rules(t, prog, outputs)
    if own:  # all in known: judge the pass with the student's rules
        return _judged_with_own_rules(prog, n_leaves, outputs, own, passes)
    if passes > 1 and not close(g, t["grad"]):
        return False, _accumulation_message(x, prog, g, passes)
    if not close(g, t["grad"]):
        return False, _structural_message(x, prog, outputs, t)
    msg = _numeric_message(g, outputs, n_leaves) if numeric else ""
    return not msg, msg


def _judged_with_own_rules(prog, n_leaves, outputs, own, passes):
    want = _propagate(prog, n_leaves, outputs["local"], passes)
    note = f"{rules_named(own)} (see its check), so the grads were judged with your rules"
    if close(outputs["grad"], want, 1e-6):
        return True, f"backward() is right; {note}"
    calls = [int(k) for k in outputs.get("calls", np.zeros(0)).reshape(-1)]
    users = {}
    for k, ins in enumerate(prog):
        for j in operands(ins):
            users.setdefault(j, []).append(n_leaves + k)
    order = _order_message(calls, prog, n_leaves, users) if calls else ""
    return False, (f"the gradients of the graph are wrong even with your own rules; {note}"
                   + (f"; {order}" if order else "; likely: a node used more than once "
                      "gets only one of its contributions (`=` where `+=` is needed) or "
                      "the rules run in the wrong order"))


def _accumulation_message(x, prog, g, passes):
    """Name what a backward() does wrong when it runs twice without a reset."""
    once = trusted(x, prog, passes=1)["grad"]
    n_leaves = len(x)
    msg = (f"after {passes} calls of backward() from the output, without resetting the "
           f"grads, the leaves' grads are {np.round(g[:n_leaves], 6)}, expected "
           f"{np.round(passes * once[:n_leaves], 6)}")
    if close(g[:n_leaves], once[:n_leaves], 1e-6):
        return msg + ("; likely: backward() resets the grads before its pass: gradients "
                      "accumulate, as in PyTorch (a second backward() adds to the grads of "
                      "the first); resetting them is zero_grad()'s job")
    if close(g[:n_leaves], (2 * passes - 1) * once[:n_leaves], 1e-6):  # leaves below the output
        return msg + ("; likely: backward() adds 1 to the output's grad instead of setting "
                      "it to 1")
    return msg


def _node_name(i, prog, n_leaves):
    return f"node {i} (" + ("a leaf" if i < n_leaves else f"`{expr(prog[i - n_leaves])}`") \
        + ")"


def _order_message(calls, prog, n_leaves, users):
    """Name a rule that ran several times, never, or before a node that uses its output."""
    counts = np.bincount(calls, minlength=n_leaves + len(prog))
    for i in range(n_leaves, n_leaves + len(prog)):
        if counts[i] > 1:
            return (f"the rule of {_node_name(i, prog, n_leaves)} ran {counts[i]} times; "
                    "likely: the topological order holds a shared node several times (a "
                    "node is reached once per path): keep a visited set")
    first = {}
    for pos, k in enumerate(calls):
        first.setdefault(k, pos)
    for i in range(n_leaves + len(prog) - 1, n_leaves - 1, -1):
        if i not in first:
            return (f"the rule of {_node_name(i, prog, n_leaves)} never ran: the "
                    "topological order must hold every node of the graph")
        for u in users.get(i, []):
            if u in first and first[u] > first[i]:
                return (f"the rule of {_node_name(i, prog, n_leaves)} ran before the rule of "
                        f"{_node_name(u, prog, n_leaves)}, which uses it; likely: the backward "
                        "pass visits a node before all the nodes that use it: walk the "
                        "topological order reversed (the output first)")
    return ""


def _structural_message(x, prog, outputs, t):
    """Name the structural mistake of a backward pass whose local rules are all right."""
    g = outputs["grad"]
    n_leaves = len(x)
    users = {}
    for k, ins in enumerate(prog):
        for s, j in enumerate(operands(ins)):
            users.setdefault(j, []).append((k, s))
    calls = [int(k) for k in outputs.get("calls", np.zeros(0)).reshape(-1)]
    if calls:
        used_by = {j: [n_leaves + k for k, _ in uses] for j, uses in users.items()}
        msg = _order_message(calls, prog, n_leaves, used_by)
        if msg:
            return "the gradients of the graph are wrong; " + msg
    wrong = [i for i in range(len(g)) if not close(g[i:i + 1], t["grad"][i:i + 1], 1e-6)]
    first = None  # the wrong node nearest to the output whose users are all right
    for i in sorted(wrong, reverse=True):
        uses = users.get(i, [])
        if uses and not any(n_leaves + k in wrong for k, _ in uses):
            first = i
            break
    if first is not None:
        i, uses = first, users[first]
        parts = [float(outputs["local"][k, s]) * float(t["grad"][n_leaves + k]) for k, s in uses]
        got = float(g[i])
        if len(uses) > 1 and any(near(got, p) for p in parts):
            return (f"the grad of {_node_name(i, prog, n_leaves)}, used {len(uses)} times, is "
                    f"{fmt(got)}, expected {fmt(t['grad'][i])}, the sum of its "
                    f"{len(uses)} contributions {', '.join(fmt(p) for p in parts)}; likely: "
                    "a node used more than once gets only one of its contributions: `=` "
                    "where `+=` is needed")
    sims = (("not_reversed", "the backward pass visits a node before all the nodes that use "
                             "it: the topological order puts inputs first, so iterate over "
                             "it reversed (the output first)"),
            ("overwrite", "a node used more than once gets only one of its contributions: "
                          "`=` where `+=` is needed (grad must accumulate)"))
    for mistake, label in sims:
        if close(g, simulate_backward(x, prog, mistake), 1e-6):
            return f"the gradients of the graph are wrong; likely: {label}"
    if first is not None:
        return (f"the grad of {_node_name(first, prog, n_leaves)} is {fmt(g[first])}, "
                f"expected {fmt(t['grad'][first])}, although every node that uses it has "
                "the right grad and every rule is right on its own; likely: the backward "
                "pass visits a node before all the nodes that use it (the order is not a "
                "reversed topological order) or a node's rule runs more than once")
    return "the gradients of the graph are wrong"


PROGRAM_LIMIT = 5.0  # seconds for building, backpropagating and differencing one program


class ProgramCheck(Check):
    """Programs evaluated with the student's Value and judged against the trusted engine
    (the base of a5's checks of Value on graphs). A case may set ``passes`` (backward()
    run that many times from the output) and ``numeric`` (False: no central differences).
    """

    functions = ("Value",)

    def run(self, fns, case):
        V = fns[0]

        def go():
            o = evaluate(V, case["x"], case["prog"], check=True, passes=case.get("passes", 1))
            o["num"] = central_differences(V, case["x"], case["prog"])
            return o

        res, _ = time_limited(PROGRAM_LIMIT, lambda: call(go, what="Value"))
        if res is None:
            raise StudentError(f"building and backpropagating a graph of "
                               f"{len(case['x']) + len(case['prog'])} nodes took more than "
                               f"{PROGRAM_LIMIT:g} s")
        return res

    def judge_case(self, case, outputs, earlier):
        rules = earlier.get("value_rules")
        return judge_program(case["x"], case["prog"], outputs,
                             numeric=case.get("numeric", True) and case.get("passes", 1) == 1,
                             known=rules.wrong if rules else frozenset(),
                             passes=case.get("passes", 1))

    def judge(self, case, outputs):
        return self.judge_case(case, outputs, {})
