"""Forward and backward passes of the layers, one pair per operation.

Each operation is a pair in the same style::

    out, cache = x_forward(...)
    grads = x_backward(dout, cache)

``cache`` holds what the backward pass needs and nothing else; ``dout`` is the
gradient of the loss with respect to ``out`` and has its shape. Shapes use N (batch),
D (inputs), H (outputs of a layer).
"""

from __future__ import annotations

import numpy as np

from course import activations as act

__all__ = [
    "affine_forward", "affine_backward",
    "activation_forward", "activation_backward",
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "prelu_forward", "prelu_backward", "abs_forward", "abs_backward",
    "softplus_forward", "softplus_backward", "step_forward", "step_backward",
    "identity_forward", "identity_backward", "maxout_forward", "maxout_backward",
    "dropout_forward", "dropout_backward", "square_forward", "square_backward",
]


def affine_forward(x, W, b):
    """Compute out = x @ W + b.

    Inputs: x (N, D), W (D, H), b (H,).
    Returns: out (N, H), cache (x, W).
    """
    out = x @ W
    out += b
    return out, (x, W)


def affine_backward(dout, cache):
    """Backward pass of the affine layer.

    Inputs: dout (N, H), cache (x, W) from ``affine_forward``.
    Returns: dx (N, D) = dout @ W.T, dW (D, H) = x.T @ dout, db (H,) = column sums of dout.
    """
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


# Element-wise activations: out = f(z); dz = dout * f'(z).

def sigmoid_forward(z):
    """Apply the sigmoid; the cache is the output, from which s(1 - s) follows."""
    out = act.sigmoid(z)
    return out, out


def sigmoid_backward(dout, cache):
    """Return dz = dout * s * (1 - s), with s the cached output."""
    s = cache
    return dout * s * (1 - s)


def tanh_forward(z):
    """Apply tanh; the cache is the output t, from which 1 - t^2 follows."""
    out = np.tanh(z)
    return out, out


def tanh_backward(dout, cache):
    """Return dz = dout * (1 - t^2), with t the cached output."""
    t = cache
    return dout * (1 - t * t)


def relu_forward(z):
    """Apply max(0, z); the cache is the output (positive exactly where z > 0)."""
    out = np.maximum(z, 0)
    return out, out


def relu_backward(dout, cache):
    """Return dz = dout where z > 0, else 0."""
    return dout * (cache > 0)


def leaky_relu_forward(z, alpha=0.01):
    """Apply the leaky ReLU with slope alpha for z <= 0."""
    return act.leaky_relu(z, alpha), (z, alpha)


def leaky_relu_backward(dout, cache):
    """Return dz = dout * (1 where z > 0, else alpha)."""
    z, alpha = cache
    return np.where(z > 0, dout, alpha * dout)


def prelu_forward(z, a):
    """Apply PReLU with a learnable slope per unit.

    Inputs: z (N, H), a (H,).
    Returns: out (N, H), cache (z, a).
    """
    return act.prelu(z, a), (z, a)


def prelu_backward(dout, cache):
    """Backward pass of PReLU.

    Returns: dz (N, H), da (H,) = sum over the batch of dout * z where z <= 0.
    """
    z, a = cache
    neg = z <= 0
    dz = np.where(neg, a * dout, dout)
    da = (dout * z * neg).sum(axis=0)
    return dz, np.reshape(da, np.shape(a))


def abs_forward(z):
    """Apply absolute-value rectification |z|."""
    return np.abs(z), z


def abs_backward(dout, cache):
    """Return dz = dout * sign(z)."""
    return dout * np.sign(cache)


def softplus_forward(z):
    """Apply softplus log(1 + exp(z)), stably."""
    return act.softplus(z), z


def softplus_backward(dout, cache):
    """Return dz = dout * sigmoid(z)."""
    return dout * act.sigmoid(cache)


