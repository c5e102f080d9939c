"""The instructor's reference for what the ``course`` package does not hold itself.

Only the grader's judging code uses this module (the course's own answers are in
``course``), in the grader's own process. It is one of the answer modules
(:data:`autograder.sandbox.forbidden.FORBIDDEN_MODULES`): the sandbox takes it off the kernel's
file system, and in a student's own Jupyter a graded function that calls it fails
(:mod:`autograder.checks.guard`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["perceptron_update", "perceptron_train", "mlp", "smooth_function_grad",
           "momentum_trajectory", "relu_mlp_scores"]


def perceptron_update(w, b, x, t, lr, threshold_ge=True):
    """One perceptron step (threshold_ge=False gives the common slip: 0 at w.x + b = 0)."""
    z = float(np.dot(w, x) + b)
    y = 1.0 if (z >= 0 if threshold_ge else z > 0) else 0.0
    return w + lr * (t - y) * x, b + lr * (t - y)


def perceptron_train(X, t, lr, epochs, **kw):
    """Train from zeros over the rows of X in order, epochs times."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x, ti in zip(X, t):
            w, b = perceptron_update(w, b, x, ti, lr, **kw)
    return w, b


def mlp(X, params, act, dscores, mistake=None):
    """Scores and gradients of the MLP, optionally with a known mistake (for diagnoses)."""
    from course import activations

    f, g = activations.get(act)
    L = len(params) // 2
    hs, zs = [X], []
    for i in range(1, L + 1):
        z = hs[-1] @ params[f"W{i}"] + params[f"b{i}"]
        zs.append(z)
        if i < L:
            hs.append(f(z))
    if dscores is None:
        return zs[-1], None
    grads, dh = {}, dscores
    for i in range(L, 0, -1):
        dz = dh
        if i < L:
            if mistake == ("skip", i):
                pass
            elif mistake == "at_output":
                dz = dh * g(hs[i])
            else:
                dz = dh * g(zs[i - 1])
        grads[f"W{i}"] = hs[i - 1].T @ dz
        grads[f"b{i}"] = dz.sum(axis=0)
        dh = dz @ params[f"W{i}"].T
    return zs[-1], grads


def smooth_function_grad(kind, A, x):
    """Gradient of ``autograder.checks.a3_backprop._fn_value``, the functions that
    ``numerical_gradient`` differentiates."""
    if kind == "cubic":
        return 3 * A * x ** 2 + 2 * np.sum(x)
    if kind == "sin":
        return 3 * A * np.cos(A * x) + 2 * x
    e = np.exp(A * x - np.max(A * x))
    return 5 * A * e / e.sum()


def momentum_trajectory(w, g_fn, v, lr, beta, steps):
    """Parameters and velocities of ``steps`` momentum updates v = beta v - lr g, w = w + v."""
    ws, vs = [], []
    for _ in range(steps):
        v = beta * v - lr * g_fn(w)
        w = w + v
        ws.append(w)
        vs.append(v)
    return np.array(ws), np.array(vs)


def relu_mlp_scores(X, params):
    """Scores of a ReLU MLP with parameters W1, b1, ..., WL, bL."""
    L = len([k for k in params if k.startswith("W")])
    h = X
    for i in range(1, L + 1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < L:
            h = np.maximum(h, 0)
    return h
