"""Checks of assignment 5: a scalar reverse-mode autodiff engine and an MLP built on it.

Its known-bug variants, graded by the audit, are in ``autograder/bugs/a5_autodiff.py``.

The student's ``Value`` class is exercised through *programs*: a few leaves followed by a
list of instructions, each applying one operation to earlier nodes (or to a number).
``run`` builds a program with the student's class, calls ``backward()`` on its last node
and records, for every node, its ``data`` and its ``grad``; for every operation, the
gradients of the same operation applied alone to fresh leaves (its *local rule*, with an
upstream gradient of 1 and of ``W_UP``); and central differences of the student's own
forward pass with respect to every leaf. ``judge`` builds the same program with the
trusted engine, ``course.autodiff.Value`` (the kernel never imports it), and names what
is wrong: the value or the rule of one operation, or the structural mistake of the
backward pass (contributions overwritten instead of added, an order that is not
reversed, a node processed once per path).
"""

from __future__ import annotations

import math
import operator
import signal
import threading
import time

import numpy as np

from autograder.checks.comparison import NUM_TOL, rel_error
from autograder.checks.diagnosis import close as _close
from autograder.checks.framework import Check, register
from autograder.checks.guard import StudentError, call

__all__ = ["ValueForward", "ValueRules", "ValueGraphs", "ValueScale", "MlpForward",
           "TrainStep", "TrainXor", "simulate_backward"]

W_UP = 1.75  # the upstream gradient of the second local-rule measurement
H_NUM = 1e-6  # central-difference step (float64)
TOL = 1e-7
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
UNARY = ("exp", "log", "tanh", "sigmoid", "relu")
REFLECTED = {"+": "__radd__", "-": "__rsub__", "*": "__rmul__", "/": "__rtruediv__"}


class _TimeUp(BaseException):
    """Raised by the alarm of :func:`_limited` (a BaseException: ``except Exception``
    in a student's code does not swallow it)."""


def _limited(seconds, fn, *args):
    """Run fn(*args); return (result, elapsed seconds), or (None, inf) past the limit."""
    use_alarm = threading.current_thread() is threading.main_thread() and \
        hasattr(signal, "setitimer")
    if use_alarm:
        def on_alarm(signum, frame):
            raise _TimeUp()

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.perf_counter()
    try:
        result = fn(*args)
        return result, time.perf_counter() - start
    except _TimeUp:
        return None, math.inf
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------- programs

# An instruction is a tuple:
#   ("bin", sym, i, j)  nodes[i] sym nodes[j]          sym in + - * /
#   ("rc", sym, i, c)   nodes[i] sym c                 a Value and a number
#   ("lc", sym, c, i)   c sym nodes[i]                 the reflected forms: 2 * a, 1 - a
#   ("pow", i, p)       nodes[i] ** p                  p a number
#   ("neg", i)          -nodes[i]
#   ("un", name, i)     nodes[i].name()                exp, log, tanh, sigmoid, relu


def operands(ins) -> list[int]:
    """Return the node indices an instruction reads, one per operand slot."""
    kind = ins[0]
    if kind == "bin":
        return [ins[2], ins[3]]
    if kind == "rc":
        return [ins[2]]
    if kind == "lc":
        return [ins[3]]
    if kind in ("pow", "neg"):
        return [ins[1]]
    return [ins[2]]


def expr(ins) -> str:
    """Return the operation of an instruction as code, with operands a and b."""
    kind = ins[0]
    if kind == "bin":
        return f"a {ins[1]} b"
    if kind == "rc":
        return f"a {ins[1]} {ins[3]:g}"
    if kind == "lc":
        return f"{ins[2]:g} {ins[1]} a"
    if kind == "pow":
        return f"a ** {ins[2]:g}"
    if kind == "neg":
        return "-a"
    return f"a.{ins[1]}()"


def apply(ins, args):
    """Apply an instruction to its operand objects (Values of any engine)."""
    kind = ins[0]
    if kind == "bin":
        return BINARY[ins[1]](args[0], args[1])
    if kind == "rc":
        return BINARY[ins[1]](args[0], ins[3])
    if kind == "lc":
        return BINARY[ins[1]](ins[2], args[0])
    if kind == "pow":
        return args[0] ** ins[2]
    if kind == "neg":
        return -args[0]
    return getattr(args[0], ins[1])()


def _renumber(ins):
    """Return the instruction reading its operands from nodes 0 (and 1)."""
    kind = ins[0]
    if kind == "bin":
        return ("bin", ins[1], 0, 1)
    if kind == "rc":
        return ("rc", ins[1], 0, ins[3])
    if kind == "lc":
        return ("lc", ins[1], ins[2], 0)
    if kind == "pow":
        return ("pow", 0, ins[2])
    if kind == "neg":
        return ("neg", 0)
    return ("un", ins[1], 0)


def _float(x, what):
    try:
        v = float(x)
    except Exception:
        raise StudentError(f"{what} is a {type(x).__name__}, expected a number") from None
    return v


