"""Checks of assignment 2: softmax, log-softmax and the losses.

Its known-bug variants, graded by the audit, are in
``autograder/bugs/a2_losses.py``.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.comparison import compare, numeric_grad, numeric_msg
from autograder.checks.framework import Check, course_module, draw_dtype, register
from autograder.checks.guard import arr, call, unpack


def _logits(rng, dtype, big=False):
    N, C = int(rng.integers(2, 7)), int(rng.integers(2, 6))
    z = rng.standard_normal((N, C)) * 2
    if big:  # at least one logit per row above 800: exp overflows without the shift
        z = z * 300 + 1000
        z[:, 0] = np.maximum(z[:, 0], 900)
    return z.astype(dtype)


def _loss_cases(rng, k_total=5):
    out = []
    for k in range(k_total):
        dtype = np.float64 if k < 3 else draw_dtype(rng)
        z = _logits(rng, dtype, big=(k == 2))
        out.append(dict(z=z, info=dict(N=z.shape[0], C=z.shape[1], dtype=z.dtype.name,
                                       logits="large (~1e3)" if k == 2 else "moderate")))
    return out


def _unstable(label, got, big, fix):
    if big and not np.all(np.isfinite(got)):
        return f"{label} has nan/inf for logits of magnitude ~1e3: numerically unstable; {fix}"
    return None


SHIFT_FIX = "subtract the row maximum before exp"


class _RowwiseCheck(Check):
    """A function applied row by row to (N, C) logits, judged against a reference in
    ``course.losses`` called ``ref``, including logits too large for a naive formula."""

    ref, label, key, fix, axis_hint = "", "", "", "", ""

    def cases(self, rng):
        return _loss_cases(rng)

    def run(self, fns, case):
        return {self.key: call(fns[0], case["z"].copy())}

    def judge(self, case, outputs):
        ref = getattr(course_module("losses"), self.ref)
        z = case["z"].astype(np.float64)
        msg = _unstable(self.label, outputs[self.key], "large" in case["info"]["logits"], self.fix)
        if msg:
            return False, msg
        alts = [(self.axis_hint, ref(z, axis=0))]
        msg = compare(self.label, outputs[self.key], ref(z), case["z"].dtype.name, alts=alts)
        return msg is None, msg or ""


@register
class Softmax(_RowwiseCheck):
    """softmax(z) row by row for (N, C) logits, including very large logits."""

    name = "softmax"
    functions = ("softmax",)
    ref, label, key, fix = "softmax", "softmax(z)", "p", SHIFT_FIX
    axis_hint = "normalised over the wrong axis: each ROW must sum to 1"


@register
class SoftmaxBackward(Check):
    """softmax_backward(dout, p): the gradient through softmax, given its output p."""

    name = "softmax_backward"
    functions = ("softmax", "softmax_backward")
    depends = ("softmax",)

    def cases(self, rng):
        out = []
        for c in _loss_cases(rng, 4):
            c["dout"] = rng.standard_normal(c["z"].shape).astype(c["z"].dtype)
            c["info"]["logits"] = "moderate"
            c["z"] = c["z"] / 100 if np.abs(c["z"]).max() > 100 else c["z"]
            out.append(c)
        return out

    def run(self, fns, case):
        sm, back = fns
        p = arr(call(sm, case["z"].copy(), what="softmax"), "softmax(z)")
        out = {"dz": call(back, case["dout"].copy(), p, what="softmax_backward")}
        if case["z"].dtype == np.float64:
            z = case["z"].copy()
            out["num"] = numeric_grad(lambda: call(sm, z, what="softmax"), z, case["dout"])
        return out

    def judge(self, case, outputs):
        L = course_module("losses")
        z = case["z"].astype(np.float64)
        p, d = L.softmax(z), case["dout"].astype(np.float64)
        want = p * (d - np.sum(d * p, axis=1, keepdims=True))
        alts = [("only the diagonal of the Jacobian: dout * p * (1 - p) misses the "
                 "-p_i p_j terms", d * p * (1 - p))]
        msg = compare("dz", outputs["dz"], want, case["z"].dtype.name, alts=alts)
        if not msg and "num" in outputs:
            msg = numeric_msg("dz", outputs["dz"], outputs["num"], "softmax")
        return msg is None, msg or ""


@register
class LogSoftmax(_RowwiseCheck):
    """log_softmax(z) row by row, finite even where softmax underflows."""

    name = "log_softmax"
    functions = ("log_softmax",)
    ref, label, key = "log_softmax", "log_softmax(z)", "lp"
    fix = "compute z - max - log(sum(exp(z - max))) instead of log(softmax(z))"
    axis_hint = "normalised over the wrong axis (columns instead of rows)"


def _loss_run(fn, what, scores, y):
    res = call(fn, scores.copy(), y.copy(), what=what)
    loss, d = unpack(res, 2, what, "loss, dscores")
    out = {"loss": loss, "dscores": d}
    if scores.dtype == np.float64 and np.max(np.abs(scores)) < 100:  # meaningful there
        s = scores.copy()

        def f():
            return unpack(call(fn, s, y.copy(), what=what), 2, what, "loss, dscores")[0]

        out["num"] = numeric_grad(f, s, np.float64(1.0))
    return out


def _loss_judge(case, outputs, ref, name, big_fix, alts_fn):
    z = case["z"].astype(np.float64)
    big = "large" in case["info"]["logits"]
    N = z.shape[0]
    loss, d = ref(z, case["y"])
    dt = case["z"].dtype.name
    for label, got in (("loss", outputs["loss"]), ("dscores", outputs["dscores"])):
        msg = _unstable(f"the {label}", got, big, big_fix)
        if msg:
            return False, msg
    got_loss = outputs["loss"].reshape(()) if outputs["loss"].size == 1 else outputs["loss"]
    msg = compare("the loss", got_loss, np.asarray(loss), dt, n=N, alts=alts_fn(z, "loss"))
    if msg:
        return False, msg
    msg = compare("dscores", outputs["dscores"], d, dt, n=N, alts=alts_fn(z, "grad"))
    if not msg and "num" in outputs:
        msg = numeric_msg("dscores", outputs["dscores"], outputs["num"], name)
    return msg is None, msg or ""


@register
class SoftmaxCrossEntropy(Check):
    """Mean softmax cross-entropy from logits and integer labels, and its gradient."""

    name = "softmax_cross_entropy"
    functions = ("softmax_cross_entropy",)
    depends = ("log_softmax",)

    def cases(self, rng):
        out = _loss_cases(rng)
        for c in out:
            c["y"] = rng.integers(0, c["z"].shape[1], c["z"].shape[0])
        return out

    def run(self, fns, case):
        return _loss_run(fns[0], self.name, case["z"], case["y"])

    def judge(self, case, outputs):
        L = course_module("losses")
        y = case["y"]

        def alts(z, which):
            N = z.shape[0]
            p = L.softmax(z)
            onehot = np.eye(z.shape[1])[y]
            if which == "grad":
                return [("dscores = p - onehot(y) without the 1/N; the loss is a mean",
                         p - onehot),
                        ("dscores = onehot(y) - p: wrong sign", (onehot - p) / N),
                        ("subtracted 1 from every entry of p instead of only at the label",
                         (p - 1) / N)]
            return [("the loss is summed, not averaged over the N examples",
                     np.asarray(-L.log_softmax(z)[np.arange(N), y].sum()))]

        return _loss_judge(case, outputs, L.softmax_cross_entropy, self.name,
                           "use log_softmax (z - max - logsumexp) rather than log(softmax)", alts)


@register
class BceWithLogits(Check):
    """Mean binary cross-entropy of sigmoid(scores) from logits (N,), and its gradient."""

    name = "bce_with_logits"
    functions = ("bce_with_logits",)

    def cases(self, rng):
        out = []
        for c in _loss_cases(rng):
            z = c["z"][:, 0].copy()
            c.update(z=z, y=rng.integers(0, 2, z.shape[0]).astype(z.dtype))
            c["info"].pop("C")
            out.append(c)
        return out

    def run(self, fns, case):
        return _loss_run(fns[0], self.name, case["z"], case["y"])

    def judge(self, case, outputs):
        L = course_module("losses")
        a = course_module("activations")

        def alts(z, which):
            N = z.shape[0]
            s = a.sigmoid(z)
            if which == "grad":
                return [("dscores = sigmoid(z) - y without the 1/N", s - case["y"]),
                        ("wrong sign: dscores = (sigmoid(z) - y) / N", (case["y"] - s) / N)]
            return []

        return _loss_judge(case, outputs, L.bce_with_logits, self.name,
                           "use max(z, 0) - z*y + log(1 + exp(-|z|)) instead of log(sigmoid(z))",
                           alts)