def square_forward(z):
    """Apply z^2: a polynomial activation, the example of a unit that is not universal."""
    return z * z, z


def square_backward(dout, cache):
    """Return dz = dout * 2z."""
    return 2 * cache * dout


def step_forward(z):
    """Apply the threshold unit; its gradient is zero almost everywhere."""
    return act.step(z), z


def step_backward(dout, cache):
    """Return zeros: no gradient flows through a step."""
    return np.zeros_like(dout)


def identity_forward(z):
    """Return z unchanged."""
    return z, None


def identity_backward(dout, cache):
    """Return dout unchanged."""
    return dout


def maxout_forward(z, k):
    """Take the maximum over groups of k units.

    Inputs: z (N, H*k), k (int).
    Returns: out (N, H), cache (win, shape): win (N, H, 1) the index of each group's
    winner within its group, shape the grouped shape (N, H, k).
    """
    g = act._groups(z, k)
    win = g.argmax(axis=-1)[..., None]
    out = np.take_along_axis(g, win, axis=-1)[..., 0]
    return out, (win, g.shape)


def maxout_backward(dout, cache):
    """Route each dout to the winner of its group: dz (N, H*k)."""
    win, shape = cache
    dg = np.zeros(shape, dtype=dout.dtype)
    np.put_along_axis(dg, win, dout[..., None], axis=-1)
    return dg.reshape(*shape[:-2], shape[-2] * shape[-1])


def dropout_forward(x, p, seed=None, train=True):
    """Inverted dropout: zero each entry with probability p, scale the survivors by 1/(1 - p).

    Inputs: x (N, H); p in [0, 1), the probability of dropping a unit; seed, an int or a
    numpy Generator for the mask; train, False at test time (then out = x).
    Returns: out (N, H), cache mask (N, H) holding 0 or 1/(1 - p), or None at test time.
    The expected value of out equals x, so nothing needs rescaling at test time.
    """
    if not 0 <= p < 1:
        raise ValueError(f"the drop probability p must be in [0, 1), got {p!r}")
    if not train or p == 0:
        return x, None
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mask = (rng.random(x.shape) >= p) / (1 - p)
    mask = mask.astype(x.dtype, copy=False)
    return x * mask, mask


def dropout_backward(dout, cache):
    """Backward pass of inverted dropout: dx (N, H) = dout * mask (dout itself at test time)."""
    mask = cache
    return dout if mask is None else dout * mask


# The layer functions written out above, by activation name. The names themselves come
# from the registry (course.activations): an activation registered without layer functions
# here gets the generic pair below, out = f(z, *args) and dz = dout * f'(z, *args).
_LAYER_FUNCTIONS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "prelu": (prelu_forward, prelu_backward),
    "abs": (abs_forward, abs_backward),
    "softplus": (softplus_forward, softplus_backward),
    "step": (step_forward, step_backward),
    "square": (square_forward, square_backward),
    "identity": (identity_forward, identity_backward),
    "maxout": (maxout_forward, maxout_backward),
}

ACTIVATION_NAMES = act.ALL_NAMES  # every registered activation, as registered now


def _generic_pair(name):
    f, f_grad = act.get(name)

    def forward(z, *args):
        return f(z, *args), (z, args)

    def backward(dout, cache):
        z, args = cache
        return dout * f_grad(z, *args)

    return forward, backward


def _pair(name):
    if name not in act.REGISTRY:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATION_NAMES)}")
    return _LAYER_FUNCTIONS.get(name) or _generic_pair(name)


def activation_forward(z, name, *args):
    """Apply the activation called ``name`` (extra args: alpha, a or k); returns (out, cache)."""
    out, cache = _pair(name)[0](z, *args)
    return out, (name, cache)


def activation_backward(dout, cache):
    """Backward pass of ``activation_forward``: dz, or (dz, da) for PReLU."""
    name, inner = cache
    return _pair(name)[1](dout, inner)
