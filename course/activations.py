"""Activation functions and their derivatives.

Every activation ``f`` acts element by element on an array ``z`` of any shape and has a
partner ``f_grad(z)`` giving ``df/dz`` at the same points. PReLU also takes its learnable
slope ``a`` (broadcast against ``z``), and maxout reduces groups of ``k`` along the last
axis. ``get(name)`` returns the pair ``(f, f_grad)`` for every element-wise activation.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "step", "step_grad", "identity", "identity_grad", "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    "prelu", "prelu_grad", "abs_rect", "abs_rect_grad", "softplus", "softplus_grad",
    "maxout", "maxout_grad", "get", "NAMES",
]


def step(z):
    """Return 1 where z >= 0, else 0 (the threshold unit)."""
    return (np.asarray(z) >= 0).astype(np.result_type(z, np.float32))


def step_grad(z):
    """Return the derivative of the step, zero wherever it is defined."""
    return np.zeros_like(z, dtype=np.result_type(z, np.float32))


def identity(z):
    """Return z unchanged (the linear unit)."""
    return np.asarray(z)


def identity_grad(z):
    """Return ones shaped like z."""
    return np.ones_like(z, dtype=np.result_type(z, np.float32))


def sigmoid(z):
    """Return 1 / (1 + exp(-z)), stable for any magnitude of z."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(e.dtype, copy=False)


def sigmoid_grad(z):
    """Return sigmoid(z) * (1 - sigmoid(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Return the hyperbolic tangent of z."""
    return np.tanh(z)


def tanh_grad(z):
    """Return 1 - tanh(z)**2."""
    t = np.tanh(z)
    return 1.0 - t * t


def relu(z):
    """Return max(0, z)."""
    return np.maximum(z, 0)


def relu_grad(z):
    """Return 1 where z > 0, else 0 (the subgradient 0 is used at z = 0)."""
    return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))


def leaky_relu(z, alpha=0.01):
    """Return z where z > 0, else alpha * z."""
    z = np.asarray(z)
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z, alpha=0.01):
    """Return 1 where z > 0, else alpha."""
    z = np.asarray(z)
    dt = np.result_type(z, np.float32)
    return np.where(z > 0, np.asarray(1, dt), np.asarray(alpha, dt))


def prelu(z, a):
    """Return z where z > 0, else a * z, with a learnable slope a broadcast against z."""
    z = np.asarray(z)
    return np.where(z > 0, z, a * z)


def prelu_grad(z, a):
    """Return (df/dz, df/da) of PReLU, both shaped like z."""
    z = np.asarray(z)
    dt = np.result_type(z, np.float32)
    pos = z > 0
    dz = np.where(pos, np.asarray(1, dt), np.broadcast_to(np.asarray(a, dt), z.shape))
    da = np.where(pos, np.asarray(0, dt), z)
    return dz, da


def abs_rect(z):
    """Return |z| (absolute-value rectification)."""
    return np.abs(z)


def abs_rect_grad(z):
    """Return sign(z), with 0 at z = 0."""
    return np.sign(z).astype(np.result_type(z, np.float32))


def softplus(z):
    """Return log(1 + exp(z)), stable for any magnitude of z."""
    z = np.asarray(z)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def softplus_grad(z):
    """Return sigmoid(z), the derivative of softplus."""
    return sigmoid(z)


def _groups(z, k):
    z = np.asarray(z)
    if k < 1 or z.shape[-1] % k:
        raise ValueError(
            f"maxout needs the last axis ({z.shape[-1]}) to split into groups of k={k}"
        )
    return z.reshape(*z.shape[:-1], z.shape[-1] // k, k)


def maxout(z, k):
    """Return the maximum of each group of k along the last axis: (..., H*k) -> (..., H)."""
    return _groups(z, k).max(axis=-1)


def maxout_grad(z, k):
    """Return d maxout / dz: 1 at the (first) winner of each group, 0 elsewhere, shaped like z."""
    g = _groups(z, k)
    win = g.argmax(axis=-1)[..., None]
    mask = np.zeros_like(g, dtype=np.result_type(z, np.float32))
    np.put_along_axis(mask, win, 1, axis=-1)
    return mask.reshape(np.shape(z))


_TABLE = {
    "step": (step, step_grad),
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "prelu": (prelu, prelu_grad),
    "abs": (abs_rect, abs_rect_grad),
    "softplus": (softplus, softplus_grad),
}

NAMES = tuple(_TABLE)


def get(name):
    """Return the pair (f, f_grad) for an activation name."""
    try:
        return _TABLE[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(NAMES)} (or 'maxout')"
        ) from None