def _student_apply(V, ins, args):
    """Apply an instruction with the student's class, naming the operation on errors."""
    try:
        out = apply(ins, args)
    except StudentError:
        raise
    except RecursionError:
        raise
    except Exception as e:
        hint = ""
        if ins[0] == "lc" and isinstance(e, TypeError):
            hint = f" (a number on the left calls {REFLECTED[ins[1]]})"
        raise StudentError(f"`{expr(ins)}` raised {type(e).__name__}: {e}{hint}") from None
    if not isinstance(out, V):
        got = type(out).__name__
        raise StudentError(f"`{expr(ins)}` returned a {got}, expected a {V.__name__}"
                           + (" (another class of that name)" if got == V.__name__ else ""))
    return out


def build(V, x, prog, check=False):
    """Return the nodes (leaves, then one per instruction) of a program built with V."""
    nodes = [V(float(v)) for v in x]
    for ins in prog:
        args = [nodes[i] for i in operands(ins)]
        nodes.append(_student_apply(V, ins, args) if check else apply(ins, args))
    return nodes


def _backward(root, what="backward()"):
    try:
        root.backward()
    except StudentError:
        raise
    except RecursionError:
        raise StudentError(
            f"{what} raised RecursionError: a recursive topological sort needs one stack "
            "frame per node on a path, more than Python allows; build the order with an "
            "explicit stack (a list) instead of recursion") from None
    except Exception as e:
        raise StudentError(f"{what} raised {type(e).__name__}: {e}") from None


def evaluate(V, x, prog, check=False, local=True):
    """Build a program with V, backpropagate from its last node; return a dict of arrays.

    ``data`` and ``grad`` hold every node's; ``local`` (one row per instruction, one
    column per operand) the gradients of the operation applied alone to fresh leaves,
    ``local_w`` the same under an upstream gradient W_UP.
    """
    nodes = build(V, x, prog, check)
    calls = _count_rules(nodes) if check else []
    _backward(nodes[-1])
    out = {"data": np.array([_float(n.data, "data") for n in nodes]),
           "grad": np.array([_float(n.grad, "grad") for n in nodes]),
           "calls": np.array(calls[:MAX_CALLS], dtype=np.int64)}
    if local:
        loc = np.zeros((len(prog), 2))
        loc_w = np.zeros((len(prog), 2))
        for k, ins in enumerate(prog):
            vals = [nodes[i].data for i in operands(ins)]
            for table, up in ((loc, 1.0), (loc_w, W_UP)):
                fresh = [V(float(v)) for v in vals]
                res = _student_apply(V, ins, fresh) if check else apply(ins, fresh)
                root = res if up == 1.0 else res * up
                _backward(root, f"backward() from `{expr(ins)}`")
                table[k, :len(fresh)] = [_float(f.grad, "grad") for f in fresh]
        out["local"], out["local_w"] = loc, loc_w
    return out


MAX_CALLS = 100_000


def _count_rules(nodes):
    """Wrap each node's ``_backward`` (the skeleton's name for its rule) so that the list
    returned records the index of every node whose rule runs, in the order they run."""
    calls = []

    def wrap(k, rule):
        def counted():
            calls.append(k)
            return rule()

        return counted

    for k, n in enumerate(nodes):
        rule = getattr(n, "_backward", None)
        if callable(rule):
            try:
                n._backward = wrap(k, rule)
            except Exception:  # a class with slots or properties: nothing recorded
                return []
    return calls


def forward_value(V, x, prog):
    """Return the data of the last node of a program built with V."""
    return _float(build(V, x, prog, check=True)[-1].data, "data")


