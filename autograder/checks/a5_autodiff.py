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
from autograder.checks.autodiff_judge import (
    ProgramCheck,
    close,
    engine,
    fmt,
    near,
    trusted,
    trusted_output,
)
from autograder.checks.autodiff_mlp import (
    accuracy,
    hinge_trajectory,
    mlp_cases,
    mlp_scores,
    n_params,
    outputs_of,
    set_parameters,
)
from autograder.checks.autodiff_programs import (
    REFLECTED,
    build,
    expr,
    number,
    operands,
    run_backward,
    time_limited,
)
from autograder.checks.framework import Check, register
from autograder.checks.guard import StudentError, call

__all__ = ["ValueForward", "ValueRules", "ValueGraphs", "ValueScale", "MlpForward",
           "TrainStep", "TrainXor"]

PROBE = 400  # operations of the long graphs run under the guard of call()


@register
class ValueForward(Check):
    """The data of every operation of Value, the reflected forms included."""

    name = "value_forward"
    functions = ("Value",)

    def cases(self, rng):
        return [dict(x=c["x"], prog=c["prog"][:1], info=c["info"])
                for c in unit_programs(rng)]

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
        msg = (f"`{expr(ins)}` gives {fmt(got)} at "
               + ", ".join(f"{'ab'[s]} = {fmt(case['x'][j])}"
                           for s, j in enumerate(operands(ins)))
               + f", expected {fmt(want)}")
        if ins[0] == "lc" and ins[1] in "-/":
            a, cst = float(case["x"][0]), ins[2]
            swapped = a - cst if ins[1] == "-" else a / cst
            if near(got, swapped):
                msg += (f"; likely: the operands are swapped: in `{expr(ins)}` the number is "
                        f"on the left, so {REFLECTED[ins[1]]}(self, other) computes "
                        f"other {ins[1]} self")
        return False, msg


@register
class ValueRules(ProgramCheck):
    """The gradient rule of every operation alone, at points drawn from the seed."""

    name = "value_rules"

    def cases(self, rng):
        return unit_programs(rng)


@register
class ValueGraphs(ProgramCheck):
    """backward() on graphs with shared nodes, diamonds and deep chains."""

    name = "value_graphs"

    def cases(self, rng):
        out = [dict(x=np.array(x), prog=p, info=dict(graph=label))
               for x, p, label in fixed_graphs()]
        for shape, n_leaves, n_ops in (("tree", 4, 8), ("shared", 3, 10), ("chain", 2, 30),
                                       ("tree", 5, 14), ("shared", 4, 25), ("shared", 3, 40),
                                       ("chain", 3, 60)):
            for _ in range(20):  # at most MAX_PATHS paths: a rule run per path stays quick
                x, prog = random_program(rng, n_leaves, n_ops, shape)
                if path_count(len(x), prog) <= MAX_PATHS:
                    break
            out.append(dict(x=x, prog=prog, info=dict(graph=shape, nodes=len(x) + len(prog))))
        return out


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

    def run(self, fns, case):
        V = fns[0]

        def go(x, prog):
            nodes, t_fwd = time_limited(self.LIMIT, build, V, x, prog, True)
            if nodes is None:
                raise StudentError(f"building the graph took more than {self.LIMIT:g} s")
            _, t_bwd = time_limited(self.LIMIT, run_backward, nodes[-1])
            o = {"t_forward": t_fwd, "t_backward": t_bwd}
            if math.isfinite(t_bwd):
                o["grad"] = np.array([number(n.grad, "grad") for n in nodes[:len(x)]])
                o["data"] = number(nodes[-1].data, "data")
            return o

        # The guard of call() slows every Python call some forty times: a short prefix of
        # the graph runs under it (borrowed code is refused there), the timed graph
        # without it, so that the times measure the student's algorithm.
        call(go, case["x"], case["prog"][:PROBE], what="Value")
        try:
            return go(case["x"], case["prog"])
        except RecursionError:
            raise StudentError("backward() raised RecursionError") from None

    def judge(self, case, outputs):
        n = len(case["x"]) + len(case["prog"])
        edges = sum(len(operands(i)) for i in case["prog"])
        what = (f"a chain of {len(case['prog'])} operations" if case["kind"] == "chain" else
                f"a graph of {n} nodes and {edges} edges where every node is used twice "
                f"({LADDER} levels, 2**{LADDER} paths from the output to the leaves)")
        t_b, t_f = float(outputs["t_backward"]), float(outputs["t_forward"])
        if not math.isfinite(t_b):
            hint = ("likely: the topological sort has no visited set, so it walks every "
                    "path to a shared node (their number doubles at every level) instead of "
                    "every edge once" if case["kind"] == "ladder" else
                    "the work must grow like the number of edges")
            return False, f"backward() did not finish within {self.LIMIT:g} s on {what}; " \
                          f"{hint}"
        if t_b > self.RATIO * t_f + 1.0:
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


# ------------------------------------------------------------ neurons, layers, MLP

