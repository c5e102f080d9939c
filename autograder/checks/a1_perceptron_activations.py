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

    def run(self, fns, c):
        res = call(fns[0], c["w"].copy(), c["b"], c["x"].copy(), c["t"], c["lr"])
        w, b = unpack(res, 2, "perceptron_update", "w, b")
        return {"w": w, "b": b}

    def judge(self, c, o):
        w, b = reference().perceptron_update(c["w"], c["b"], c["x"], c["t"], c["lr"])
        z = float(np.dot(c["w"], c["x"]) + c["b"])
        alts_w, alts_b = [], []
        wg, bg = reference().perceptron_update(c["w"], c["b"], c["x"], c["t"], c["lr"],
                                                threshold_ge=False)
        if z == 0:
            hint = "at w.x + b = 0 the prediction must be 1 (the step is 1 for z >= 0)"
            alts_w.append((hint, wg))
            alts_b.append((hint, np.asarray(bg)))
        y = 1.0 if z >= 0 else 0.0
        flip = (c["w"] - c["lr"] * (c["t"] - y) * c["x"], c["b"] - c["lr"] * (c["t"] - y))
        alts_w.append(("the update has the wrong sign; the rule is w += lr (t - y) x", flip[0]))
        alts_b.insert(0, ("the bias was not updated", np.asarray(c["b"])))
        alts_b.append(("the update has the wrong sign; the rule is b += lr (t - y)",
                       np.asarray(flip[1])))
        for label, got, want, alts in (("w", o["w"], w, alts_w), ("b", o["b"], b, alts_b)):
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

    def run(self, fns, c):
        res = call(fns[0], c["X"].copy(), c["t"].copy(), lr=c["lr"], epochs=c["epochs"])
        w, b = unpack(res, 2, "perceptron_train", "w, b")
        return {"w": w, "b": b}

    def judge(self, c, o):
        X, t, lr, E = c["X"], c["t"], c["lr"], c["epochs"]
        w, b = reference().perceptron_train(X, t, lr, E)
        alts = []
        for e, what in ((E - 1, "one epoch too few"), (E + 1, "one epoch too many")):
            we, be = reference().perceptron_train(X, t, lr, e)
            alts.append((f"matches {e} epochs: {what} (off by one in the epoch loop)", we, be))
        wg, bg = reference().perceptron_train(X, t, lr, E, threshold_ge=False)
        alts.append(("matches a step that is 0 at z = 0: predict 1 when w.x + b >= 0", wg, bg))
        got_w = o["w"].reshape(-1) if o["w"].size == w.size else o["w"]
        got_b = o["b"].reshape(()) if o["b"].size == 1 else o["b"]
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

    def extra_args(self):
        return ()

    def run(self, fns, c):
        f, g = fns
        z = c["z"]
        out = {"f": call(f, z.copy(), *self.extra_args(), what=self.name),
               "grad": call(g, z.copy(), *self.extra_args(), what=f"{self.name}_grad")}
        if z.dtype == np.float64:
            h = 1e-6
            zp, zm = z + h, z - h
            fp = arr(call(f, zp, *self.extra_args(), what=self.name), self.name)
            fm = arr(call(f, zm, *self.extra_args(), what=self.name), self.name)
            if fp.shape == z.shape and fm.shape == z.shape:
                out["num"] = (fp.astype(np.float64) - fm) / (2 * h)
        return out

    def judge(self, c, o):
        z = c["z"].astype(np.float64)
        f, g = course_module("activations").get(self.name)
        dt = c["z"].dtype.name
        msg = compare(f"{self.name}(z)", o["f"], f(z), dt, alts=self.forward_alts(z))
        if msg:
            return False, msg
        msg = compare(f"{self.name}_grad(z)", o["grad"], g(z), dt,
                      alts=wrong_derivatives(self.name, z, f))
        if msg:
            return False, msg
        if "num" in o:
            msg = numeric_msg(f"{self.name}_grad(z)", o["grad"], o["num"], self.name)
            if msg:
                return False, msg
        return True, ""

    def forward_alts(self, z):
        return ()


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
    """leaky_relu(z) with its default slope 0.01, and its derivative."""

    name = "leaky_relu"
    kink = True

    def forward_alts(self, z):
        out = []
        for a in (0.0, 0.1, 0.2, 1.0):
            out.append((f"the slope for z < 0 is {a}, it should be 0.01",
                        np.where(z > 0, z, a * z)))
        return out

    def judge(self, c, o):
        ok, msg = super().judge(c, o)
        if not ok and "leaky_relu_grad" in msg and o["grad"].shape == c["z"].shape:
            neg = c["z"] < 0
            if neg.any():
                slope = float(np.median(o["grad"][neg]))
                if abs(slope - 0.01) > 1e-6:
                    msg += f"; for z < 0 your derivative is {slope:.4g}, it should be 0.01"
        return ok, msg