def central_differences(V, x, prog, h=H_NUM):
    """Return d(last node)/d(leaf) for every leaf by central differences of V's forward."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros(len(x))
    for i in range(len(x)):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (forward_value(V, xp, prog) - forward_value(V, xm, prog)) / (2 * h)
    return g


# ------------------------------------------------------------ the trusted engine

def _engine():
    from course import autodiff

    return autodiff


def trusted(x, prog, local=True):
    """Evaluate a program with course.autodiff.Value (the judge only)."""
    return evaluate(_engine().Value, x, prog, local=local)


def simulate_backward(x, prog, mistake):
    """Return every node's grad under a known structural mistake.

    ``"not_reversed"``: the rules run in topological order (inputs first);
    ``"overwrite"``: each rule sets its inputs' grad (``=``) instead of adding to it.
    """
    ad = _engine()
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


def _near(a, b, tol=1e-6):
    return bool(np.isfinite(a) and abs(a - b) <= tol * (abs(b) + 1e-3))


def _fmt(v):
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


def _reflected_alts(sym, c, a):
    """Known wrong local derivatives of the reflected forms c - a and c / a."""
    if sym == "-":
        return [("the reflected form c - a has gradient -1 with respect to a: "
                 "__rsub__(self, other) computes other - self", 1.0)]
    if sym == "/":
        return [("the reflected form c / a has gradient -c / a**2 with respect to a", 1 / c),
                ("wrong sign: d(c / a)/da = -c / a**2", c / a ** 2)]
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
    return next((label for label, v in alts if _near(got, v)), "")


def _forward_message(t, prog, n_leaves, o):
    """Name the first operation whose value is wrong, or return ''."""
    for k, ins in enumerate(prog):
        i = n_leaves + k
        if not _near(float(o["data"][i]), t["data"][i], 1e-9):
            return (f"the value of `{expr(ins)}` (node {i}) is {_fmt(o['data'][i])}, expected "
                    f"{_fmt(t['data'][i])} with "
                    + ", ".join(f"{'ab'[s]} = {_fmt(t['data'][j])}"
                                for s, j in enumerate(operands(ins))))
    return ""


def _rule_message(ins, vals, out, s, got, want):
    """The message for a wrong local gradient (upstream gradient 1)."""
    who = "ab"[s]
    where = ", ".join(f"{'ab'[j]} = {_fmt(v)}" for j, v in enumerate(vals))
    msg = (f"the gradient of `{expr(ins)}` with respect to {who} is {_fmt(got)} at {where}, "
           f"expected {_fmt(want)}")
    hint = rule_hints(ins, vals, out, s, got)
    if not hint and _near(got, 0.0) and want != 0:
        hint = f"the rule does not pass any gradient to {who}"
    return msg + (f"; likely: {hint}" if hint else "")


def _upstream_message(ins, vals, s, got, want, alone):
    """The message for a wrong local gradient under the upstream gradient W_UP."""
    msg = (f"the gradient of `{expr(ins)}` with respect to {'ab'[s]} is {_fmt(got)} when the "
           f"gradient arriving at its output is {W_UP}, expected {_fmt(want)}")
    late = simulate_backward(vals, [_renumber(ins), ("rc", "*", len(vals), W_UP)],
                             "not_reversed")
    if _near(got, alone):
        msg += ("; likely: the rule ignores the gradient of the output: multiply the local "
                "derivative by out.grad")
    elif _near(got, float(late[s])):
        msg += ("; likely: the backward pass visits a node before all the nodes that use it: "
                "walk the topological order reversed (the output first)")
    return msg


def _local_message(t, prog, n_leaves, o):
    """Name the first operation whose rule, applied alone, is wrong, or return ''."""
    for k, ins in enumerate(prog):
        vals = [float(t["data"][j]) for j in operands(ins)]
        out = float(t["data"][n_leaves + k])
        for s in range(len(vals)):
            got, want = float(o["local"][k, s]), float(t["local"][k, s])
            if not _near(got, want):
                return _rule_message(ins, vals, out, s, got, want)
        for s in range(len(vals)):
            got, want = float(o["local_w"][k, s]), float(t["local_w"][k, s])
            if not _near(got, want):
                return _upstream_message(ins, vals, s, got, want, float(o["local"][k, s]))
    return ""


def _numeric_message(g, o, n_leaves):
    """Compare the leaves' grads with central differences of the student's forward."""
    num = o.get("num")
    got = g[:n_leaves]
    if num is None or num.shape != got.shape:
        return ""
    e = rel_error(got, num)
    if e > NUM_TOL and float(np.max(np.abs(got - num), initial=0.0)) > 1e-6:
        return (f"the leaves' gradients do not match central differences of your own "
                f"forward pass (relative error {e:.2e})")
    return ""


def judge_program(x, prog, o, numeric=True):
    """Judge a student's evaluation of a program; return (ok, message)."""
    t = trusted(x, prog)
    n_leaves = len(x)
    nodes = n_leaves + len(prog)
    for key in ("data", "grad"):
        if o[key].shape != (nodes,):
            return False, f"{key} has shape {o[key].shape}, expected ({nodes},)"
    msg = _forward_message(t, prog, n_leaves, o) or _local_message(t, prog, n_leaves, o)
    if msg:
        return False, msg
    g = o["grad"]
    if not _near(float(g[-1]), 1.0):
        return False, (f"after backward() the output's grad is {_fmt(g[-1])}: backward() "
                       "must start by setting the output's grad to 1")
    if not close(g, t["grad"]):
        return False, _structural_message(x, prog, o, t)
    msg = _numeric_message(g, o, n_leaves) if numeric else ""
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


