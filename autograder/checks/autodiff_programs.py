"""Expression programs for the checks of a5_autodiff: building them with any Value class.

A *program* is a few leaves followed by a list of instructions, each applying one
operation to earlier nodes (or to a number). The checks build a program with the
student's class (in the kernel) and with the trusted engine (in the judge), through the
same functions, so that both see exactly the same graph.

An instruction is a tuple:

* ``("bin", sym, i, j)``: ``nodes[i] sym nodes[j]``, sym in ``+ - * /``;
* ``("rc", sym, i, c)``: ``nodes[i] sym c``, a Value and a number;
* ``("lc", sym, c, i)``: ``c sym nodes[i]``, the reflected forms (``2 * a``, ``1 - a``);
* ``("pow", i, p)``: ``nodes[i] ** p``, p a number;
* ``("neg", i)``: ``-nodes[i]``;
* ``("un", name, i)``: ``nodes[i].name()``, name in exp, log, tanh, sigmoid, relu.
"""

from __future__ import annotations

import math
import operator
import signal
import threading
import time

import numpy as np

from autograder.checks.guard import StudentError

__all__ = ["BINARY", "UNARY", "REFLECTED", "W_UP", "operands", "expr", "op_key", "apply",
           "renumber",
           "number", "build", "run_backward", "evaluate", "forward_value",
           "central_differences", "time_limited"]

W_UP = 1.75  # the upstream gradient of the second local-rule measurement
H_NUM = 1e-6  # central-difference step (float64)
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
UNARY = ("exp", "log", "tanh", "sigmoid", "relu")
REFLECTED = {"+": "__radd__", "-": "__rsub__", "*": "__rmul__", "/": "__rtruediv__"}


class _TimeUp(BaseException):
    """Raised by the alarm of :func:`time_limited` (a BaseException: ``except Exception``
    in a student's code does not swallow it)."""


def time_limited(seconds, fn, *args):
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


def op_key(ins) -> str:
    """The operation of an instruction whatever its operands: ``a * b``, ``a * c``,
    ``c * a``, ``a ** p``, ``-a``, ``a.tanh()`` (how the checks name an operation's rule)."""
    kind = ins[0]
    if kind == "bin":
        return f"a {ins[1]} b"
    if kind == "rc":
        return f"a {ins[1]} c"
    if kind == "lc":
        return f"c {ins[1]} a"
    if kind == "pow":
        return "a ** p"
    return expr(ins)


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


def renumber(ins):
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


def number(x, what):
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
        elif isinstance(e, OverflowError):
            hint = (" (the exponential of a large number overflows a float: for a < 0 "
                    "write the sigmoid as exp(a) / (1 + exp(a)))" if ins[:2] == ("un", "sigmoid")
                    else " (a number too large for a float)")
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


def run_backward(root, what="backward()"):
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


def evaluate(V, x, prog, check=False, local=True, passes=1):
    """Build a program with V, backpropagate from its last node; return a dict of arrays.

    ``data`` and ``grad`` hold every node's; ``local`` (one row per instruction, one
    column per operand) the gradients of the operation applied alone to fresh leaves under
    an upstream gradient of 1 set on its output, ``local_w`` the same under W_UP
    (:func:`upstream_rule`): no other operation of the class, and not its ``backward()``,
    stands between a rule and what it receives.
    """
    nodes = build(V, x, prog, check)
    calls = _count_rules(nodes) if check else []
    for _ in range(passes):  # gradients accumulate from one backward() to the next
        run_backward(nodes[-1])
    out = {"data": np.array([number(n.data, "data") for n in nodes]),
           "grad": np.array([number(n.grad, "grad") for n in nodes]),
           "calls": np.array(calls[:MAX_CALLS], dtype=np.int64)}
    if local:
        loc = np.zeros((len(prog), 2))
        loc_w = np.zeros((len(prog), 2))
        for k, ins in enumerate(prog):
            vals = [nodes[i].data for i in operands(ins)]
            for table, up in ((loc, 1.0), (loc_w, W_UP)):
                fresh = [V(float(v)) for v in vals]
                res = _student_apply(V, ins, fresh) if check else apply(ins, fresh)
                upstream_rule(res, up, f"the rule of `{expr(ins)}`")
                table[k, :len(fresh)] = [number(f.grad, "grad") for f in fresh]
        out["local"], out["local_w"] = loc, loc_w
    return out


MAX_CALLS = 100_000


def _sub_graph(root) -> list | None:
    """The nodes below root, each after the nodes in its ``_prev`` (a depth-first search
    with an explicit stack), or None if a node has no ``_prev`` or no callable
    ``_backward`` (the skeleton's names)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        prev = getattr(node, "_prev", None)
        if prev is None or not callable(getattr(node, "_backward", None)):
            return None
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in prev)
    return order


def upstream_rule(out, up, what):
    """Pass the upstream gradient ``up`` back from ``out``: set ``out.grad`` and run the
    ``_backward`` of every node below it in reversed topological order, the checks' own
    order. A class without the skeleton's ``_prev`` and ``_backward`` is measured through
    its own ``backward()`` (on ``out * up`` when up is not 1) instead."""
    order = _sub_graph(out)
    if order is None:
        run_backward(out if up == 1.0 else out * up, f"backward() from {what}")
        return
    try:
        out.grad = up
        for node in reversed(order):
            node._backward()
    except Exception as e:
        raise StudentError(f"{what} raised {type(e).__name__}: {e}") from None


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
    return number(build(V, x, prog, check=True)[-1].data, "data")


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


