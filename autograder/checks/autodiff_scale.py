"""a5's scale check, run and judged: a chain of 10 000 operations and a ladder of shared
values, each backward pass within a time limit (:class:`.a5_autodiff.ValueScale`)."""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.autodiff_cases import LADDER, ladder_program
from autograder.checks.autodiff_judge import close, fmt, near, trusted_output
from autograder.checks.autodiff_programs import (
    build,
    number,
    operands,
    run_backward,
    time_limited,
)
from autograder.checks.guard import StudentError

__all__ = ["timed_graph", "rule_runs", "judge_scale"]


def timed_graph(V, x, prog, limit):
    """Build a program's graph with the student's class and run backward(), each timed
    and cut off at ``limit`` seconds; return the times, and the leaves' grads and the
    output's data when backward() finished."""
    nodes, t_fwd = time_limited(limit, build, V, x, prog, True)
    if nodes is None:
        raise StudentError(f"building the graph took more than {limit:g} s")
    _, t_bwd = time_limited(limit, run_backward, nodes[-1])
    o = {"t_forward": t_fwd, "t_backward": t_bwd}
    if math.isfinite(t_bwd):
        o["grad"] = np.array([number(n.grad, "grad") for n in nodes[:len(x)]])
        o["data"] = number(nodes[-1].data, "data")
    return o


def rule_runs(V, levels, limit):
    """How many times backward() runs the nodes' rules on a ladder of ``levels`` levels, if
    that many means it walks every path (2**levels of them) instead of every edge once;
    else None (and None when the rules cannot be counted)."""
    x, prog = ladder_program(levels)
    try:
        nodes = build(V, x, prog, True)
        runs = [0]
        for node in nodes:
            rule = node._backward

            def counted(rule=rule):
                runs[0] += 1
                return rule()

            node._backward = counted
        time_limited(limit, run_backward, nodes[-1])
    except Exception:  # noqa: BLE001 - the whole ladder's run reports what is wrong
        return None
    return runs[0] if runs[0] >= 2 ** (levels - 2) else None


def judge_scale(case, outputs, limit, ratio, small_levels):
    """The verdict on one graph of the scale check: in time, then the right values."""
    n = len(case["x"]) + len(case["prog"])
    edges = sum(len(operands(i)) for i in case["prog"])
    what = (f"a chain of {len(case['prog'])} operations" if case["kind"] == "chain" else
            f"a graph of {n} nodes and {edges} edges where every node is used twice "
            f"({LADDER} levels, 2**{LADDER} paths from the output to the leaves)")
    t_b, t_f = float(outputs["t_backward"]), float(outputs["t_forward"])
    if "rule_runs" in outputs:
        small = 2 + 4 * small_levels + 1
        return False, (f"backward() ran the nodes' rules {int(outputs['rule_runs'])} "
                       f"times on the same graph of {small_levels} levels ({small} "
                       "nodes, each rule should run once): it walks every path to a "
                       "shared node (their number doubles at every level) instead of "
                       f"every edge once, so on {what} it would not finish within "
                       f"{limit:g} s; likely: the topological sort has no visited set")
    if "prefix" in outputs:
        what = f"the first {int(outputs['prefix'])} operations of {what}"
    if not math.isfinite(t_b):
        hint = ("likely: the topological sort has no visited set, so it walks every "
                "path to a shared node (their number doubles at every level) instead of "
                "every edge once" if case["kind"] == "ladder" else
                "the work must grow like the number of edges")
        return False, f"backward() did not finish within {limit:g} s on {what}; {hint}"
    if t_b > ratio * t_f + 1.0:
        return False, (f"backward() on {what} took {t_b:.2f} s, {t_b / t_f:.0f} times "
                       f"the forward pass ({t_f:.3f} s): it must take time proportional "
                       "to the number of edges; likely: a node is visited once per path "
                       "(no visited set) or looked up in a list")
    data, want = trusted_output(case["x"], case["prog"])
    if not near(float(outputs["data"]), data, 1e-9):
        return False, f"the output of {what} is {fmt(outputs['data'])}, expected {fmt(data)}"
    if not close(outputs["grad"], want, 1e-6):
        msg = f"the leaves' grads on {what} are {outputs['grad']}, expected {want}"
        if not np.any(outputs["grad"]):
            msg += ("; likely: no gradient reaches the leaves: the rules run inputs "
                    "first (walk the topological order reversed) or the output's grad "
                    "is not set to 1")
        return False, msg
    return True, f"backward {t_b:.3f} s, forward {t_f:.3f} s"