def _structural_message(x, prog, o, t):
    """Name the structural mistake of a backward pass whose local rules are all right."""
    g = o["grad"]
    n_leaves = len(x)
    users = {}
    for k, ins in enumerate(prog):
        for s, j in enumerate(operands(ins)):
            users.setdefault(j, []).append((k, s))
    calls = [int(k) for k in o.get("calls", np.zeros(0)).reshape(-1)]
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
        parts = [float(o["local"][k, s]) * float(t["grad"][n_leaves + k]) for k, s in uses]
        got = float(g[i])
        if len(uses) > 1 and any(_near(got, p) for p in parts):
            return (f"the grad of {_node_name(i, prog, n_leaves)}, used {len(uses)} times, is "
                    f"{_fmt(got)}, expected {_fmt(t['grad'][i])}, the sum of its "
                    f"{len(uses)} contributions {', '.join(_fmt(p) for p in parts)}; likely: "
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
        return (f"the grad of {_node_name(first, prog, n_leaves)} is {_fmt(g[first])}, "
                f"expected {_fmt(t['grad'][first])}, although every node that uses it has "
                "the right grad and every rule is right on its own; likely: the backward "
                "pass visits a node before all the nodes that use it (the order is not a "
                "reversed topological order) or a node's rule runs more than once")
    return "the gradients of the graph are wrong"


# ------------------------------------------------------------------- case drawing

def _value_of(ins, vals):
    """Plain float value of an instruction (None when outside its safe domain)."""
    try:
        kind = ins[0]
        a = vals[0]
        if kind == "bin" and ins[1] == "/" and abs(vals[1]) < 0.3:
            return None
        if kind == "lc" and ins[1] == "/" and abs(a) < 0.3:
            return None
        if kind == "pow" and (abs(a) < 0.3 or (ins[2] != int(ins[2]) and a <= 0.1)):
            return None
        if kind == "un" and ins[1] == "log" and a < 0.1:
            return None
        if kind == "un" and ins[1] == "exp" and a > 3:
            return None
        if kind == "un" and ins[1] == "relu" and abs(a) < 1e-2:
            return None
        v = {"bin": lambda: BINARY[ins[1]](a, vals[1]),
             "rc": lambda: BINARY[ins[1]](a, ins[3]),
             "lc": lambda: BINARY[ins[1]](ins[2], a),
             "pow": lambda: a ** ins[2], "neg": lambda: -a,
             "un": lambda: {"exp": math.exp, "log": math.log, "tanh": math.tanh,
                            "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
                            "relu": lambda z: max(z, 0.0)}[ins[1]](a)}[kind]()
    except (OverflowError, ZeroDivisionError, ValueError):
        return None
    return v if isinstance(v, float) and math.isfinite(v) and abs(v) <= 50 else None


def _random_ins(rng, pick):
    """Draw one instruction whose operands come from pick()."""
    r = rng.random()
    const = float(rng.choice([-2.0, -1.5, -0.5, 0.5, 1.5, 2.0, 3.0]))
    if r < 0.45:
        return ("bin", str(rng.choice(list(BINARY))), pick(), pick())
    if r < 0.55:
        return ("rc", str(rng.choice(list(BINARY))), pick(), const)
    if r < 0.65:
        return ("lc", str(rng.choice(list(BINARY))), const, pick())
    if r < 0.72:
        return ("pow", pick(), float(rng.choice([2, 3, -1, 0.5, -2, 1.5])))
    if r < 0.76:
        return ("neg", pick())
    return ("un", str(rng.choice(UNARY)), pick())


def random_program(rng, n_leaves, n_ops, shape):
    """Draw leaves and a program.

    shape ``"tree"``: every node is used once (no sharing); ``"shared"``: operands are
    drawn from all earlier nodes, recent ones first (reuse and diamonds); ``"chain"``:
    every instruction uses the previous node, sometimes with an earlier one too.
    """
    x = rng.uniform(0.4, 2.0, n_leaves) * rng.choice([-1.0, 1.0], n_leaves)
    vals, prog, unused = list(x), [], list(range(n_leaves))
    tries = 0
    while len(prog) < n_ops and tries < 50 * n_ops:
        tries += 1
        n = len(vals)

        def pick():
            if shape == "tree":
                return int(rng.choice(unused)) if unused else n - 1
            if shape == "chain" and rng.random() < 0.7:
                return n - 1
            return int(n - 1 - min(int(rng.geometric(0.35)) - 1, n - 1))

        ins = _random_ins(rng, pick)
        ops = operands(ins)
        if shape == "tree" and len(set(ops)) < len(ops):
            continue
        if shape == "tree" and len(unused) < len(ops) and n_leaves + len(prog) > 0:
            continue
        v = _value_of(ins, [vals[j] for j in ops])
        if v is None:
            continue
        prog.append(ins)
        vals.append(v)
        if shape == "tree":
            for j in ops:
                unused.remove(j)
            unused.append(n)
    # the output adds up the nodes nothing uses yet, so that every node reaches it
    used = {j for ins in prog for j in operands(ins)}
    loose = [i for i in range(len(vals) - 1) if i not in used]
    for j in loose:
        prog.append(("bin", "+", len(vals) - 1, j))
        vals.append(vals[-1] + vals[j])
    return x, prog


MAX_PATHS = 5000


def path_count(n_leaves, prog):
    """Return the number of paths from the last node of a program to any node."""
    paths = np.zeros(n_leaves + len(prog))
    paths[-1] = 1
    for k in range(len(prog) - 1, -1, -1):
        for j in operands(prog[k]):
            paths[j] += paths[n_leaves + k]
    return float(paths.sum())


def _fixed_graphs():
    """Small graphs with sharing that every student meets (visible and hidden)."""
    return [
        ([1.5], [("bin", "+", 0, 0)], "a + a"),
        ([-0.7], [("bin", "*", 0, 0)], "a * a"),
        ([2.0, -1.2], [("bin", "*", 0, 1), ("bin", "+", 2, 0)], "x * y + x"),
        ([0.8], [("un", "tanh", 0), ("un", "exp", 0), ("bin", "*", 1, 2)],
         "a diamond tanh(x) * exp(x)"),
        ([0.6, 1.3], [("bin", "*", 0, 1), ("bin", "+", 2, 0), ("bin", "*", 3, 2),
                      ("un", "sigmoid", 4), ("bin", "-", 5, 3)], "nested reuse"),
    ]


# --------------------------------------------------------------------- the checks

class _ProgramCheck(Check):
    """Programs evaluated with the student's Value and judged against the trusted engine."""

    functions = ("Value",)

    def run(self, fns, c):
        V = fns[0]

        def go():
            o = evaluate(V, c["x"], c["prog"], check=True)
            o["num"] = central_differences(V, c["x"], c["prog"])
            return o

        res, _ = _limited(c.get("limit", 5.0), lambda: call(go, what="Value"))
        if res is None:
            raise StudentError(f"building and backpropagating a graph of "
                               f"{len(c['x']) + len(c['prog'])} nodes took more than "
                               f"{c.get('limit', 10.0):g} s")
        return res

    def judge(self, c, o):
        return judge_program(c["x"], c["prog"], o, numeric=c.get("numeric", True))


def _unit_programs(rng):
    """One program per operation: the operation alone, then times a weight."""
    out = []

    def leaf(lo=0.3, hi=2.0):
        return float(rng.uniform(lo, hi) * rng.choice([-1, 1]))

    specs = [("bin", s) for s in BINARY] + [("rc", s) for s in BINARY] + \
            [("lc", s) for s in BINARY] + [("pow", p) for p in (2, 3, -1, 0.5)] + \
            [("neg",)] + [("un", u) for u in UNARY]
    for spec in specs:
        for _ in range(20):
            a, b = leaf(), leaf()
            c = float(rng.choice([-2.0, 0.5, 1.5, 3.0]))
            if spec[0] == "bin":
                ins, x = ("bin", spec[1], 0, 1), [a, b]
            elif spec[0] == "rc":
                ins, x = ("rc", spec[1], 0, c), [a]
            elif spec[0] == "lc":
                ins, x = ("lc", spec[1], c, 0), [a]
            elif spec[0] == "pow":
                ins, x = ("pow", 0, float(spec[1])), [abs(a) if spec[1] == 0.5 else a]
            elif spec[0] == "neg":
                ins, x = ("neg", 0), [a]
            else:
                ins, x = ("un", spec[1], 0), [abs(a) if spec[1] == "log" else a]
            if _value_of(ins, [x[j] for j in operands(ins)]) is not None:
                break
        w = float(rng.choice([-1.5, 0.5, 2.5]))
        prog = [ins, ("rc", "*", len(x), w)]
        out.append(dict(x=np.array(x), prog=prog, info=dict(operation=expr(ins))))
    # the kink of relu: the derivative at exactly 0 is 0
    out.append(dict(x=np.array([0.0]), prog=[("un", "relu", 0)], numeric=False,
                    info=dict(operation="a.relu() at a = 0")))
    return out


@register
class ValueForward(Check):
    """The data of every operation of Value, the reflected forms included."""

    name = "value_forward"
    functions = ("Value",)

    def cases(self, rng):
        return [dict(x=c["x"], prog=c["prog"][:1], info=c["info"])
                for c in _unit_programs(rng)]

    def run(self, fns, c):
        V = fns[0]

        def go():
            nodes = build(V, c["x"], c["prog"], check=True)
            return {"data": np.array([_float(n.data, "data") for n in nodes])}

        return call(go, what="Value")

    def judge(self, c, o):
        t = trusted(c["x"], c["prog"], local=False)
        ins = c["prog"][0]
        got, want = float(o["data"][-1]), float(t["data"][-1])
        if _near(got, want, 1e-9):
            return True, ""
        msg = (f"`{expr(ins)}` gives {_fmt(got)} at "
               + ", ".join(f"{'ab'[s]} = {_fmt(c['x'][j])}"
                           for s, j in enumerate(operands(ins)))
               + f", expected {_fmt(want)}")
        if ins[0] == "lc" and ins[1] in "-/":
            a, cst = float(c["x"][0]), ins[2]
            swapped = a - cst if ins[1] == "-" else a / cst
            if _near(got, swapped):
                msg += (f"; likely: the operands are swapped: in `{expr(ins)}` the number is "
                        f"on the left, so {REFLECTED[ins[1]]}(self, other) computes "
                        f"other {ins[1]} self")
        return False, msg


@register
class ValueRules(_ProgramCheck):
    """The gradient rule of every operation alone, at points drawn from the seed."""

    name = "value_rules"

    def cases(self, rng):
        return _unit_programs(rng)


@register
class ValueGraphs(_ProgramCheck):
    """backward() on graphs with shared nodes, diamonds and deep chains."""

    name = "value_graphs"

    def cases(self, rng):
        out = [dict(x=np.array(x), prog=p, info=dict(graph=label))
               for x, p, label in _fixed_graphs()]
        for shape, n_leaves, n_ops in (("tree", 4, 8), ("shared", 3, 10), ("chain", 2, 30),
                                       ("tree", 5, 14), ("shared", 4, 25), ("shared", 3, 40),
                                       ("chain", 3, 60)):
            for _ in range(20):  # at most MAX_PATHS paths: a rule run per path stays quick
                x, prog = random_program(rng, n_leaves, n_ops, shape)
                if path_count(len(x), prog) <= MAX_PATHS:
                    break
            out.append(dict(x=x, prog=prog, info=dict(graph=shape, nodes=len(x) + len(prog))))
        return out


CHAIN = 10_000
LADDER = 300
PROBE = 400


def chain_program(rng, n=CHAIN):
    """A chain of n operations: multiply by a constant near 1, add a constant, alternately."""
    prog = []
    for k in range(n // 2):
        prog.append(("rc", "*", 2 * k, float(np.exp(rng.uniform(-0.01, 0.01)))))
        prog.append(("rc", "+", 2 * k + 1, float(rng.uniform(-0.01, 0.01))))
    return np.array([float(rng.uniform(0.5, 1.5))]), prog


def ladder_program(levels=LADDER):
    """Two nodes per level, each using both nodes of the level below: 2**levels paths."""
    prog, a, b = [], 0, 1
    for _ in range(levels):
        n = 2 + len(prog)
        prog += [("bin", "+", a, b), ("rc", "*", n, 0.5), ("bin", "*", a, b),
                 ("un", "tanh", n + 2)]
        a, b = n + 1, n + 3
    prog.append(("bin", "+", a, b))
    return np.array([0.3, 0.8]), prog


@register
class ValueScale(Check):
    """A chain of 10 000 nodes and a graph with 2**300 paths, each within a time limit."""

    name = "value_scale"
    functions = ("Value",)
    LIMIT = 5.0  # seconds for one backward pass
    RATIO = 30.0  # backward may take this many times the forward pass (plus 1 s)

    def cases(self, rng):
        x, prog = chain_program(rng)
        lx, lprog = ladder_program()
        return [dict(x=x, prog=prog, kind="chain", info=dict(graph=f"a chain of {CHAIN} "
                                                                    "operations")),
                dict(x=lx, prog=lprog, kind="ladder",
                     info=dict(graph=f"{LADDER} levels of two nodes, each used twice"))]

    def run(self, fns, c):
        V = fns[0]

        def go(x, prog):
            nodes, t_fwd = _limited(self.LIMIT, build, V, x, prog, True)
            if nodes is None:
                raise StudentError(f"building the graph took more than {self.LIMIT:g} s")
            _, t_bwd = _limited(self.LIMIT, _backward, nodes[-1])
            o = {"t_forward": t_fwd, "t_backward": t_bwd}
            if math.isfinite(t_bwd):
                o["grad"] = np.array([_float(n.grad, "grad") for n in nodes[:len(x)]])
                o["data"] = _float(nodes[-1].data, "data")
            return o

        # The guard of call() slows every Python call some forty times: a short prefix of
        # the graph runs under it (borrowed code is refused there), the timed graph
        # without it, so that the times measure the student's algorithm.
        call(go, c["x"], c["prog"][:PROBE], what="Value")
        try:
            return go(c["x"], c["prog"])
        except RecursionError:
            raise StudentError("backward() raised RecursionError") from None

    def judge(self, c, o):
        n = len(c["x"]) + len(c["prog"])
        edges = sum(len(operands(i)) for i in c["prog"])
        what = (f"a chain of {len(c['prog'])} operations" if c["kind"] == "chain" else
                f"a graph of {n} nodes and {edges} edges where every node is used twice "
                f"({LADDER} levels, 2**{LADDER} paths from the output to the leaves)")
        t_b, t_f = float(o["t_backward"]), float(o["t_forward"])
        if not math.isfinite(t_b):
            hint = ("likely: the topological sort has no visited set, so it walks every "
                    "path to a shared node (their number doubles at every level) instead of "
                    "every edge once" if c["kind"] == "ladder" else
                    "the work must grow like the number of edges")
            return False, f"backward() did not finish within {self.LIMIT:g} s on {what}; " \
                          f"{hint}"
        if t_b > self.RATIO * t_f + 1.0:
            return False, (f"backward() on {what} took {t_b:.2f} s, {t_b / t_f:.0f} times "
                           f"the forward pass ({t_f:.3f} s): it must take time proportional "
                           "to the number of edges; likely: a node is visited once per path "
                           "(no visited set) or looked up in a list")
        ad = _engine()
        nodes = build(ad.Value, c["x"], c["prog"])
        nodes[-1].backward()
        want = np.array([v.grad for v in nodes[:len(c["x"])]])
        if not _near(float(o["data"]), nodes[-1].data, 1e-9):
            return False, f"the output of {what} is {_fmt(o['data'])}, expected " \
                          f"{_fmt(nodes[-1].data)}"
        if not close(o["grad"], want, 1e-6):
            msg = f"the leaves' grads on {what} are {o['grad']}, expected {want}"
            if not np.any(o["grad"]):
                msg += ("; likely: no gradient reaches the leaves: the rules run inputs "
                        "first (walk the topological order reversed) or the output's grad "
                        "is not set to 1")
            return False, msg
        return True, f"backward {t_b:.3f} s, forward {t_f:.3f} s"


# ------------------------------------------------------------ neurons, layers, MLP

def n_params(nin, nouts):
    """Number of parameters of an MLP: every neuron has one weight per input and a bias."""
    sizes = [nin] + list(nouts)
    return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))


