"""Activation functions and their derivatives.

Every activation ``f`` acts element by element on an array ``z`` of any shape and has a
partner ``f_grad(z)`` giving ``df/dz`` at the same points. PReLU also takes its learnable
slope ``a`` (broadcast against ``z``), and maxout reduces groups of ``k`` along the last
axis. ``get(name)`` returns the pair ``(f, f_grad)`` of a registered activation.

``REGISTRY`` holds one entry per activation (:class:`Activation`); every other list of
activations in the course derives from it, so ``register`` is all a new one needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "step", "step_grad", "identity", "identity_grad", "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    "prelu", "prelu_grad", "abs_rect", "abs_rect_grad", "softplus", "softplus_grad",
    "square", "square_grad", "maxout", "maxout_grad", "get", "register", "names", "Activation",
    "REGISTRY", "NAMES", "ALL_NAMES", "PLAYGROUND",
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


def square(z):
    """Return z**2: a polynomial activation, the example of a unit that is not universal."""
    return np.asarray(z) * z


def square_grad(z):
    """Return 2z."""
    return 2 * np.asarray(z)


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


# The registry: every activation of the course, each by its one entry. MLP (through
# course.layers), the playground's menu, the plots and widgets, the grader's reference and
# its diagnoses all read it; ``register`` adds one.


@dataclass(frozen=True)
class Activation:
    """An activation: ``f(z, *params)``, its derivative ``grad``, and where the course uses it.

    gallery: listed in ``NAMES`` (the plots' and widgets' default list);
    playground: its label in the playground's menu (None: not offered there);
    he_init: ReLU-like, so MLP starts its layer with He's initialisation;
    piecewise_linear: MLP's linear regions (``activation_patterns``) can be counted.
    """

    name: str
    f: Callable
    grad: Callable
    gallery: bool = True
    playground: str | None = None
    he_init: bool = False
    piecewise_linear: bool = False


REGISTRY: dict[str, Activation] = {}


def register(name, f, grad, **where) -> Activation:
    """Add (or replace) the activation ``name``; ``where`` are :class:`Activation`'s flags."""
    REGISTRY[name] = Activation(name, f, grad, **where)
    return REGISTRY[name]


class _Names(Sequence):
    """The names of the registry's entries that have a flag, in order, as they are now."""

    def __init__(self, flag=None):
        self._flag = flag

    def _now(self):
        return tuple(n for n, a in REGISTRY.items() if self._flag is None or getattr(a, self._flag))

    def __getitem__(self, i):
        return self._now()[i]

    def __len__(self):
        return len(self._now())

    def __repr__(self):
        return repr(self._now())


class _Menu(Mapping):
    """The playground's menu as it is now: label -> activation name."""

    def _now(self):
        return {a.playground: n for n, a in REGISTRY.items() if a.playground}

    def __getitem__(self, label):
        return self._now()[label]

    def __iter__(self):
        return iter(self._now())

    def __len__(self):
        return len(self._now())

    def __repr__(self):
        return repr(self._now())


register("step", step, step_grad)
register("identity", identity, identity_grad, playground="linear")
register("sigmoid", sigmoid, sigmoid_grad, playground="sigmoid")
register("tanh", tanh, tanh_grad, playground="tanh")
register("relu", relu, relu_grad, playground="relu", he_init=True, piecewise_linear=True)
register("leaky_relu", leaky_relu, leaky_relu_grad, he_init=True, piecewise_linear=True)
register("prelu", prelu, prelu_grad, he_init=True, piecewise_linear=True)
register("abs", abs_rect, abs_rect_grad, he_init=True, piecewise_linear=True)
register("softplus", softplus, softplus_grad)
register("square", square, square_grad, gallery=False)
register("maxout", maxout, maxout_grad, gallery=False, he_init=True)

def names(flag=None) -> Sequence:
    """The registered names (those whose entry has ``flag`` set), always up to date."""
    return _Names(flag)


NAMES = _Names("gallery")  # the element-wise activations the plots and widgets show
ALL_NAMES = _Names()  # every registered activation (MLP accepts each)
PLAYGROUND = _Menu()  # the playground's menu: label -> name


def get(name):
    """Return the pair (f, f_grad) for an activation name."""
    try:
        entry = REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ALL_NAMES)}"
        ) from None
    return entry.f, entry.grad
