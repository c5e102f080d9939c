"""Drawing the programs of the checks of a5_autodiff: single operations, small shared
graphs, random trees, graphs with reuse and chains, a long chain and a ladder of shared
nodes."""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.autodiff_programs import BINARY, UNARY, expr, operands

__all__ = ["unit_programs", "fixed_graphs", "random_program", "path_count", "MAX_PATHS",
           "chain_program", "ladder_program", "CHAIN", "LADDER"]


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


_CONSTS = (-2.0, -1.5, -0.5, 0.5, 1.5, 2.0, 3.0)
_POWERS = (2.0, 3.0, -1.0, 0.5, -2.0, 1.5)
_BINARY = tuple(BINARY)


def _pick(rng, seq):
    """``seq[i]`` for a uniform i: the draw ``rng.choice(seq)`` makes, five times faster."""
    return seq[int(rng.integers(len(seq)))]


def _random_ins(rng, pick):
    """Draw one instruction whose operands come from pick()."""
    r = rng.random()
    const = _pick(rng, _CONSTS)
    if r < 0.45:
        return ("bin", _pick(rng, _BINARY), pick(), pick())
    if r < 0.55:
        return ("rc", _pick(rng, _BINARY), pick(), const)
    if r < 0.65:
        return ("lc", _pick(rng, _BINARY), const, pick())
    if r < 0.72:
        return ("pow", pick(), _pick(rng, _POWERS))
    if r < 0.76:
        return ("neg", pick())
    return ("un", _pick(rng, UNARY), pick())


def random_program(rng, n_leaves, n_ops, shape, max_paths=None):
    """Draw leaves and a program.

    shape ``"tree"``: every node is used once (no sharing); ``"shared"``: operands are
    drawn from all earlier nodes, recent ones first (reuse and diamonds); ``"chain"``:
    every instruction uses the previous node, sometimes with an earlier one too.
    With ``max_paths``, an instruction that would give its node more than that many paths
    down to the nodes below it is drawn again (a deep chain's paths multiply quickly).
    """
    x = rng.uniform(0.4, 2.0, n_leaves) * rng.choice([-1.0, 1.0], n_leaves)
    vals, prog, unused = list(x), [], list(range(n_leaves))
    paths = [1] * n_leaves  # paths from each node to the nodes below it, itself included
    tries = 0
    while len(prog) < n_ops and tries < 50 * n_ops:
        tries += 1
        n = len(vals)

        def pick():
            if shape == "tree":
                return int(_pick(rng, unused)) if unused else n - 1
            if shape == "chain" and rng.random() < 0.7:
                return n - 1
            return int(n - 1 - min(int(rng.geometric(0.35)) - 1, n - 1))

        ins = _random_ins(rng, pick)
        ops = operands(ins)
        if shape == "tree" and len(set(ops)) < len(ops):
            continue
        if shape == "tree" and len(unused) < len(ops) and n_leaves + len(prog) > 0:
            continue
        below = 1 + sum(paths[j] for j in ops)
        if max_paths is not None and below > max_paths:
            continue
        v = _value_of(ins, [vals[j] for j in ops])
        if v is None:
            continue
        prog.append(ins)
        vals.append(v)
        paths.append(below)
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


def fixed_graphs():
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




def unit_programs(rng):
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


CHAIN = 10_000
LADDER = 300


def chain_program(rng, n=CHAIN):
    """A chain of n operations: multiply by a constant near 1, add a constant, alternately."""
    u = rng.uniform(-0.01, 0.01, 2 * (n // 2))  # the draws of one call each, in order
    factors = np.exp(u[0::2]).tolist()
    terms = u[1::2].tolist()
    prog = []
    for k in range(n // 2):
        prog.append(("rc", "*", 2 * k, factors[k]))
        prog.append(("rc", "+", 2 * k + 1, terms[k]))
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