def mlp_scores(flat, nin, nouts, X, V=float, last_tanh=False, bias_first=False):
    """Outputs of the MLP with parameters listed layer by layer, neuron by neuron,
    weights then bias; V is float (numbers) or a Value class (a graph)."""
    flat = list(flat)
    sizes = [nin] + list(nouts)
    layers, k = [], 0
    for i in range(len(nouts)):
        neurons = []
        for _ in range(sizes[i + 1]):
            chunk = flat[k:k + sizes[i] + 1]
            k += sizes[i] + 1
            w, b = (chunk[1:], chunk[0]) if bias_first else (chunk[:-1], chunk[-1])
            neurons.append((w, b))
        layers.append(neurons)
    tanh = math.tanh if V is float else (lambda v: v.tanh())
    outs = []
    for x in X:
        h = [V(float(v)) if V is not float else float(v) for v in x]
        for i, neurons in enumerate(layers):
            z = []
            for w, b in neurons:
                act = b
                for wi, hi in zip(w, h):
                    act = act + wi * hi
                z.append(tanh(act) if (i < len(layers) - 1 or last_tanh) else act)
            h = z
        outs.append(h)
    return outs


def _set_parameters(model, flat, nin, nouts):
    ps = list(model.parameters())
    want = n_params(nin, nouts)
    if len(ps) != want:
        raise StudentError(f"MLP({nin}, {list(nouts)}).parameters() returns {len(ps)} values, "
                           f"expected {want}: every neuron has one weight per input and a "
                           "bias")
    for p, v in zip(ps, flat):
        p.data = float(v)
        p.grad = 0.0
    return ps


