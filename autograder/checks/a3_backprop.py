"""Checks of assignment 3: backpropagation by hand, layer by layer.

Its known-bug variants, graded by the audit, are in
``autograder/bugs/a3_backprop.py``.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.comparison import compare, numeric_grad, numeric_msg, rel_error
from autograder.checks.diagnosis import close, wrong_derivatives
from autograder.checks.framework import Check, course_module, draw_dtype, reference, register
from autograder.checks.guard import StudentError, arr, call, unpack


def _affine_case(rng, dtype, square=False):
    N, D = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    H = D if square else int(rng.choice([h for h in range(2, 7) if h != D]))
    x = rng.standard_normal((N, D)).astype(dtype)
    W = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    b = rng.standard_normal(H).astype(dtype)
    dout = rng.standard_normal((N, H)).astype(dtype)
    return dict(x=x, W=W, b=b, dout=dout, info=dict(N=N, D=D, H=H, dtype=np.dtype(dtype).name))


def _affine_cases(rng):
    return [_affine_case(rng, np.float64, square=True), _affine_case(rng, np.float64),
            _affine_case(rng, np.float64), _affine_case(rng, draw_dtype(rng)),
            _affine_case(rng, draw_dtype(rng), square=True)]


@register
class AffineForward(Check):
    """affine_forward(x, W, b) returns out = x @ W + b and a cache."""

    name = "affine_forward"
    functions = ("affine_forward",)

    def cases(self, rng):
        return _affine_cases(rng)

    def run(self, fns, case):
        res = call(fns[0], case["x"].copy(), case["W"].copy(), case["b"].copy())
        out, _ = unpack(res, 2, "affine_forward", "out, cache")
        return {"out": out}

    def judge(self, case, outputs):
        x, W, b = (case[k].astype(np.float64) for k in ("x", "W", "b"))
        alts = [("x @ W without the bias b", x @ W)]
        if W.shape[0] == W.shape[1]:
            alts.append(("x @ W.T + b: W must not be transposed", x @ W.T + b))
        msg = compare("out", outputs["out"], x @ W + b, case["x"].dtype.name, alts=alts)
        return msg is None, msg or ""


@register
class AffineBackward(Check):
    """affine_backward(dout, cache) returns dx, dW, db of the affine layer."""

    name = "affine_backward"
    functions = ("affine_forward", "affine_backward")
    depends = ("affine_forward",)

    def cases(self, rng):
        return _affine_cases(rng)

    def run(self, fns, case):
        fwd, bwd = fns
        res = call(fwd, case["x"].copy(), case["W"].copy(), case["b"].copy(), what="affine_forward")
        out, cache = unpack(res, 2, "affine_forward", "out, cache")
        res = call(bwd, case["dout"].copy(), cache, what="affine_backward")
        dx, dW, db = unpack(res, 3, "affine_backward", "dx, dW, db")
        o = {"out": out, "dx": dx, "dW": dW, "db": db}
        if case["x"].dtype == np.float64:
            x, W, b = case["x"].copy(), case["W"].copy(), case["b"].copy()

            def f():
                return unpack(call(fwd, x, W, b, what="affine_forward"), 2, "affine_forward",
                              "out, cache")[0]

            for k, v in (("dx", x), ("dW", W), ("db", b)):
                o["num_" + k] = numeric_grad(f, v, case["dout"])
        return o

    def judge(self, case, outputs):
        x, W, b, dout = (case[k].astype(np.float64) for k in ("x", "W", "b", "dout"))
        N = x.shape[0]
        dt = case["x"].dtype.name
        msg = compare("out (from your affine_forward)", outputs["out"], x @ W + b, dt)
        if msg:
            return False, msg + " -- fix affine_forward first"
        square = W.shape[0] == W.shape[1]
        want = {"dx": dout @ W.T, "dW": x.T @ dout, "db": dout.sum(axis=0)}
        alts = {
            "dx": [("dout @ W: W needs a transpose, dx = dout @ W.T",
                    dout @ W if square else None)],
            "dW": [("dout.T @ x: the transpose of dW", (dout.T @ x) if square else None)],
            "db": [("db averages dout over the batch; it is the SUM over axis 0",
                    dout.mean(axis=0))],
        }
        for k in ("dx", "dW", "db"):
            msg = compare(k, outputs[k], want[k], dt, n=N, alts=alts[k])
            if msg:
                return False, msg
        for k in ("dx", "dW", "db"):
            if "num_" + k in outputs:
                msg = numeric_msg(k, outputs[k], outputs["num_" + k], "affine_forward")
                if msg:
                    return False, msg
        return True, ""


def _act_layer_alts(name, z, dout):
    f, g = course_module("activations").get(name)
    alts = [(label, None if g is None else dout * g)
            for label, g in wrong_derivatives(name, z, f, "local derivative")]
    alts.append(("dout * f(z): multiplied by the activation instead of its derivative",
                 dout * f(z)))
    alts.append(("returned dout unchanged: the activation's derivative is missing", dout))
    alts.append(("the local derivative alone: multiply it by dout (the chain rule)",
                 g(z)))
    return alts


class _ActivationLayer(Check):
    """forward(z) -> (out, cache) and backward(dout, cache) -> dz of an activation."""

    functions = ("forward", "backward")

    def cases(self, rng):
        out = []
        for k in range(5):
            dtype = np.float64 if k < 3 else draw_dtype(rng)
            N, H = int(rng.integers(2, 7)), int(rng.integers(2, 7))
            z = rng.standard_normal((N, H)) * 2
            z = np.where(np.abs(z) < 1e-2, 0.5, z).astype(dtype)
            dout = rng.standard_normal((N, H)).astype(dtype)
            out.append(dict(z=z, dout=dout, info=dict(N=N, H=H, dtype=np.dtype(dtype).name)))
        return out

    def run(self, fns, case):
        fwd, bwd = fns
        n1, n2 = f"{self.key}_forward", f"{self.key}_backward"
        out, cache = unpack(call(fwd, case["z"].copy(), what=n1), 2, n1, "out, cache")
        dz = call(bwd, case["dout"].copy(), cache, what=n2)
        o = {"out": out, "dz": dz}
        if case["z"].dtype == np.float64:
            h = 1e-6
            fp = arr(unpack(call(fwd, case["z"] + h, what=n1), 2, n1, "out, cache")[0], n1)
            fm = arr(unpack(call(fwd, case["z"] - h, what=n1), 2, n1, "out, cache")[0], n1)
            if fp.shape == case["z"].shape and fm.shape == fp.shape:
                o["num_dz"] = (fp - fm) / (2 * h) * case["dout"]
        return o

    def judge(self, case, outputs):
        f, g = course_module("activations").get(self.key)
        z, dout = case["z"].astype(np.float64), case["dout"].astype(np.float64)
        dt = case["z"].dtype.name
        msg = compare(f"out (from your {self.key}_forward)", outputs["out"], f(z), dt)
        if msg:
            return False, msg + f" -- fix {self.key}_forward first"
        msg = compare("dz", outputs["dz"], dout * g(z), dt, alts=_act_layer_alts(self.key, z, dout))
        if not msg and "num_dz" in outputs:
            msg = numeric_msg("dz", outputs["dz"], outputs["num_dz"], f"{self.key}_forward")
        return msg is None, msg or ""


@register
class ReluBackward(_ActivationLayer):
    """relu_forward / relu_backward: dz = dout where z > 0, else 0."""

    name, key = "relu_backward", "relu"


@register
class SigmoidBackward(_ActivationLayer):
    """sigmoid_forward / sigmoid_backward: dz = dout * s * (1 - s)."""

    name, key = "sigmoid_backward", "sigmoid"


@register
class TanhBackward(_ActivationLayer):
    """tanh_forward / tanh_backward: dz = dout * (1 - t**2)."""

    name, key = "tanh_backward", "tanh"


@register
class MlpBackward(Check):
    """mlp_forward / mlp_backward: gradients of every W and b for networks of any depth."""

    name = "mlp_backward"
    functions = ("mlp_forward", "mlp_backward")
    depends = ("affine_forward", "affine_backward", "relu_backward", "sigmoid_backward",
               "tanh_backward")

    def cases(self, rng):
        out = []
        plan = [(2, "relu", np.float64), (3, "tanh", np.float64), (1, "sigmoid", np.float64)]
        for _ in range(3):
            plan.append((int(rng.integers(1, 6)), str(rng.choice(["relu", "sigmoid", "tanh"])),
                         draw_dtype(rng)))
        for L, act, dtype in plan:
            N = int(rng.integers(2, 6))
            sizes = [int(s) for s in rng.integers(2, 6, L + 1)]
            for _ in range(100):  # ReLU: keep every pre-activation away from the kink
                X = rng.standard_normal((N, sizes[0]))
                params, h, gap = {}, X, np.inf
                for i in range(1, L + 1):
                    params[f"W{i}"] = rng.standard_normal((sizes[i - 1], sizes[i])) / np.sqrt(
                        sizes[i - 1]) * 1.5
                    params[f"b{i}"] = rng.standard_normal(sizes[i]) * 0.5
                    z = h @ params[f"W{i}"] + params[f"b{i}"]
                    if i < L:
                        gap = min(gap, float(np.min(np.abs(z))))
                    h = np.maximum(z, 0)
                if act != "relu" or gap > 1e-3:
                    break
            dscores = rng.standard_normal((N, sizes[-1])) / N
            out.append(dict(X=X.astype(dtype), params={k: v.astype(dtype) for k, v in
                                                       params.items()},
                            act=act, dscores=dscores.astype(dtype),
                            info=dict(L=L, activation=act, sizes=sizes, N=N,
                                      dtype=np.dtype(dtype).name)))
        return out

    def run(self, fns, case):
        fwd, bwd = fns
        P = {k: v.copy() for k, v in case["params"].items()}
        scores, cache = unpack(call(fwd, case["X"].copy(), P, case["act"], what="mlp_forward"), 2,
                               "mlp_forward", "scores, cache")
        grads = call(bwd, case["dscores"].copy(), cache, what="mlp_backward")
        if not isinstance(grads, dict):
            raise StudentError(f"mlp_backward must return a dict of gradients, got "
                               f"{type(grads).__name__}")
        o = {"scores": scores}
        for k in case["params"]:
            if k in grads:
                o["grad_" + k] = grads[k]
        if case["X"].dtype == np.float64:
            X = case["X"].copy()
            P = {k: v.copy() for k, v in case["params"].items()}

            def f():
                return unpack(call(fwd, X, P, case["act"], what="mlp_forward"), 2, "mlp_forward",
                              "scores, cache")[0]

            for k in P:
                o["num_" + k] = numeric_grad(f, P[k], case["dscores"])
        return o

    def judge(self, case, outputs):
        X = case["X"].astype(np.float64)
        P = {k: v.astype(np.float64) for k, v in case["params"].items()}
        d = case["dscores"].astype(np.float64)
        act = case["act"]
        L = len(P) // 2
        N = X.shape[0]
        dt = case["X"].dtype.name
        scores, grads = reference().mlp(X, P, act, d)
        msg = compare("scores (from your mlp_forward)", outputs["scores"], scores, dt)
        if msg:
            return False, msg + " -- fix mlp_forward first"
        variants = [(f"the backward pass skipped the {act} derivative of hidden layer {i}",
                     reference().mlp(X, P, act, d, ("skip", i))[1]) for i in range(1, L)]
        variants.append((f"the {act} derivative was evaluated at the layer's output h instead "
                         "of its input z", reference().mlp(X, P, act, d, "at_output")[1]))
        right = []
        for i in range(L, 0, -1):
            for k in (f"W{i}", f"b{i}"):
                got = outputs.get("grad_" + k)
                if got is None:
                    return False, f"the gradients have no entry {k!r}"
                alts = [(label, g[k]) for label, g in variants]
                msg = compare(f"d{k} (layer {i} of {L})", got, grads[k], dt, n=N, alts=alts)
                if msg:
                    if right:
                        msg += f"; {', '.join(right)} are right, so the mistake enters " \
                               f"between layer {i + 1 if i < L else L} and layer {i}"
                    return False, msg
                right.append("d" + k)
        for k in P:
            if "num_" + k in outputs:
                msg = numeric_msg("d" + k, outputs["grad_" + k], outputs["num_" + k], "mlp_forward")
                if msg:
                    return False, msg
        return True, ""


def _fn_value(kind, A, x):
    if kind == "cubic":
        return float(np.sum(A * x ** 3) + np.sum(x) ** 2)
    if kind == "sin":
        return float(np.sum(np.sin(A * x)) * 3 + np.sum(x * x))
    m = np.max(A * x)
    return float(m + np.log(np.sum(np.exp(A * x - m)))) * 5


@register
class NumericalGradient(Check):
    """numerical_gradient(f, x, h) by central differences with the step h, leaving x as it
    was; the step is the default 1e-5 or one large enough for its O(h^2) error to show."""

    name = "numerical_gradient"
    functions = ("numerical_gradient",)
    DEFAULT_H = 1e-5

    def cases(self, rng):
        out = []
        for k, kind in enumerate(["cubic", "sin", "lse", "cubic", "sin"]):
            shape = (int(rng.integers(2, 6)),) if k % 2 else \
                (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
            x = rng.uniform(-2, 2, shape)
            A = rng.uniform(1, 4, shape)
            case = dict(x=x, A=A, kind=kind, info=dict(f=kind, shape=shape))
            if k >= 3:  # the step passed in must be the step used
                case["h"] = float(rng.choice([0.05, 0.1, 0.2]))
                case["info"]["h"] = case["h"]
            out.append(case)
        return out

    def run(self, fns, case):
        x = case["x"].copy()
        A, kind = case["A"], case["kind"]
        h = (case["h"],) if "h" in case else ()
        g = call(fns[0], lambda v: _fn_value(kind, A, v), x, *h, what="numerical_gradient")
        return {"grad": g, "x_after": x}

    @staticmethod
    def differences(kind, A, x, h, central=True):
        """The difference quotients of the case's function at x with step h."""
        out = np.zeros_like(x)
        f0 = _fn_value(kind, A, x)
        for i in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            out[i] = (_fn_value(kind, A, xp) - _fn_value(kind, A, xm)) / (2 * h) if central \
                else (_fn_value(kind, A, xp) - f0) / h
        return out

    def judge(self, case, outputs):
        x, A, kind = case["x"], case["A"], case["kind"]
        after = outputs["x_after"]
        if after.shape != x.shape or not np.allclose(after, x, rtol=0, atol=1e-12):
            return False, "numerical_gradient changed x: put back x[i] after each evaluation"
        got = outputs["grad"]
        if "h" in case:  # a large step: the result is the central difference with that step
            label = f"the numerical gradient with h={case['h']:g}"
            want = self.differences(kind, A, x, case["h"])
            msg = compare(label, got, want, tol=1e-7)
            if msg and got.shape == x.shape and close(got, reference().smooth_function_grad(
                    kind, A, x), 1e-4):
                msg = (f"{label} is the exact gradient, not the central difference with "
                       "that step: the step h passed in is not used (a fixed small step?)")
            return msg is None, msg or ""
        want = reference().smooth_function_grad(kind, A, x)
        fwd = self.differences(kind, A, x, self.DEFAULT_H, central=False)
        alts = [("a one-sided difference (f(x + h) - f(x)) / h, whose error is O(h); use "
                 "central differences (f(x + h) - f(x - h)) / 2h", fwd)]
        if got.shape == x.shape and np.all(np.isfinite(got)) and rel_error(got, fwd) < 1e-3 \
                and rel_error(got, want) > 1e-7:
            return False, (f"the gradient is off by {rel_error(got, want):.1e}; likely: "
                           + alts[0][0])
        ratio_hint = ""
        if got.shape == x.shape and close(got, 2 * want, 1e-5):
            ratio_hint = "; twice too large: divide by 2h, not h"
        elif got.shape == x.shape and close(got, want / 2, 1e-5):
            ratio_hint = "; half the gradient: divide by 2h, not 4h"
        msg = compare("the numerical gradient", got, want, tol=1e-6)
        return msg is None, (msg + ratio_hint) if msg else ""

