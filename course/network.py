"""A multilayer perceptron assembled from the layers in ``course.layers``.

``MLP([D, H1, ..., C])`` has L = len(sizes) - 1 affine layers with parameters
``W1 (D, H1), b1 (H1,), ..., WL (H_{L-1}, C), bL (C,)`` in the dict ``params``.
Hidden layers apply an activation (one name for all, or a list with one per hidden
layer); the output unit is matched to its loss:

=========  ==============================  =====================
output     unit applied to the scores      loss
=========  ==============================  =====================
linear     identity                        mean squared error
sigmoid    sigmoid (one unit)              binary cross-entropy
softmax    softmax (C units)               cross-entropy
=========  ==============================  =====================
"""

from __future__ import annotations

import numpy as np

from course import layers
from course.activations import names, sigmoid
from course.losses import bce_with_logits, mse, softmax, softmax_cross_entropy

__all__ = [
    "MLP", "OUTPUTS", "gradient_norms", "dead_units", "relu_interpolant",
    "sigmoid_staircase", "activation_patterns", "segment_points", "count_linear_regions",
    "width_for_budget",
]

OUTPUTS = {"linear": mse, "sigmoid": bce_with_logits, "softmax": softmax_cross_entropy}
_RELU_LIKE = names("he_init")  # from the registry of course.activations