@register
class MlpForward(Check):
    """MLP(nin, nouts): parameters() in order, tanh hidden layers, a linear output layer."""

    name = "mlp_forward"
    functions = ("MLP",)

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

    def run(self, fns, case):
        M, step = fns

        def go():
            model = M(case["nin"], list(case["nouts"]))
            ps = set_parameters(model, case["flat"], case["nin"], case["nouts"])
            X = [[float(v) for v in x] for x in case["X"]]
            y = [float(t) for t in case["y"]]
            losses, params = [], []
            for _ in range(self.STEPS):
                losses.append(number(step(model, X, y, case["lr"]), "the loss train_step returns"))
                params.append([number(p.data, "a parameter") for p in ps])
            return {"losses": np.array(losses), "params": np.array(params)}

        return call(go, what="train_step")

    def judge(self, case, outputs):
        args = (case["flat"], case["nin"], case["nouts"], case["X"], case["y"], case["lr"],
                self.STEPS)
        losses, params = hinge_trajectory(*args)
        if outputs["params"].shape != params.shape:
            return False, f"the parameters have shape {outputs['params'].shape}, expected " \
                          f"{params.shape}"
        alts = (("no_zero_grad", "the gradients are not reset between two backward calls: "
                                 "call model.zero_grad() before loss.backward()"),
                ("ascent", "the update goes uphill: p.data -= lr * p.grad"),
                ("sum", "the loss is the sum of the hinge terms; it must be their mean"))
        for k in range(self.STEPS):
            if close(outputs["params"][k], params[k], 1e-7):
                continue
            msg = f"the parameters after step {k + 1} of {self.STEPS} are wrong"
            if k:
                msg += f" (step{'s 1 to' if k > 1 else ''} {k} right)"
            for mistake, label in alts:
                _, wrong = hinge_trajectory(*args, mistake=mistake)
                if close(outputs["params"], wrong, 1e-7):
                    return False, msg + "; likely: " + label
            if not close(outputs["losses"][:1], losses[:1], 1e-7):
                msg += (f"; the first loss is {fmt(outputs['losses'][0])}, expected "
                        f"{fmt(losses[0])}: the mean of relu(1 - y_i * model(x_i))")
            elif not k:
                msg += ("; the loss is right, so its gradients or the update p.data -= lr * "
                        "p.grad are wrong (see the checks of Value)")
            return False, msg
        if not close(outputs["losses"], losses, 1e-7):
            return False, (f"train_step returns the losses {np.round(outputs['losses'], 6)}, "
                           f"expected {np.round(losses, 6)}: the loss before the update")
        return True, ""


TARGET_ACCURACY = 0.9
XOR_NOISE = 0.15
N_TRAIN, N_VAL = 60, 100
# Two labellings of the same four corners: a train_xor that learns XOR whatever it is
# given (from data of its own, or from labels it computes from X) fits one of the two.
LABELLINGS = (("XOR", 1.0), ("XNOR", -1.0))  # sign of y: +1 where the signs differ, agree



@register
class TrainXor(Check):
    """train_xor(X, y): a model reaching the target accuracy on held-out points of the
    distribution it was trained on, for the XOR labels and for the opposite (XNOR) ones."""

    name = "train_xor"
    functions = ("train_xor",)

    def cases(self, rng):
        from course.data import xor

        out = []
        for labels, sign in LABELLINGS:
            X, y = xor(n=N_TRAIN + N_VAL, noise=XOR_NOISE, seed=int(rng.integers(2**31)))
            X, y = X - 0.5, sign * (2.0 * y - 1.0)  # corners (+-0.5, +-0.5), labels +-1
            out.append(dict(X=X[:N_TRAIN], y=y[:N_TRAIN], Xval=X[N_TRAIN:], yval=y[N_TRAIN:],
                            info=dict(labels=labels, N_train=N_TRAIN, N_val=N_VAL)))
        return out

    def run(self, fns, case):
        def go():
            model = fns[0](case["X"].copy(), case["y"].copy())
            nin = len(model.layers[0].neurons[0].w)
            nouts = [len(layer.neurons) for layer in model.layers]
            flat = [number(p.data, "a parameter") for p in model.parameters()]
            return {"nin": nin, "nouts": np.array(nouts), "flat": np.array(flat)}

        return call(go, what="train_xor")

    def judge(self, case, outputs):
        nin, nouts = int(outputs["nin"]), [int(v) for v in outputs["nouts"]]
        if nin != 2 or not nouts or nouts[-1] != 1 or \
                outputs["flat"].shape != (n_params(nin, nouts),):
            return False, (f"train_xor must return an MLP(2, [..., 1]); got {nin} inputs, "
                           f"layers {nouts} and {outputs['flat'].size} parameters")
        scores, train_scores = (np.array(mlp_scores(outputs["flat"], nin, nouts, X))[:, 0]
                                for X in (case["Xval"], case["X"]))
        if not (np.isfinite(scores).all() and np.isfinite(train_scores).all()):
            return False, ("the model's scores are not finite numbers: lower the learning "
                           "rate")
        acc = accuracy(scores, case["yval"])
        if acc >= TARGET_ACCURACY:
            return True, f"validation accuracy {acc:.3f}"
        fit = accuracy(train_scores, case["y"])
        msg = f"validation accuracy {acc:.3f}, below the target {TARGET_ACCURACY}"
        if fit <= 1 - TARGET_ACCURACY:
            return False, (f"{msg}: the model predicts the opposite of the labels y it was "
                           f"given (it gets {fit:.3f} of its {N_TRAIN} training points "
                           "right); train_xor must learn from the X and y passed to it, "
                           "not from XOR data or labels of its own")
        if fit < TARGET_ACCURACY:
            return False, (f"{msg}: the model does not fit the {N_TRAIN} points X, y it was "
                           f"given ({fit:.3f} of them right); train on the X and y passed "
                           "to train_xor, train longer, or tune the learning rate")
        return False, f"{msg}: train longer, or tune the learning rate"
