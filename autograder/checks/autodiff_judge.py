"""Judging a program evaluated by a student's Value against the trusted engine.

The trusted engine is ``course.autodiff.Value``, imported only here, in the grader's
process. A message names the operation whose value or rule is wrong ("the gradient of
`a / b` with respect to b"), or the structural mistake of the backward pass: a
contribution overwritten instead of added, an order that is not reversed, a rule run once
per path.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.autodiff_programs import (
    W_UP,
    build,
    central_differences,
    evaluate,
    expr,
    operands,
    renumber,
    time_limited,
)
from autograder.checks.comparison import NUM_TOL, rel_error
from autograder.checks.diagnosis import close as _close
from autograder.checks.framework import Check
from autograder.checks.guard import StudentError, call

__all__ = ["ProgramCheck", "PROGRAM_LIMIT", "engine", "trusted", "trusted_output",
           "simulate_backward", "close",
           "near", "fmt", "rule_hints", "judge_program"]

TOL = 1e-7


def engine():
    from course import autodiff

    return autodiff


def trusted(x, prog, local=True):
    """Evaluate a program with course.autodiff.Value (the judge only)."""
    return evaluate(engine().Value, x, prog, local=local)


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


def near(a, b, tol=1e-6):
    return bool(np.isfinite(a) and abs(a - b) <= tol * (abs(b) + 1e-3))


def fmt(v):
    return f"{v:.6g}"


def _binary_alts(sym, a, b, slot):
    """Known wrong local derivatives of a sym b with respect to operand slot."""
    if sym == "-" and slot == 1:
        return [("subtraction written as addition: the gradient of a - b with respect to b "
                 "is -out.grad", 1.0)]
    if sym == "*":
        own = a if slot == 0 else b
        return [("the rule uses the operand's own value; d(a * b)/da is b and d(a * b)/db "
                 "is a", own),
                ("the rule of a product passes the gradient through unchanged, as for a sum",
                 1.0)]
    if sym == "/" and slot == 1:
        return [("wrong sign: d(a / b)/db = -a / b**2", a / b ** 2),
                ("the factor a is missing: d(a / b)/db = -a / b**2", -1 / b ** 2),
                ("b is not squared: d(a / b)/db = -a / b**2", -a / b),
                ("the rule of the numerator was used for the denominator", 1 / b)]
    if sym == "/":
        return [("d(a / b)/da is 1 / b, not b", b),
                ("the rule of the denominator was used for the numerator: d(a / b)/da is "
                 "1 / b", -a / b ** 2)]
    return []


def _reflected_alts(sym, case, a):
    """Known wrong local derivatives of the reflected forms c - a and c / a."""
    if sym == "-":
        return [("the reflected form c - a has gradient -1 with respect to a: "
                 "__rsub__(self, other) computes other - self", 1.0)]
    if sym == "/":
        return [("the reflected form c / a has gradient -c / a**2 with respect to a", 1 / case),
                ("wrong sign: d(c / a)/da = -c / a**2", case / a ** 2)]
    return []


def _power_alts(p, a):
    return [("the exponent is not lowered: d(a**p)/da = p * a**(p - 1)", p * a ** p),
            ("the factor p is missing: d(a**p)/da = p * a**(p - 1)", a ** (p - 1)),
            ("d(a**p)/da = p * a**(p - 1), not (p - 1) * a**(p - 1)", (p - 1) * a ** (p - 1))]


def _unary_alts(name, a, out):
    """Known wrong local derivatives of a.name() whose output is out."""
    if name == "exp":
        return [("written with the input x instead of the output: d exp(x)/dx = exp(x)", a),
                ("d exp(x)/dx = exp(x), not 1", 1.0)]
    if name == "log":
        return [("d log(x)/dx = 1 / x, not x", a),
                ("written with the output log(x): d log(x)/dx = 1 / x", 1 / out),
                ("d log(x)/dx = 1 / x, not log(x)", out)]
    if name == "tanh":
        return [("tanh's rule written with the input x instead of the output t = tanh(x): "
                 "the derivative is 1 - t**2", 1 - a * a),
                ("the derivative of tanh is 1 - t**2, not 1 - t", 1 - out),
                ("the derivative of tanh is 1 - t**2, not t", out)]
    if name == "sigmoid":
        sig = 1 / (1 + math.exp(-out))
        return [("the sigmoid's rule misses the factor (1 - s): s * (1 - s)", out),
                ("the sigmoid's rule written with the input x instead of the output s: "
                 "s * (1 - s)", a * (1 - a)),
                ("the sigmoid was applied twice: s * (1 - s) needs the output s, not "
                 "sigmoid(s)", sig * (1 - sig)),
                ("the derivative of the sigmoid is s * (1 - s), not 1 - s", 1 - out)]
    kink = [("at the kink a = 0 the derivative of relu is taken as 0 in this course: use "
             "a > 0, not a >= 0", 1.0)] if a == 0 else []
    return kink + [("the rule returns relu(a) itself, not its derivative", out)]


def rule_hints(ins, vals, out, slot, got):
    """Return the likely mistake when a local gradient equals a known wrong rule."""
    kind = ins[0]
    if kind == "bin":
        alts = _binary_alts(ins[1], vals[0], vals[1], slot)
    elif kind == "lc":
        alts = _reflected_alts(ins[1], ins[2], vals[0])
    elif kind == "pow":
        alts = _power_alts(ins[2], vals[0])
    elif kind == "un":
        alts = _unary_alts(ins[1], vals[0], out)
    else:
        alts = []
    return next((label for label, v in alts if near(got, v)), "")


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


def _rule_message(ins, vals, out, s, got, want):
    """The message for a wrong local gradient (upstream gradient 1)."""
    who = "ab"[s]
    where = ", ".join(f"{'ab'[j]} = {fmt(v)}" for j, v in enumerate(vals))
    msg = (f"the gradient of `{expr(ins)}` with respect to {who} is {fmt(got)} at {where}, "
           f"expected {fmt(want)}")
    hint = rule_hints(ins, vals, out, s, got)
    if not hint and near(got, 0.0) and want != 0:
        hint = f"the rule does not pass any gradient to {who}"
    return msg + (f"; likely: {hint}" if hint else "")


def _upstream_message(ins, vals, s, got, want, alone):
    """The message for a wrong local gradient under the upstream gradient W_UP."""
    msg = (f"the gradient of `{expr(ins)}` with respect to {'ab'[s]} is {fmt(got)} when the "
           f"gradient arriving at its output is {W_UP}, expected {fmt(want)}")
    late = simulate_backward(vals, [renumber(ins), ("rc", "*", len(vals), W_UP)],
                             "not_reversed")
    if near(got, alone):
        msg += ("; likely: the rule ignores the gradient of the output: multiply the local "
                "derivative by out.grad")
    elif near(got, float(late[s])):
        msg += ("; likely: the backward pass visits a node before all the nodes that use it: "
                "walk the topological order reversed (the output first)")
    return msg


def _local_message(t, prog, n_leaves, outputs):
    """Name the first operation whose rule, applied alone, is wrong, or return ''."""
    for k, ins in enumerate(prog):
        vals = [float(t["data"][j]) for j in operands(ins)]
        out = float(t["data"][n_leaves + k])
        for s in range(len(vals)):
            got, want = float(outputs["local"][k, s]), float(t["local"][k, s])
            if not near(got, want):
                return _rule_message(ins, vals, out, s, got, want)
        for s in range(len(vals)):
            got, want = float(outputs["local_w"][k, s]), float(t["local_w"][k, s])
            if not near(got, want):
                return _upstream_message(ins, vals, s, got, want, float(outputs["local"][k, s]))
    return ""


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


def judge_program(x, prog, outputs, numeric=True):
    """Judge a student's evaluation of a program; return (ok, message)."""
    t = trusted(x, prog)
    n_leaves = len(x)
    nodes = n_leaves + len(prog)
    for key in ("data", "grad"):
        if outputs[key].shape != (nodes,):
            return False, f"{key} has shape {outputs[key].shape}, expected ({nodes},)"
    msg = _forward_message(t, prog, n_leaves, outputs) or _local_message(t, prog, n_leaves, outputs)
    if msg:
        return False, msg
    g = outputs["grad"]
    if not near(float(g[-1]), 1.0):
        return False, (f"after backward() the output's grad is {fmt(g[-1])}: backward() "
                       "must start by setting the output's grad to 1")
    if not close(g, t["grad"]):
        return False, _structural_message(x, prog, outputs, t)
    msg = _numeric_message(g, outputs, n_leaves) if numeric else ""
    return not msg, msg


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
    (the base of a5's checks of Value on graphs)."""

    functions = ("Value",)

    def run(self, fns, case):
        V = fns[0]

        def go():
            o = evaluate(V, case["x"], case["prog"], check=True)
            o["num"] = central_differences(V, case["x"], case["prog"])
            return o

        res, _ = time_limited(PROGRAM_LIMIT, lambda: call(go, what="Value"))
        if res is None:
            raise StudentError(f"building and backpropagating a graph of "
                               f"{len(case['x']) + len(case['prog'])} nodes took more than "
                               f"{PROGRAM_LIMIT:g} s")
        return res

    def judge(self, case, outputs):
        return judge_program(case["x"], case["prog"], outputs, numeric=case.get("numeric", True))
