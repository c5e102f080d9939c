"""The MLP of a5_autodiff seen from the checks: parameters in order, outputs, training.

``mlp_scores`` computes the outputs with plain floats (the judge) or with a Value class
(a graph); the parameters are listed layer by layer, neuron by neuron, each neuron's
weights then its bias, as ``MLP.parameters()`` must list them.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.autodiff_judge import engine
from autograder.checks.guard import StudentError

__all__ = ["n_params", "mlp_scores", "set_parameters", "outputs_of", "mlp_cases",
           "hinge_trajectory", "accuracy"]


def n_params(nin, nouts):
    """Number of parameters of an MLP: every neuron has one weight per input and a bias."""
    sizes = [nin] + list(nouts)
    return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))


def mlp_scores(flat, nin, nouts, X, V=float, last_tanh=False, bias_first=False):
    """Outputs of the MLP with parameters listed layer by layer, neuron by neuron,
    weights then bias; V is float (numbers) or a Value class (a graph)."""
    flat = list(flat)
    sizes = [nin] + list(nouts)
    layers, k = [], 0
    for i in range(len(nouts)):
        neurons = []
        for _ in range(sizes[i + 1]):
            chunk = flat[k:k + sizes[i] + 1]
            k += sizes[i] + 1
            w, b = (chunk[1:], chunk[0]) if bias_first else (chunk[:-1], chunk[-1])
            neurons.append((w, b))
        layers.append(neurons)
    tanh = math.tanh if V is float else (lambda v: v.tanh())
    outs = []
    for x in X:
        h = [V(float(v)) if V is not float else float(v) for v in x]
        for i, neurons in enumerate(layers):
            z = []
            for w, b in neurons:
                act = b
                for wi, hi in zip(w, h):
                    act = act + wi * hi
                z.append(tanh(act) if (i < len(layers) - 1 or last_tanh) else act)
            h = z
        outs.append(h)
    return outs


def set_parameters(model, flat, nin, nouts):
    ps = list(model.parameters())
    want = n_params(nin, nouts)
    if len(ps) != want:
        raise StudentError(f"MLP({nin}, {list(nouts)}).parameters() returns {len(ps)} values, "
                           f"expected {want}: every neuron has one weight per input and a "
                           "bias")
    for p, v in zip(ps, flat):
        p.data = float(v)
        p.grad = 0.0
    return ps


def outputs_of(y, C):
    ys = y if isinstance(y, (list, tuple)) else [y]
    if len(ys) != C:
        raise StudentError(f"the MLP returns {len(ys)} outputs, expected {C}")
    return ys


def mlp_cases(rng):
    out = []
    for nin, nouts in ((2, [3, 1]), (3, [4, 4, 1]), (int(rng.integers(2, 5)), [3, 2])):
        P = n_params(nin, nouts)
        out.append(dict(nin=nin, nouts=nouts, flat=rng.uniform(-1, 1, P),
                        X=rng.uniform(-1.5, 1.5, (3, nin)), r=rng.uniform(-1, 1, (3, nouts[-1])),
                        info=dict(nin=nin, nouts=nouts)))
    return out


def hinge_trajectory(flat, nin, nouts, X, y, lr, steps, mistake=None):
    """Losses and parameters of gradient descent on the mean hinge loss (trusted engine)."""
    V = engine().Value
    flat = np.array(flat, dtype=np.float64)
    acc = np.zeros_like(flat)
    losses, params = [], []
    for _ in range(steps):
        ps = [V(float(v)) for v in flat]
        outs = mlp_scores(ps, nin, nouts, X, V=V)
        terms = [(1 - float(t) * o[0]).relu() for o, t in zip(outs, y)]
        loss = sum(terms[1:], terms[0])
        if mistake != "sum":
            loss = loss * (1.0 / len(terms))
        loss.backward()
        g = np.array([p.grad for p in ps])
        acc = acc + g if mistake == "no_zero_grad" else g
        flat = flat + lr * acc if mistake == "ascent" else flat - lr * acc
        losses.append(loss.data)
        params.append(flat.copy())
    return np.array(losses), np.array(params)


def accuracy(scores, y) -> float:
    """The fraction of the scores that have the sign of their label in y."""
    return float(np.mean(np.where(scores > 0, 1.0, -1.0) == y))