def _outputs(y, C):
    ys = y if isinstance(y, (list, tuple)) else [y]
    if len(ys) != C:
        raise StudentError(f"the MLP returns {len(ys)} outputs, expected {C}")
    return ys


def _mlp_cases(rng):
    out = []
    for nin, nouts in ((2, [3, 1]), (3, [4, 4, 1]), (int(rng.integers(2, 5)), [3, 2])):
        P = n_params(nin, nouts)
        out.append(dict(nin=nin, nouts=nouts, flat=rng.uniform(-1, 1, P),
                        X=rng.uniform(-1.5, 1.5, (3, nin)), r=rng.uniform(-1, 1, (3, nouts[-1])),
                        info=dict(nin=nin, nouts=nouts)))
    return out


@register
class MlpForward(Check):
    """MLP(nin, nouts): parameters() in order, tanh hidden layers, a linear output layer."""

    name = "mlp_forward"
    functions = ("MLP",)

    def cases(self, rng):
        return _mlp_cases(rng)

    def run(self, fns, c):
        def go():
            model = fns[0](c["nin"], list(c["nouts"]))
            ps = _set_parameters(model, c["flat"], c["nin"], c["nouts"])
            outs, total = [], None
            for x, r in zip(c["X"], c["r"]):
                ys = _outputs(model([float(v) for v in x]), c["nouts"][-1])
                outs.append([_float(v.data, "an output's data") for v in ys])
                for v, ri in zip(ys, r):
                    total = v * float(ri) if total is None else total + v * float(ri)
            _backward(total, "backward() through the MLP")
            return {"out": np.array(outs), "grads": np.array([_float(p.grad, "grad")
                                                              for p in ps])}

        return call(go, what="MLP")

    def judge(self, c, o):
        nin, nouts, flat, X = c["nin"], c["nouts"], c["flat"], c["X"]
        want = np.array(mlp_scores(flat, nin, nouts, X))
        if not close(o["out"], want, 1e-9):
            msg = f"the outputs of MLP({nin}, {nouts}) are wrong"
            for label, kw in (("the output layer applies tanh too: it must be linear "
                               "(the last layer's neurons have nonlin=False)",
                               dict(last_tanh=True)),
                              ("parameters() lists each neuron's bias before its weights: "
                               "the order is w then b", dict(bias_first=True))):
                if close(o["out"], np.array(mlp_scores(flat, nin, nouts, X, **kw)), 1e-9):
                    return False, msg + "; likely: " + label
            return False, msg + (" (parameters() must list them layer by layer, neuron by "
                                 "neuron, each neuron's weights then its bias)")
        V = _engine().Value
        params = [V(float(v)) for v in flat]
        outs = mlp_scores(params, nin, nouts, X, V=V)
        total = sum((v * float(r) for ys, rs in zip(outs, c["r"]) for v, r in zip(ys, rs)),
                    V(0.0))
        total.backward()
        g = np.array([p.grad for p in params])
        if not close(o["grads"], g, 1e-7):
            return False, ("the outputs are right but the parameters' gradients after "
                           "backward() are wrong: see the checks of Value first")
        return True, ""


