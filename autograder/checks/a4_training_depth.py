"""Checks of assignment 4: training (momentum, minibatches) and depth.

Its known-bug variants, graded by the audit, are in
``autograder/bugs/a4_training_depth.py``.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.comparison import compare
from autograder.checks.framework import Check, course_module, draw_dtype, reference, register
from autograder.checks.guard import StudentError, arr, call, unpack


@register
class MomentumStep(Check):
    """momentum_step(w, dw, v, lr, beta): v <- beta v - lr dw; w <- w + v, over several steps."""

    name = "momentum_step"
    functions = ("momentum_step",)

    def cases(self, rng):
        out = []
        for k in range(4):
            shape = (int(rng.integers(2, 6)),) if k % 2 else \
                (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
            dtype = np.float64 if k < 3 else draw_dtype(rng)
            out.append(dict(w=rng.standard_normal(shape).astype(dtype),
                            A=rng.uniform(0.5, 2.0, shape).astype(dtype),
                            lr=float(rng.choice([0.05, 0.1, 0.2])),
                            beta=float(rng.choice([0.5, 0.8, 0.9])), steps=5,
                            info=dict(shape=shape, dtype=np.dtype(dtype).name)))
        return out

    def run(self, fns, case):
        w, v = case["w"].copy(), np.zeros_like(case["w"])
        ws, vs = [], []
        for _ in range(case["steps"]):
            given = (w.copy(), case["A"] * w, v.copy())
            kept = tuple(a.copy() for a in given)
            res = call(fns[0], *given, case["lr"], case["beta"], what="momentum_step")
            changed = [name for name, a, b in zip(("w", "dw", "v"), given, kept)
                       if not np.array_equal(a, b)]
            if changed:  # the text promises: do not change the arrays passed in
                raise StudentError(
                    f"momentum_step changed the array{'s' * (len(changed) > 1)} "
                    f"{', '.join(changed)} passed to it; return new arrays (w = w + v, not "
                    "w += v) and leave the arguments as they were")
            w, v = unpack(res, 2, "momentum_step", "w, v")
            w, v = arr(w, "w"), arr(v, "v")
            ws.append(w)
            vs.append(v)
            if w.shape != case["w"].shape or v.shape != case["w"].shape:
                break
        return {"ws": np.array(ws) if len({x.shape for x in ws}) == 1 else ws[0],
                "vs": np.array(vs) if len({x.shape for x in vs}) == 1 else vs[0]}

    def judge(self, case, outputs):
        w0, A, lr, beta, S = (case[k] for k in ("w", "A", "lr", "beta", "steps"))
        w0, A = w0.astype(np.float64), A.astype(np.float64)
        dt = case["w"].dtype.name
        ws, vs = reference().momentum_trajectory(w0, lambda w: A * w, np.zeros_like(w0), lr,
                                                  beta, S)
        wrong = []
        # v <- beta v + lr g; w <- w + v (ascent)
        v, w, a_ws = np.zeros_like(w0), w0, []
        for _ in range(S):
            v = beta * v + lr * A * w
            w = w + v
            a_ws.append(w)
        wrong.append(("the parameters move uphill: a sign error in v = beta v - lr dw or in "
                      "w = w + v", np.array(a_ws)))
        v, w, c_ws = np.zeros_like(w0), w0, []
        for _ in range(S):
            g = A * w
            w = w + v
            v = beta * v - lr * g
            c_ws.append(w)
        wrong.append(("w is updated with the old velocity: update v first, then w += v",
                      np.array(c_ws)))
        gd = [w0]
        for _ in range(S):
            gd.append(gd[-1] - lr * A * gd[-1])
        wrong.append(("plain gradient descent: the velocity (beta v) is not carried over",
                      np.array(gd[1:])))
        msg = compare(f"w over {S} steps", outputs["ws"], ws, dt, alts=wrong)
        if msg:
            return False, msg
        alts = [("v is -lr times the expected: this assignment uses v <- beta v - lr dw, "
                 "not v <- beta v + dw", vs / -lr)]
        msg = compare(f"v over {S} steps", outputs["vs"], vs, dt, alts=alts)
        return msg is None, msg or ""


@register
class Minibatches(Check):
    """minibatch_indices(N, batch_size, rng): shuffled batches covering every example once."""

    name = "minibatches"
    functions = ("minibatch_indices",)

    def cases(self, rng):
        out = []
        for N, B in ((20, 5), (23, 4), (int(rng.integers(30, 60)), int(rng.integers(3, 9))),
                     (7, 10)):
            out.append(dict(N=N, B=B, seed=int(rng.integers(2**31)), info=dict(N=N,
                                                                                batch_size=B)))
        return out

    @staticmethod
    def _batches(fn, N, B, seed):
        res = call(fn, N, B, np.random.default_rng(seed), what="minibatch_indices")
        batches = [arr(b, "a batch") for b in list(res)]
        return (np.concatenate([b.reshape(-1) for b in batches]) if batches
                else np.zeros(0, int)), np.array([b.size for b in batches])

    def run(self, fns, case):
        idx, sizes = self._batches(fns[0], case["N"], case["B"], case["seed"])
        # the shuffle must come from the rng passed in: the same state gives the same
        # batches, another state other batches
        again, _ = self._batches(fns[0], case["N"], case["B"], case["seed"])
        other, _ = self._batches(fns[0], case["N"], case["B"], case["seed"] + 1)
        return {"indices": idx, "sizes": sizes, "again": again, "other": other}

    def judge(self, case, outputs):
        N, B = case["N"], case["B"]
        idx, sizes = outputs["indices"].astype(np.int64), outputs["sizes"]
        want_sizes = [B] * (N // B) + ([N % B] if N % B else [])
        if len(idx) < N and sorted(set(idx.tolist())) == sorted(idx.tolist()) and \
                list(sizes) == [B] * (N // B):
            return False, (f"the batches cover {len(idx)} of the {N} examples: the last, "
                           "shorter batch is missing")
        if sorted(idx.tolist()) != list(range(N)):
            missing = N - len(set(idx.tolist()) & set(range(N)))
            return False, f"the batches must hold every index 0..N-1 exactly once " \
                          f"({missing} missing, {len(idx) - len(set(idx.tolist()))} repeated)"
        if list(sizes) != want_sizes:
            return False, f"batch sizes {list(sizes)}, expected {want_sizes}"
        if N >= 20 and np.array_equal(idx, np.arange(N)):
            return False, "the examples are not shuffled: use rng.permutation(N)"
        again, other = outputs.get("again"), outputs.get("other")
        if again is None or not np.array_equal(again, idx):
            return False, ("two calls with generators in the same state gave different "
                           "batches: draw the shuffle from the rng passed in "
                           "(rng.permutation(N)), not from np.random")
        if N >= 20 and (other is None or np.array_equal(other, idx)):
            return False, ("generators in different states gave the same batches: the rng "
                           "passed in is not used; shuffle with rng.permutation(N)")
        return True, ""


TARGET_ACCURACY = 0.93


@register
class TrainDigits(Check):
    """train_digits(X_train, y_train): a ReLU MLP reaching the target validation accuracy."""

    name = "train_digits"
    functions = ("train_digits",)
    depends = ("momentum_step", "minibatches")

    def cases(self, rng):
        from course.data import digits, split

        X, y = digits(seed=0)
        Xtr, ytr, Xva, yva, _, _ = split(X, y, (0.6, 0.2, 0.2), seed=int(rng.integers(2**31)))
        # features and class labels permuted: a network trained on any data but the
        # X_train, y_train passed in (the digits loaded again) cannot score
        cols, labels = rng.permutation(X.shape[1]), rng.permutation(10)
        return [dict(X=Xtr[:, cols], y=labels[ytr], Xval=Xva[:, cols], yval=labels[yva],
                     Xval_plain=Xva, yval_plain=yva,
                     info=dict(N_train=len(Xtr), N_val=len(Xva),
                               features_and_labels="permuted"))]

    def run(self, fns, case):
        params = call(fns[0], case["X"].copy(), case["y"].copy(), what="train_digits")
        if not isinstance(params, dict):
            raise StudentError("train_digits must return the dict of parameters W1, b1, ...")
        return {k: v for k, v in params.items() if isinstance(k, str) and k[:1] in "Wb"}

    def judge(self, case, outputs):
        L = len([k for k in outputs if k.startswith("W")])
        if L == 0 or any(f"{p}{i}" not in outputs for i in range(1, L + 1) for p in "Wb"):
            return False, "the parameters must be W1, b1, ..., WL, bL"
        try:
            scores = reference().relu_mlp_scores(
                case["Xval"], {k: v.astype(np.float64) for k, v in outputs.items()})
        except Exception as e:
            return False, f"the parameters do not form a network from 64 inputs to 10 " \
                          f"classes ({e})"
        if scores.shape != (len(case["Xval"]), 10):
            return False, f"the network gives scores of shape {scores.shape}, expected " \
                          f"(N, 10)"
        acc = float(np.mean(np.argmax(scores, axis=1) == case["yval"]))
        if not np.isfinite(scores).all() or acc < TARGET_ACCURACY:
            plain = reference().relu_mlp_scores(
                case["Xval_plain"], {k: v.astype(np.float64) for k, v in outputs.items()})
            if np.mean(np.argmax(plain, axis=1) == case["yval_plain"]) >= TARGET_ACCURACY:
                return False, (f"validation accuracy {acc:.3f}: the network was trained on "
                               "other data than the X_train, y_train passed in (here their "
                               "features and labels are permuted); train on the arguments")
            return False, (f"validation accuracy {acc:.3f}, below the target "
                           f"{TARGET_ACCURACY}: train longer, or tune the learning rate")
        return True, f"validation accuracy {acc:.3f}"


@register
class LayerGradientNorms(Check):
    """layer_gradient_norms(X, y, params, activation): ||dW_l|| for every layer, layer 1 first."""

    name = "layer_gradient_norms"
    functions = ("layer_gradient_norms",)

    def cases(self, rng):
        out = []
        for L, act in ((6, "sigmoid"), (int(rng.integers(3, 9)), str(rng.choice(
                ["sigmoid", "tanh", "relu"])))):
            N, D, H, C = int(rng.integers(4, 12)), int(rng.integers(3, 8)), \
                int(rng.integers(4, 10)), int(rng.integers(2, 5))
            sizes = [D] + [H] * (L - 1) + [C]
            params = {}
            for i in range(1, L + 1):
                params[f"W{i}"] = rng.standard_normal((sizes[i - 1], sizes[i])) / np.sqrt(
                    sizes[i - 1])
                params[f"b{i}"] = np.zeros(sizes[i])
            out.append(dict(X=rng.standard_normal((N, D)), y=rng.integers(0, C, N),
                            params=params, act=act, info=dict(L=L, activation=act)))
        return out

    def run(self, fns, case):
        P = {k: v.copy() for k, v in case["params"].items()}
        return {"norms": call(fns[0], case["X"].copy(), case["y"].copy(), P, case["act"],
                              what="layer_gradient_norms")}

    def judge(self, case, outputs):
        L_ = course_module("losses")
        scores, _ = reference().mlp(case["X"], case["params"], case["act"], None)
        _, d = L_.softmax_cross_entropy(scores, case["y"])
        _, grads = reference().mlp(case["X"], case["params"], case["act"], d)
        L = len(case["params"]) // 2
        want = np.array([np.linalg.norm(grads[f"W{i}"]) for i in range(1, L + 1)])
        got = outputs["norms"].reshape(-1) if outputs["norms"].size == L else outputs["norms"]
        alts = [("the order is reversed: layer 1 (next to the input) comes first", want[::-1])]
        msg = compare("the array of norms", got, want, alts=alts, tol=1e-6)
        return msg is None, msg or ""

