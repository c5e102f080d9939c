"""What a wrong gradient rule of a5's Value most likely is: the known wrong local
derivatives of each operation, and the message naming the operation and its mistake.
"""

from __future__ import annotations

import math

from autograder.checks.autodiff_programs import REFLECTED, W_UP, expr, operands

__all__ = ["near", "fmt", "rule_hints", "rule_message", "upstream_message", "forward_message"]


def near(a, b, tol=1e-6):
    """Whether the number a is finite and within tol of b (relative, floored at 1e-3)."""
    return bool(math.isfinite(a) and abs(a - b) <= tol * (abs(b) + 1e-3))


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


def rule_message(ins, vals, out, s, got, want):
    """The message for a wrong local gradient (upstream gradient 1)."""
    who = "ab"[s]
    where = ", ".join(f"{'ab'[j]} = {fmt(v)}" for j, v in enumerate(vals))
    msg = (f"the gradient of `{expr(ins)}` with respect to {who} is {fmt(got)} at {where}, "
           f"expected {fmt(want)}")
    hint = rule_hints(ins, vals, out, s, got)
    if not hint and near(got, 0.0) and want != 0:
        hint = f"the rule does not pass any gradient to {who}"
    return msg + (f"; likely: {hint}" if hint else "")


def upstream_message(ins, vals, s, got, want, alone):
    """The message for a wrong local gradient under the upstream gradient W_UP."""
    msg = (f"the gradient of `{expr(ins)}` with respect to {'ab'[s]} is {fmt(got)} when the "
           f"gradient arriving at its output (out.grad) is {W_UP}, expected {fmt(want)}")
    if near(got, alone):
        msg += ("; likely: the rule ignores the gradient of the output: multiply the local "
                "derivative by out.grad")
    return msg


def forward_message(ins, x, got, want):
    """The message for a wrong value of one operation applied to the leaves x."""
    msg = (f"`{expr(ins)}` gives {fmt(got)} at "
           + ", ".join(f"{'ab'[s]} = {fmt(x[j])}" for s, j in enumerate(operands(ins)))
           + f", expected {fmt(want)}")
    if ins[0] == "lc" and ins[1] in "-/":
        a, cst = float(x[0]), ins[2]
        swapped = a - cst if ins[1] == "-" else a / cst
        if near(got, swapped):
            msg += (f"; likely: the operands are swapped: in `{expr(ins)}` the number is "
                    f"on the left, so {REFLECTED[ins[1]]}(self, other) computes "
                    f"other {ins[1]} self")
    return msg