def hinge_trajectory(flat, nin, nouts, X, y, lr, steps, mistake=None):
    """Losses and parameters of gradient descent on the mean hinge loss (trusted engine)."""
    V = _engine().Value
    flat = np.array(flat, dtype=np.float64)
    acc = np.zeros_like(flat)
    losses, params = [], []
    for _ in range(steps):
        ps = [V(float(v)) for v in flat]
        outs = mlp_scores(ps, nin, nouts, X, V=V)
        terms = [(1 - float(t) * o[0]).relu() for o, t in zip(outs, y)]
        loss = sum(terms[1:], terms[0])
        if mistake != "sum":
            loss = loss * (1.0 / len(terms))
        loss.backward()
        g = np.array([p.grad for p in ps])
        acc = acc + g if mistake == "no_zero_grad" else g
        flat = flat + lr * acc if mistake == "ascent" else flat - lr * acc
        losses.append(loss.data)
        params.append(flat.copy())
    return np.array(losses), np.array(params)


@register
class TrainStep(Check):
    """train_step(model, X, y, lr): reset, mean hinge loss, backward, update, three times."""

    name = "train_step"
    functions = ("MLP", "train_step")
    STEPS = 3

    def cases(self, rng):
        out = []
        for nin, nouts, N in ((2, [4, 1], 6), (3, [3, 3, 1], int(rng.integers(5, 10)))):
            P = n_params(nin, nouts)
            X = rng.uniform(-1.5, 1.5, (N, nin))
            y = rng.choice([-1.0, 1.0], N)
            out.append(dict(nin=nin, nouts=nouts, flat=rng.uniform(-1, 1, P), X=X, y=y,
                            lr=float(rng.choice([0.05, 0.1, 0.2])),
                            info=dict(nin=nin, nouts=nouts, N=N)))
        return out

    def run(self, fns, c):
        M, step = fns

        def go():
            model = M(c["nin"], list(c["nouts"]))
            ps = _set_parameters(model, c["flat"], c["nin"], c["nouts"])
            X = [[float(v) for v in x] for x in c["X"]]
            y = [float(t) for t in c["y"]]
            losses, params = [], []
            for _ in range(self.STEPS):
                losses.append(_float(step(model, X, y, c["lr"]), "the loss train_step returns"))
                params.append([_float(p.data, "a parameter") for p in ps])
            return {"losses": np.array(losses), "params": np.array(params)}

        return call(go, what="train_step")

    def judge(self, c, o):
        args = (c["flat"], c["nin"], c["nouts"], c["X"], c["y"], c["lr"], self.STEPS)
        losses, params = hinge_trajectory(*args)
        if o["params"].shape != params.shape:
            return False, f"the parameters have shape {o['params'].shape}, expected " \
                          f"{params.shape}"
        alts = (("no_zero_grad", "the gradients are not reset between two backward calls: "
                                 "call model.zero_grad() before loss.backward()"),
                ("ascent", "the update goes uphill: p.data -= lr * p.grad"),
                ("sum", "the loss is the sum of the hinge terms; it must be their mean"))
        for k in range(self.STEPS):
            if close(o["params"][k], params[k], 1e-7):
                continue
            msg = f"the parameters after step {k + 1} of {self.STEPS} are wrong"
            if k:
                msg += f" (step{'s 1 to' if k > 1 else ''} {k} right)"
            for mistake, label in alts:
                _, wrong = hinge_trajectory(*args, mistake=mistake)
                if close(o["params"], wrong, 1e-7):
                    return False, msg + "; likely: " + label
            if not close(o["losses"][:1], losses[:1], 1e-7):
                msg += (f"; the first loss is {_fmt(o['losses'][0])}, expected "
                        f"{_fmt(losses[0])}: the mean of relu(1 - y_i * model(x_i))")
            elif not k:
                msg += ("; the loss is right, so its gradients or the update p.data -= lr * "
                        "p.grad are wrong (see the checks of Value)")
            return False, msg
        if not close(o["losses"], losses, 1e-7):
            return False, (f"train_step returns the losses {np.round(o['losses'], 6)}, "
                           f"expected {np.round(losses, 6)}: the loss before the update")
        return True, ""


