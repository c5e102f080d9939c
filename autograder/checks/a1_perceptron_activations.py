"""Checks of assignment 1: the perceptron and the activation functions.

Its known-bug variants, graded by the audit, are in
``autograder/bugs/a1_perceptron_activations.py``.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.comparison import compare, numeric_msg
from autograder.checks.diagnosis import close, wrong_derivatives
from autograder.checks.framework import Check, course_module, draw_dtype, reference, register
from autograder.checks.guard import arr, call, unpack


@register
class PerceptronUpdate(Check):
    """One step of the perceptron learning rule, on misclassified and correct examples."""

    name = "perceptron_update"
    functions = ("perceptron_update",)

    def cases(self, rng):
        out = []
        for k in range(8):
            D = int(rng.integers(2, 7))
            w = rng.standard_normal(D) if k > 1 else np.zeros(D)
            b = float(rng.standard_normal()) if k > 1 else 0.0
            x = rng.standard_normal(D)
            t = float(k % 2) if k < 2 else float(rng.integers(0, 2))
            lr = float(rng.choice([0.1, 0.5, 1.0]))
            out.append(dict(w=w, b=b, x=x, t=t, lr=lr, info=dict(D=D)))
        return out

    def run(self, fns, case):
        w_in, x_in = case["w"].copy(), case["x"].copy()
        res = call(fns[0], w_in, case["b"], x_in, case["t"], case["lr"])
        w, b = unpack(res, 2, "perceptron_update", "w, b")
        # the arrays passed in, after the call: the docstring promises they are unchanged
        return {"w": w, "b": b, "w_in": w_in.copy(), "x_in": x_in.copy()}

    def judge(self, case, outputs):
        for name in ("w", "x"):
            after = outputs.get(f"{name}_in")
            if after is None or after.shape != case[name].shape or \
                    not np.array_equal(after, case[name]):
                return False, (f"perceptron_update changed the array {name} passed in, which "
                               "its docstring promises to leave unchanged: compute a new "
                               "array (w = w + ...), do not update in place (w += ...)")
        inputs = (case["w"], case["b"], case["x"], case["t"], case["lr"])
        w, b = reference().perceptron_update(*inputs)
        z = float(np.dot(case["w"], case["x"]) + case["b"])
        alts_w, alts_b = [], []
        wg, bg = reference().perceptron_update(*inputs, threshold_ge=False)
        if z == 0:
            hint = "at w.x + b = 0 the prediction must be 1 (the step is 1 for z >= 0)"
            alts_w.append((hint, wg))
            alts_b.append((hint, np.asarray(bg)))
        y = 1.0 if z >= 0 else 0.0
        step = case["lr"] * (case["t"] - y)
        flip = (case["w"] - step * case["x"], case["b"] - step)
        alts_w.append(("the update has the wrong sign; the rule is w += lr (t - y) x", flip[0]))
        alts_b.insert(0, ("the bias was not updated", np.asarray(case["b"])))
        alts_b.append(("the update has the wrong sign; the rule is b += lr (t - y)",
                       np.asarray(flip[1])))
        for label, got, want, alts in (("w", outputs["w"], w, alts_w),
                                       ("b", outputs["b"], b, alts_b)):
            msg = compare(label, got.reshape(np.shape(want)) if got.size == np.size(want)
                          else got, np.asarray(want), alts=alts)
            if msg:
                return False, msg
        return True, ""


@register
class PerceptronTrain(Check):
    """Training from zero weights for a given number of epochs over the examples in order."""

    name = "perceptron_train"
    functions = ("perceptron_train",)
    depends = ("perceptron_update",)

    def cases(self, rng):
        out = []
        for _ in range(3):
            N, D = int(rng.integers(6, 15)), int(rng.integers(2, 5))
            X = np.round(rng.standard_normal((N, D)), 2)
            t = rng.integers(0, 2, N).astype(np.float64)  # not separable: updates every epoch
            epochs = int(rng.integers(2, 6))
            lr = float(rng.choice([0.1, 1.0]))
            out.append(dict(X=X, t=t, lr=lr, epochs=epochs, info=dict(N=N, D=D, epochs=epochs)))
        return out

    def run(self, fns, case):
        res = call(fns[0], case["X"].copy(), case["t"].copy(), lr=case["lr"], epochs=case["epochs"])
        w, b = unpack(res, 2, "perceptron_train", "w, b")
        return {"w": w, "b": b}

    def judge(self, case, outputs):
        X, t, lr, E = case["X"], case["t"], case["lr"], case["epochs"]
        w, b = reference().perceptron_train(X, t, lr, E)
        alts = []
        for e, what in ((E - 1, "one epoch too few"), (E + 1, "one epoch too many")):
            we, be = reference().perceptron_train(X, t, lr, e)
            alts.append((f"matches {e} epochs: {what} (off by one in the epoch loop)", we, be))
        wg, bg = reference().perceptron_train(X, t, lr, E, threshold_ge=False)
        alts.append(("matches a step that is 0 at z = 0: predict 1 when w.x + b >= 0", wg, bg))
        got_w = outputs["w"].reshape(-1) if outputs["w"].size == w.size else outputs["w"]
        got_b = outputs["b"].reshape(()) if outputs["b"].size == 1 else outputs["b"]
        for label, aw, ab in alts:
            if got_w.shape == aw.shape and close(got_w, aw, 1e-6) and \
                    close(got_b, ab, 1e-6) and not close(got_w, w, 1e-6):
                return False, f"w and b are wrong; likely: {label}"
        msg = compare("w", got_w, w) or compare("b", got_b, np.asarray(b))
        return (msg is None), msg or ""


def _draw_z(rng, dtype, away_from_zero=False):
    shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    z = rng.standard_normal(shape) * float(rng.choice([1.0, 3.0]))
    if away_from_zero:
        z = np.where(np.abs(z) < 1e-2, 0.5, z)
    return z.astype(dtype)


class _Activation(Check):
    """Forward and derivative of an activation, element by element, any shape and dtype."""

    functions = ("f", "f_grad")
    kink = False

    def cases(self, rng):
        out = []
        for k in range(6):
            dtype = np.float64 if k < 3 else draw_dtype(rng)
            z = _draw_z(rng, dtype, away_from_zero=self.kink)
            if k == 0:
                z = np.array([-30.0, -5.0, -1.0, -0.25, 0.25, 1.0, 5.0, 30.0], dtype=dtype)
            out.append(dict(z=z, info=dict(shape=z.shape, dtype=np.dtype(dtype).name)))
        return out

    def extra_args(self, case):
        """Arguments after z (a parameter of the activation), drawn with the case."""
        return ()

    def run(self, fns, case):
        f, g = fns
        z, extra = case["z"], self.extra_args(case)
        out = {"f": call(f, z.copy(), *extra, what=self.name),
               "grad": call(g, z.copy(), *extra, what=f"{self.name}_grad")}
        if z.dtype == np.float64:
            h = 1e-6
            zp, zm = z + h, z - h
            fp = arr(call(f, zp, *extra, what=self.name), self.name)
            fm = arr(call(f, zm, *extra, what=self.name), self.name)
            if fp.shape == z.shape and fm.shape == z.shape:
                out["num"] = (fp.astype(np.float64) - fm) / (2 * h)
        return out

    def reference(self, case):
        """The activation and its derivative, as functions of z alone, for this case."""
        return course_module("activations").get(self.name)

    def judge(self, case, outputs):
        z = case["z"].astype(np.float64)
        f, g = self.reference(case)
        dt = case["z"].dtype.name
        msg = compare(f"{self.name}(z)", outputs["f"], f(z), dt, alts=self.forward_alts(z, case))
        if msg:
            return False, msg
        msg = compare(f"{self.name}_grad(z)", outputs["grad"], g(z), dt,
                      alts=self.derivative_alts(z, case) + wrong_derivatives(self.name, z, f))
        if msg:
            return False, msg
        if "num" in outputs:
            msg = numeric_msg(f"{self.name}_grad(z)", outputs["grad"], outputs["num"], self.name)
            if msg:
                return False, msg
        return True, ""

    def forward_alts(self, z, case):
        return ()

    def derivative_alts(self, z, case):
        return []


@register
class Sigmoid(_Activation):
    """sigmoid(z) = 1 / (1 + exp(-z)) and its derivative s (1 - s)."""

    name = "sigmoid"


@register
class Tanh(_Activation):
    """tanh(z) and its derivative 1 - tanh(z)**2."""

    name = "tanh"


@register
class Relu(_Activation):
    """relu(z) = max(0, z) and its derivative (1 for z > 0, else 0)."""

    name = "relu"
    kink = True


@register
class LeakyRelu(_Activation):
    """leaky_relu(z, alpha) and its derivative: the default slope 0.01 and others."""

    name = "leaky_relu"
    kink = True
    DEFAULT = 0.01

    def cases(self, rng):
        out = super().cases(rng)
        for k, c in enumerate(out):  # the first two cases leave alpha at its default
            if k >= 2:
                c["alpha"] = float(rng.choice([0.05, 0.1, 0.2, 0.3]))
                c["info"]["alpha"] = c["alpha"]
        return out

    def extra_args(self, case):
        return (case["alpha"],) if "alpha" in case else ()

    def reference(self, case):
        a = course_module("activations")
        alpha = case.get("alpha", self.DEFAULT)
        return (lambda z: a.leaky_relu(z, alpha)), (lambda z: a.leaky_relu_grad(z, alpha))

    def forward_alts(self, z, case):
        alpha = case.get("alpha", self.DEFAULT)
        out = []
        for a in (0.0, 0.01, 0.1, 0.2, 1.0):
            if a == alpha:
                continue
            label = f"the slope for z < 0 is {a:g}, it should be {alpha:g}"
            if a == self.DEFAULT:
                label += " (the alpha passed in is not used)"
            out.append((label, np.where(z > 0, z, a * z)))
        return out

    def derivative_alts(self, z, case):
        alpha = case.get("alpha", self.DEFAULT)
        if alpha == self.DEFAULT:
            return []
        return [(f"the slope for z < 0 is {self.DEFAULT:g}, it should be {alpha:g} (the "
                 "alpha passed in is not used)", np.where(z > 0, 1.0, self.DEFAULT))]

    def judge(self, case, outputs):
        ok, msg = super().judge(case, outputs)
        alpha = case.get("alpha", self.DEFAULT)
        if not ok and "leaky_relu_grad" in msg and "slope" not in msg and \
                outputs["grad"].shape == case["z"].shape:
            neg = case["z"] < 0
            if neg.any():
                slope = float(np.median(outputs["grad"][neg]))
                if abs(slope - alpha) > 1e-6:
                    msg += f"; for z < 0 your derivative is {slope:.4g}, it should be " \
                           f"{alpha:g}"
        return ok, msg