class MLP:
    """Fully connected network: affine layers, hidden activations, a matched output unit.

    Parameters
    ----------
    sizes : [D, H1, ..., C] widths from input to output.
    hidden : activation name, or one name per hidden layer ("relu", "tanh", "sigmoid",
        "leaky_relu", "prelu", "abs", "softplus", "maxout", "identity", "step", "square").
    output : "linear" (MSE), "sigmoid" (binary cross-entropy) or "softmax" (cross-entropy).
    init : "he" (std sqrt(2 / fan_in)), "xavier" (std sqrt(2 / (fan_in + fan_out))), a
        number (that std for every weight), or None: He for ReLU-like layers, Xavier else.
    l1, l2 : weights of the penalties l1 * sum|W| and (l2 / 2) * sum W^2 on the weights.
    skip : add h_{l-1} to h_l for hidden layers whose input and output widths match.
    dtype : np.float64 or np.float32, used for parameters and computation.
    seed : seed of the initial weights.
    alpha : slope of leaky ReLU for z <= 0 and initial slope of PReLU.
    k : group size of maxout units (each hidden unit is the max over k affine units).
    dropout : probability p of dropping each hidden unit during training (inverted dropout,
        ``layers.dropout_forward``); ``loss`` uses it, ``forward`` and ``predict`` do not.
    """

    def __init__(self, sizes, hidden="relu", output="softmax", init=None, l1=0.0, l2=0.0,
                 skip=False, dtype=np.float64, seed=0, alpha=0.01, k=2, dropout=0.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive widths, got {sizes}")
        if output not in OUTPUTS:
            raise ValueError(f"unknown output unit {output!r}; choose one of {list(OUTPUTS)}")
        if output == "sigmoid" and sizes[-1] != 1:
            raise ValueError("a sigmoid output unit needs exactly one output (sizes[-1] == 1)")
        self.sizes, self.output = sizes, output
        self.L = len(sizes) - 1
        names = [hidden] * (self.L - 1) if isinstance(hidden, str) else list(hidden)
        if len(names) != self.L - 1:
            raise ValueError(f"{self.L - 1} hidden layers but {len(names)} activations given")
        for name in names:
            if name not in layers.ACTIVATION_NAMES:
                raise ValueError(f"unknown activation {name!r}")
        self.hidden = names
        self.l1, self.l2, self.skip = float(l1), float(l2), bool(skip)
        self.dtype, self.alpha, self.k = np.dtype(dtype), alpha, int(k)
        self.loss_fn = OUTPUTS[output]
        rng = np.random.default_rng(seed)
        self.params = {}
        for i in range(1, self.L + 1):
            fan_in, fan_out = sizes[i - 1], sizes[i]
            act = names[i - 1] if i < self.L else None
            width = fan_out * self.k if act == "maxout" else fan_out
            std = self._std(init, act, fan_in, fan_out)
            self.params[f"W{i}"] = (rng.standard_normal((fan_in, width)) * std).astype(self.dtype)
            self.params[f"b{i}"] = np.zeros(width, dtype=self.dtype)
            if act == "prelu":
                self.params[f"a{i}"] = np.full(fan_out, alpha, dtype=self.dtype)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        self._dropout_rng = np.random.default_rng(rng.integers(2 ** 63))  # after the weights
        self._caches = None

    @staticmethod
    def _std(init, act, fan_in, fan_out):
        if init is None:
            init = "he" if act in _RELU_LIKE else "xavier"
        if init == "he":
            return np.sqrt(2.0 / fan_in)
        if init == "xavier":
            return np.sqrt(2.0 / (fan_in + fan_out))
        if isinstance(init, (int, float)) and init >= 0:
            return float(init)
        raise ValueError(f"init must be 'he', 'xavier' or a non-negative std, got {init!r}")

    def _act_args(self, i, name):
        if name == "leaky_relu":
            return (self.alpha,)
        if name == "prelu":
            return (self.params[f"a{i}"],)
        if name == "maxout":
            return (self.k,)
        return ()

    def forward(self, X, keep_hidden=False, train=False):
        """Return the scores (N, C) before the output unit, keeping caches for ``backward``.

        With keep_hidden=True, also return the list of hidden activations [h1, ..., h_{L-1}].
        With train=True, hidden units are dropped with probability ``self.dropout``.
        """
        h = np.asarray(X, dtype=self.dtype)
        if h.ndim != 2 or h.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (N, {self.sizes[0]}), got {np.shape(X)}")
        p, caches, hs = self.params, [], []
        for i in range(1, self.L):
            z, fc = layers.affine_forward(h, p[f"W{i}"], p[f"b{i}"])
            name = self.hidden[i - 1]
            out, ac = layers.activation_forward(z, name, *self._act_args(i, name))
            residual = self.skip and out.shape == h.shape
            if residual:
                out = out + h
            drop = None
            if train and self.dropout:
                out, drop = layers.dropout_forward(out, self.dropout, self._dropout_rng)
            caches.append((fc, ac, residual, drop))
            h = out
            if keep_hidden:
                hs.append(h)
        scores, fc = layers.affine_forward(h, p[f"W{self.L}"], p[f"b{self.L}"])
        caches.append((fc, None, False, None))
        self._caches = caches
        return (scores, hs) if keep_hidden else scores

    def backward(self, dscores, input_grad=False):
        """Return the gradients of every parameter (a dict like ``params``) from dscores (N, C).

        The L1/L2 penalty gradients are added. With input_grad=True the dict also holds "X".
        """
        if self._caches is None:
            raise RuntimeError("call forward before backward")
        grads = {}
        dh = dscores
        for i in range(self.L, 0, -1):
            fc, ac, residual, drop = self._caches[i - 1]
            if drop is not None:
                dh = layers.dropout_backward(dh, drop)
            if ac is not None:
                dz = layers.activation_backward(dh, ac)
                if isinstance(dz, tuple):
                    dz, grads[f"a{i}"] = dz
            else:
                dz = dh
            need_dx = i > 1 or input_grad
            x, W = fc
            grads[f"W{i}"] = x.T @ dz
            grads[f"b{i}"] = dz.sum(axis=0)
            if need_dx:
                dx = dz @ W.T
                if residual:
                    dx += dh
                dh = dx
            if self.l2:
                grads[f"W{i}"] += self.l2 * W
            if self.l1:
                grads[f"W{i}"] += self.l1 * np.sign(W)
        if input_grad:
            grads["X"] = dh
        return grads

    def penalty(self):
        """Return the regularisation term l1 * sum|W| + (l2 / 2) * sum W^2 over all weights."""
        total = 0.0
        for i in range(1, self.L + 1):
            W = self.params[f"W{i}"]
            if self.l2:
                total += 0.5 * self.l2 * float(np.sum(W * W))
            if self.l1:
                total += self.l1 * float(np.sum(np.abs(W)))
        return total

    def loss(self, X, y):
        """Return (loss, grads): the mean loss plus penalty, and the gradient of every parameter."""
        scores = self.forward(X, train=True)
        self.scores = scores
        data_loss, dscores = self.loss_fn(scores, y)
        return data_loss + self.penalty(), self.backward(dscores)

    def predict_proba(self, X):
        """Return the output unit applied to the scores: probabilities, or values for 'linear'."""
        scores = self.forward(X)
        if self.output == "softmax":
            return softmax(scores, axis=1)
        if self.output == "sigmoid":
            return sigmoid(scores)
        return scores

    def predict(self, X):
        """Return class labels (N,) for classifiers, or the values (N, C) for regression."""
        return self.decide(self.forward(X))

    def decide(self, scores):
        """Turn scores into predictions: argmax, threshold at 0, or the values themselves."""
        if self.output == "softmax":
            return scores.argmax(axis=1)
        if self.output == "sigmoid":
            return (scores[:, 0] > 0).astype(np.int64)
        return scores

    def accuracy(self, X, y):
        """Return the fraction of examples classified correctly (classifiers only)."""
        if self.output == "linear":
            raise ValueError("accuracy is defined for classifiers, not a linear output unit")
        return float(np.mean(self.predict(X) == np.asarray(y).reshape(-1)))

    def hidden_activations(self, X):
        """Return the list of hidden-layer outputs [h1, ..., h_{L-1}], each (N, H_l)."""
        return self.forward(X, keep_hidden=True)[1]

    def num_parameters(self):
        """Return the total number of scalar parameters."""
        return int(sum(v.size for v in self.params.values()))

    def __repr__(self):
        return (f"MLP(sizes={self.sizes}, hidden={self.hidden}, output={self.output!r}, "
                f"dtype={self.dtype.name}, skip={self.skip}, l1={self.l1}, l2={self.l2})")


def gradient_norms(grads):
    """Return the Frobenius norm of dW for each layer, layer 1 first."""
    L = sum(1 for key in grads if key.startswith("W"))
    return [float(np.linalg.norm(grads[f"W{i}"])) for i in range(1, L + 1)]


def dead_units(model, X):
    """Return one boolean mask (H_l,) per hidden layer, True for units that are dead on X.

    A unit is dead when its activation is exactly 0 on every row of X (taken before any
    skip connection is added). A dead ReLU passes no gradient to its incoming weights on
    this data. Count the dead units of each layer with ``mask.sum()``.
    """
    h = np.asarray(X, dtype=model.dtype)
    masks = []
    for i, name in enumerate(model.hidden, start=1):
        z = h @ model.params[f"W{i}"] + model.params[f"b{i}"]
        out, _ = layers.activation_forward(z, name, *model._act_args(i, name))
        masks.append(np.all(out == 0, axis=0))
        h = out + h if model.skip and out.shape == h.shape else out
    return masks



# Constructions with hand-set weights, and linear regions (chapters 06 and 07).

def relu_interpolant(knots, values):
    """Return a one-hidden-layer ReLU MLP equal to the piecewise-linear interpolant.

    knots (K+1,) increasing, values (K+1,). Each knot t_j gets a hat function made of
    three ReLUs with kinks at t_{j-1}, t_j, t_{j+1} (one spacing is added beyond each end),
    so the network has H = 3(K+1) hidden units and, on [t_0, t_K], computes
    sum_j values[j] * hat_j(x) = np.interp(x, knots, values).
    """
    t = np.asarray(knots, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if len(t) < 2 or len(v) != len(t) or np.any(np.diff(t) <= 0):
        raise ValueError("need at least two increasing knots and one value per knot")
    ext = np.concatenate([[2 * t[0] - t[1]], t, [2 * t[-1] - t[-2]]])
    left, right = np.diff(ext)[:-1], np.diff(ext)[1:]  # spacing before / after each knot
    kinks = np.stack([ext[:-2], ext[1:-1], ext[2:]], axis=1).ravel()
    slopes = np.stack([1 / left, -(1 / left + 1 / right), 1 / right], axis=1)
    model = MLP([1, 3 * len(t), 1], hidden="relu", output="linear")
    model.params.update(W1=np.ones((1, 3 * len(t))), b1=-kinks,
                        W2=(slopes * v[:, None]).reshape(-1, 1), b2=np.zeros(1))
    return model


def sigmoid_staircase(knots, values, steepness):
    """Return a one-hidden-layer sigmoid MLP whose output is a smoothed staircase.

    knots (K+1,) increasing, values (K+1,). Hidden unit i (i = 1..K) is
    sigmoid(steepness * (x - m_i)) with m_i the midpoint of knots i-1 and i; its output
    weight is values[i] - values[i-1] and the output bias is values[0]. As the steepness
    grows, the output tends to values[j] on the stretch of x nearest to knot j.
    """
    t = np.asarray(knots, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if len(t) < 2 or len(v) != len(t) or np.any(np.diff(t) <= 0):
        raise ValueError("need at least two increasing knots and one value per knot")
    K = len(t) - 1
    mid = (t[:-1] + t[1:]) / 2
    model = MLP([1, K, 1], hidden="sigmoid", output="linear")
    model.params.update(W1=np.full((1, K), float(steepness)), b1=-steepness * mid,
                        W2=np.diff(v).reshape(K, 1), b2=v[:1].copy())
    return model


_PIECEWISE_LINEAR = names("piecewise_linear")


def activation_patterns(model, X):
    """Return the activation pattern of every row of X: a boolean array (N, sum of H_l).

    Entry (n, j) says whether hidden unit j (layers in order) has a positive
    pre-activation on row n. For piecewise-linear activations (relu, leaky_relu, prelu,
    abs) the network is affine on each set of inputs that share a pattern.
    """
    bad = [name for name in model.hidden if name not in _PIECEWISE_LINEAR]
    if bad:
        raise ValueError(f"activation patterns need piecewise-linear units "
                         f"{sorted(_PIECEWISE_LINEAR)}, got {bad}")
    h = np.asarray(X, dtype=model.dtype)
    signs = []
    for i, name in enumerate(model.hidden, start=1):
        z = h @ model.params[f"W{i}"] + model.params[f"b{i}"]
        signs.append(z > 0)
        out, _ = layers.activation_forward(z, name, *model._act_args(i, name))
        h = out + h if model.skip and out.shape == h.shape else out
    return np.concatenate(signs, axis=1)


def segment_points(start, end, num=10000):
    """Return `num` points (num, D) spread evenly along the segment from start to end.

    Point i sits at t = (i + 0.618...) / num of the way, an irrational offset, so that no
    point falls exactly on a kink of a network with round weights (such as 1/2 or 1/4),
    where a unit with pre-activation exactly 0 would look like a piece of its own.
    """
    start = np.atleast_1d(np.asarray(start, dtype=np.float64))
    end = np.atleast_1d(np.asarray(end, dtype=np.float64))
    t = (np.arange(int(num)) + (np.sqrt(5) - 1) / 2) / int(num)
    return start + t[:, None] * (end - start)


def count_linear_regions(model, start, end, num=10000):
    """Count the linear pieces of the network along the segment from start to end.

    Evaluates the activation pattern at the `num` points of ``segment_points`` and returns
    1 plus the number of times it changes between neighbours. Pieces shorter than the
    spacing (end - start) / num can be missed.
    """
    patterns = activation_patterns(model, segment_points(start, end, num))
    return 1 + int(np.count_nonzero(np.any(patterns[1:] != patterns[:-1], axis=1)))


def width_for_budget(D, C, depth, budget):
    """Return the largest width H with MLP([D] + [H] * depth + [C]) at most `budget` parameters.

    Raises ValueError when even width 1 is over budget.
    """
    def count(H):
        sizes = [D] + [H] * depth + [C]
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))

    if count(1) > budget:
        raise ValueError(f"{depth} hidden layers of width 1 already need {count(1)} > {budget}")
    H = 1
    while count(H + 1) <= budget:
        H += 1
    return H