TARGET_ACCURACY = 0.9
XOR_NOISE = 0.15
N_TRAIN, N_VAL = 60, 100


@register
class TrainXor(Check):
    """train_xor(X, y): a model reaching the target accuracy on held-out noisy XOR points."""

    name = "train_xor"
    functions = ("train_xor",)

    def cases(self, rng):
        from course.data import xor

        X, y = xor(n=N_TRAIN + N_VAL, noise=XOR_NOISE, seed=int(rng.integers(2**31)))
        X, y = X - 0.5, 2.0 * y - 1.0  # corners at (+-0.5, +-0.5), labels -1 and +1
        return [dict(X=X[:N_TRAIN], y=y[:N_TRAIN], Xval=X[N_TRAIN:], yval=y[N_TRAIN:],
                     info=dict(N_train=N_TRAIN, N_val=N_VAL))]

    def run(self, fns, c):
        def go():
            model = fns[0](c["X"].copy(), c["y"].copy())
            nin = len(model.layers[0].neurons[0].w)
            nouts = [len(layer.neurons) for layer in model.layers]
            flat = [_float(p.data, "a parameter") for p in model.parameters()]
            return {"nin": nin, "nouts": np.array(nouts), "flat": np.array(flat)}

        return call(go, what="train_xor")

    def judge(self, c, o):
        nin, nouts = int(o["nin"]), [int(v) for v in o["nouts"]]
        if nin != 2 or not nouts or nouts[-1] != 1 or \
                o["flat"].shape != (n_params(nin, nouts),):
            return False, (f"train_xor must return an MLP(2, [..., 1]); got {nin} inputs, "
                           f"layers {nouts} and {o['flat'].size} parameters")
        scores = np.array(mlp_scores(o["flat"], nin, nouts, c["Xval"]))[:, 0]
        acc = float(np.mean(np.where(scores > 0, 1.0, -1.0) == c["yval"]))
        if not np.isfinite(scores).all() or acc < TARGET_ACCURACY:
            return False, (f"validation accuracy {acc:.3f}, below the target "
                           f"{TARGET_ACCURACY}: train longer, or tune the learning rate")
        return True, f"validation accuracy {acc:.3f}"
