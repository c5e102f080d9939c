"""Checks of assignment 5: a scalar reverse-mode autodiff engine and an MLP built on it.

Its known-bug variants, graded by the audit, are in ``autograder/bugs/a5_autodiff.py``.

The student's ``Value`` class is exercised through programs
(:mod:`autograder.checks.autodiff_programs`, drawn by
:mod:`autograder.checks.autodiff_cases`). ``run`` builds a program with the student's class,
calls ``backward()`` on its last node and records, for every node, its ``data`` and its
``grad``; for every operation, the gradients of the same operation applied alone to fresh
leaves (its *local rule*, with an upstream gradient of 1 and of ``W_UP``); the order in
which the nodes' rules ran; and central differences of the student's own forward pass
with respect to every leaf. ``judge`` (:mod:`autograder.checks.autodiff_judge`) builds
the same program with the trusted engine, ``course.autodiff.Value`` (the kernel never
imports it), and names what is wrong.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.autodiff_cases import (
    CHAIN,
    LADDER,
    MAX_PATHS,
    chain_program,
    fixed_graphs,
    ladder_program,
    path_count,
    random_program,
    unit_programs,
)
from autograder.checks.autodiff_hints import forward_message
from autograder.checks.autodiff_judge import (
    ProgramCheck,
    close,
    engine,
    judge_rules,
    near,
    rules_named,
    trusted,
    wrong_rules,
)
from autograder.checks.autodiff_mlp import (
    N_TRAIN,
    N_VAL,
    TARGET_ACCURACY,
    XOR_NOISE,
    judge_train_step,
    judge_train_step_apart,
    judge_train_xor,
    mlp_cases,
    mlp_scores,
    outputs_of,
    run_train_step,
    set_parameters,
    train_step_cases,
    xor_cases,
)
from autograder.checks.autodiff_programs import (
    build,
    number,
    op_key,
    run_backward,
)
from autograder.checks.autodiff_scale import judge_scale, rule_runs, timed_graph
from autograder.checks.framework import Check, Finding, register
from autograder.checks.guard import StudentError, call, watching

__all__ = ["ValueForward", "ValueRules", "ValueGraphs", "ValueScale", "MlpForward",
           "TrainStep", "TrainXor", "TARGET_ACCURACY", "XOR_NOISE", "N_TRAIN", "N_VAL"]

PROBE = 400  # operations of the long graphs run under the guard of call()


@register
class ValueForward(Check):
    """The data of every operation of Value, the reflected forms included."""

    name = "value_forward"
    functions = ("Value",)

    def cases(self, rng):
        far = float(rng.uniform(800.0, 1000.0))  # exp(far) overflows a float
        return [dict(x=c["x"], prog=c["prog"][:1], info=c["info"])
                for c in unit_programs(rng)] + \
            [dict(x=np.array([sign * far]), prog=[("un", "sigmoid", 0)],
                  info=dict(operation=f"a.sigmoid() at a = {sign * far:.1f}"))
             for sign in (-1.0, 1.0)]

    def run(self, fns, case):
        V = fns[0]

        def go():
            nodes = build(V, case["x"], case["prog"], check=True)
            return {"data": np.array([number(n.data, "data") for n in nodes])}

        return call(go, what="Value")

    def judge(self, case, outputs):
        t = trusted(case["x"], case["prog"], local=False)
        ins = case["prog"][0]
        got, want = float(outputs["data"][-1]), float(t["data"][-1])
        if near(got, want, 1e-9):
            return True, ""
        return False, forward_message(ins, case["x"], got, want)


@register
class ValueRules(ProgramCheck):
    """The gradient rule of every operation alone, at points drawn from the seed, with the
    upstream gradient set on its output (backward() is the graphs' check). A case is an
    operation times a number: a wrong rule of ``*`` shows in every case, so the failure
    reported is that of the first case whose own operation's rule is wrong."""

    name = "value_rules"
    depends = ("value_forward",)

    def cases(self, rng):
        return unit_programs(rng)

    def judge_case(self, case, outputs, earlier):
        return judge_rules(case["x"], case["prog"], outputs)

    def _wrong(self, cases, outputs):
        """{case index: operations with a wrong rule} for the cases that ran."""
        return {k: wrong_rules(trusted(c["x"], c["prog"]), c["prog"], o)
                for k, (c, o) in enumerate(zip(cases, outputs or []))
                if "error" not in o and o["local"].shape[0] == len(c["prog"])}

    def judge_all(self, cases, outputs, earlier=None):
        ok, msg = super().judge_all(cases, outputs, earlier)
        if ok or outputs is None or len(outputs) != len(cases):
            return ok, msg
        for k, wrong in self._wrong(cases, outputs).items():
            if op_key(cases[k]["prog"][0]) in wrong:  # the operation of the case itself
                return False, (f"{self.name}, case {k + 1} of {len(cases)} "
                               f"({self.describe(cases[k])}): "
                               + self._judge_one(cases[k], outputs[k], earlier)[1])
        return ok, msg

    def finding(self, cases, outputs, test, message):
        wrong = self._wrong(cases, outputs)
        own = [op_key(cases[k]["prog"][0]) for k, ws in wrong.items()
               if op_key(cases[k]["prog"][0]) in ws]  # in the order of the cases
        every = frozenset(w for ws in wrong.values() for w in ws)
        if not every:
            return super().finding(cases, outputs, test, message)
        return Finding(self.name, test, rules_named(own or sorted(every)), every)


@register
class ValueGraphs(ProgramCheck):
    """backward() on graphs with shared nodes, diamonds and deep chains."""

    name = "value_graphs"
    depends = ("value_forward", "value_rules")

    def cases(self, rng):
        out = [dict(x=np.array(x), prog=p, info=dict(graph=label))
               for x, p, label in fixed_graphs()]
        # Gradients accumulate: two backward() from the output of a * b double the leaves'
        # grads (on a graph of one operation PyTorch's and this course's engine agree).
        out.append(dict(x=np.array([1.5, -0.8]), prog=[("bin", "*", 0, 1)], passes=2,
                        info=dict(graph="a * b, backward() called twice")))
        for shape, n_leaves, n_ops in (("tree", 4, 8), ("shared", 3, 10), ("chain", 2, 30),
                                       ("tree", 5, 14), ("shared", 4, 25), ("shared", 3, 40),
                                       ("chain", 3, 60)):
            # At most MAX_PATHS paths, so that a backward pass that runs a rule per path
            # (no visited set) is shown wrong quickly. Each node is kept to a tenth of
            # that: a deep chain's paths otherwise multiply into the millions (and such a
            # pass then runs into PROGRAM_LIMIT); the output's sum of loose nodes adds some.
            for _ in range(20):
                x, prog = random_program(rng, n_leaves, n_ops, shape, MAX_PATHS // 10)
                if path_count(len(x), prog) <= MAX_PATHS:
                    break
            out.append(dict(x=x, prog=prog, info=dict(graph=shape, nodes=len(x) + len(prog))))
        return out


@register
class ValueScale(Check):
    """A chain of 10 000 nodes and a graph with 2**300 paths, each within a time limit."""

    name = "value_scale"
    functions = ("Value",)
    depends = ("value_forward", "value_rules", "value_graphs")
    LIMIT = 5.0  # seconds for one backward pass
    RATIO = 30.0  # backward may take this many times the forward pass (plus 1 s)
    HIDDEN_SEED = 20261207  # the hidden chain: another than the visible, the same for all
    # Levels of a first, small ladder: 2**12 paths, 51 nodes. A backward pass that runs
    # the rules once per path is told so at once, instead of after LIMIT on the big one.
    SMALL_LADDER = 12

    def hidden_cases(self, rng):
        # What is measured is time and depth, not values: one hidden chain for the whole
        # class, whose trusted gradients the judging process computes once. The ladder has
        # no random part: the visible check's ladder is the only one (a second run of the
        # same graph would cost a backward pass that walks every path another LIMIT).
        return [c for c in self.cases(np.random.default_rng(self.HIDDEN_SEED))
                if c["kind"] == "chain"]

    def cases(self, rng):
        x, prog = chain_program(rng)
        lx, lprog = ladder_program()
        return [dict(x=x, prog=prog, kind="chain", info=dict(graph=f"a chain of {CHAIN} "
                                                                    "operations")),
                dict(x=lx, prog=lprog, kind="ladder",
                     info=dict(graph=f"{LADDER} levels of two nodes, each used twice"))]

    def run(self, fns, case):
        V = fns[0]
        # The guard of call() slows every Python call some forty times: where it watches
        # (a student's own Jupyter), a short prefix of the graph runs under it (borrowed
        # code is refused there), the timed graph without it, so that the times measure
        # the student's algorithm. A prefix that alone runs past the limit stands for the
        # whole graph. In the sandbox the guard has nothing to watch, and no prefix runs.
        if case["kind"] == "ladder":
            runs = self.rule_runs(V)
            if runs is not None:
                return {"t_forward": 0.0, "t_backward": math.inf, "rule_runs": runs}
        if watching():
            probe = call(timed_graph, V, case["x"], case["prog"][:PROBE], self.LIMIT,
                         what="Value")
            if not math.isfinite(probe["t_backward"]):
                return {**probe, "prefix": PROBE}
        try:
            return timed_graph(V, case["x"], case["prog"], self.LIMIT)
        except RecursionError:
            raise StudentError("backward() raised RecursionError") from None

    def rule_runs(self, V):
        """See :func:`.autodiff_scale.rule_runs` (on a SMALL_LADDER-level ladder)."""
        return rule_runs(V, self.SMALL_LADDER, self.LIMIT)

    def judge_case(self, case, outputs, earlier):
        ok, msg = self.judge(case, outputs)
        only_rules = "value_rules" in earlier and "value_graphs" not in earlier
        if not ok and only_rules and msg.startswith("the leaves' grads"):
            return True, (f"backward() finished in time; the grads were not judged: "
                          f"{earlier['value_rules'].cause} (see its check)")
        return ok, msg

    def judge(self, case, outputs):
        return judge_scale(case, outputs, self.LIMIT, self.RATIO, self.SMALL_LADDER)


# ------------------------------------------------------------ neurons, layers, MLP

@register
class MlpForward(Check):
    """MLP(nin, nouts): parameters() in order, tanh hidden layers, a linear output layer."""

    name = "mlp_forward"
    functions = ("MLP",)
    depends = ("value_forward", "value_rules", "value_graphs")

    def cases(self, rng):
        return mlp_cases(rng)

    def run(self, fns, case):
        def go():
            model = fns[0](case["nin"], list(case["nouts"]))
            ps = set_parameters(model, case["flat"], case["nin"], case["nouts"])
            outs, total = [], None
            for x, r in zip(case["X"], case["r"]):
                ys = outputs_of(model([float(v) for v in x]), case["nouts"][-1])
                outs.append([number(v.data, "an output's data") for v in ys])
                for v, ri in zip(ys, r):
                    total = v * float(ri) if total is None else total + v * float(ri)
            run_backward(total, "backward() through the MLP")
            return {"out": np.array(outs), "grads": np.array([number(p.grad, "grad")
                                                              for p in ps])}

        return call(go, what="MLP")

    def judge(self, case, outputs):
        nin, nouts, flat, X = case["nin"], case["nouts"], case["flat"], case["X"]
        want = np.array(mlp_scores(flat, nin, nouts, X))
        if not close(outputs["out"], want, 1e-9):
            msg = f"the outputs of MLP({nin}, {nouts}) are wrong"
            for label, kw in (("the output layer applies tanh too: it must be linear "
                               "(the last layer's neurons have nonlin=False)",
                               dict(last_tanh=True)),
                              ("parameters() lists each neuron's bias before its weights: "
                               "the order is w then b", dict(bias_first=True))):
                if close(outputs["out"], np.array(mlp_scores(flat, nin, nouts, X, **kw)), 1e-9):
                    return False, msg + "; likely: " + label
            return False, msg + (" (parameters() must list them layer by layer, neuron by "
                                 "neuron, each neuron's weights then its bias)")
        V = engine().Value
        params = [V(float(v)) for v in flat]
        outs = mlp_scores(params, nin, nouts, X, V=V)
        total = sum((v * float(r) for ys, rs in zip(outs, case["r"]) for v, r in zip(ys, rs)),
                    V(0.0))
        total.backward()
        g = np.array([p.grad for p in params])
        if not close(outputs["grads"], g, 1e-7):
            return False, ("the outputs are right but the parameters' gradients after "
                           "backward() are wrong: see the checks of Value first")
        return True, ""

    def judge_case(self, case, outputs, earlier):
        ok, msg = self.judge(case, outputs)
        engine_found = [earlier[d] for d in ("value_rules", "value_graphs") if d in earlier]
        if not ok and engine_found and msg.startswith("the outputs are right"):
            return True, (f"the outputs are right; the gradients were not judged: "
                          f"{engine_found[0].cause} (see its check)")
        return ok, msg


@register
class TrainStep(Check):
    """train_step(model, X, y, lr): reset, mean hinge loss, backward, update, three times."""

    name = "train_step"
    functions = ("MLP", "train_step")
    depends = ("value_forward", "value_rules", "value_graphs", "mlp_forward")
    STEPS = 3

    def cases(self, rng):
        return train_step_cases(rng)

    def run(self, fns, case):
        return call(run_train_step, *fns, case, self.STEPS, what="train_step")

    def judge(self, case, outputs):
        return judge_train_step(case, outputs, self.STEPS)

    def judge_case(self, case, outputs, earlier):
        ok, msg = self.judge(case, outputs)
        engine = next((earlier[d] for d in ("value_rules", "value_graphs") if d in earlier),
                      None)
        if ok or engine is None:
            return ok, msg
        apart, why = judge_train_step_apart(case, outputs, self.STEPS)
        return (True, f"judged with the gradients of your Value ({engine.cause}): {why}") \
            if apart else (False, msg)


@register
class TrainXor(Check):
    """train_xor(X, y): a model reaching the target accuracy on held-out points of the
    distribution it was trained on: the opposite (XNOR) labels in the visible check, the
    XOR labels in the hidden one. One training per call."""

    name = "train_xor"
    functions = ("train_xor",)
    depends = ("value_forward", "value_rules", "value_graphs", "mlp_forward", "train_step")

    show_notes = True

    def cases(self, rng):
        return xor_cases(rng, "XNOR")

    def hidden_cases(self, rng):
        return xor_cases(rng, "XOR")

    def run(self, fns, case):
        def go():
            model = fns[0](case["X"].copy(), case["y"].copy())
            nin = len(model.layers[0].neurons[0].w)
            nouts = [len(layer.neurons) for layer in model.layers]
            flat = [number(p.data, "a parameter") for p in model.parameters()]
            return {"nin": nin, "nouts": np.array(nouts), "flat": np.array(flat)}

        return call(go, what="train_xor")

    def judge(self, case, outputs):
        return judge_train_xor(case, outputs)
