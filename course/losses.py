"""Losses, each returning ``(loss, dscores)``, and the softmax family.

``scores`` are the network's outputs before its output unit: shape ``(N, C)``, or
``(N,)`` / ``(N, 1)`` for one output. Every loss is a mean over the N examples, and
``dscores`` is the gradient of that mean, shaped like ``scores``. All of them stay
finite and correct for scores of magnitude 1e4.
"""

from __future__ import annotations

import numpy as np

from course.activations import sigmoid

__all__ = [
    "logsumexp", "softmax", "log_softmax", "mse", "bce_with_logits",
    "softmax_cross_entropy", "LOSSES", "get",
]


def logsumexp(z, axis=-1, keepdims=False):
    """Return log(sum(exp(z))) along an axis without overflow."""
    z = np.asarray(z)
    m = z.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(z, axis=-1):
    """Return exp(z) / sum(exp(z)) along an axis, shifted by the maximum for stability."""
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """Return z - logsumexp(z) along an axis (finite even where softmax underflows)."""
    z = np.asarray(z)
    return z - logsumexp(z, axis=axis, keepdims=True)


def _check_rows(scores, y):
    if len(scores) != len(y):
        raise ValueError(f"scores has {len(scores)} rows but targets have {len(y)}")
    if len(y) == 0:
        raise ValueError("cannot average a loss over an empty batch")


def _align(scores, y):
    scores = np.asarray(scores)
    y = np.asarray(y, dtype=scores.dtype)
    _check_rows(scores, y)
    if y.size != scores.size:
        raise ValueError(f"targets of shape {y.shape} do not fit scores of shape {scores.shape}")
    return scores, y.reshape(scores.shape)


def mse(scores, y):
    """Mean squared error (1 / 2N) sum ||scores - y||^2 and its gradient (scores - y) / N.

    Inputs: scores (N, C) or (N,), y of the same shape.
    Returns: loss (float), dscores shaped like scores.
    """
    scores, y = _align(scores, y)
    n = scores.shape[0]
    diff = scores - y
    return float(0.5 * np.sum(diff * diff) / n), diff / n


def bce_with_logits(scores, y):
    """Binary cross-entropy of sigmoid(scores) against 0/1 targets, and its gradient.

    Uses log(1 + exp(-|z|)) so that logits of any magnitude give a finite loss.
    Inputs: scores (N,) or (N, 1) logits, y (N,) or (N, 1) in {0, 1} (or in [0, 1]).
    Returns: loss (float), dscores = (sigmoid(scores) - y) / N shaped like scores.
    """
    scores, y = _align(scores, y)
    n = scores.shape[0]
    # -[y log s + (1-y) log(1-s)] = max(z, 0) - z y + log(1 + exp(-|z|))
    per = np.maximum(scores, 0) - scores * y + np.log1p(np.exp(-np.abs(scores)))
    return float(per.sum() / n), (sigmoid(scores) - y) / n


def softmax_cross_entropy(scores, y):
    """Softmax cross-entropy from logits, and its gradient.

    Inputs: scores (N, C) logits; y either integer labels (N,) in [0, C) or
    one-hot / probability targets (N, C).
    Returns: loss (float), dscores = (softmax(scores) - onehot(y)) / N, shape (N, C).
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (N, C), got {scores.shape}")
    y = np.asarray(y)
    _check_rows(scores, y)
    n, c = scores.shape
    logp = log_softmax(scores, axis=1)
    if y.ndim == 1:
        if not np.issubdtype(y.dtype, np.integer):
            if np.any(y != np.round(y)):
                raise ValueError("integer labels expected; pass one-hot targets as (N, C)")
            y = y.astype(np.int64)
        if y.min() < 0 or y.max() >= c:
            raise ValueError(f"labels must lie in [0, {c}), got [{y.min()}, {y.max()}]")
        loss = -logp[np.arange(n), y].sum() / n
        d = np.exp(logp)
        d[np.arange(n), y] -= 1
    elif y.shape == scores.shape:
        t = y.astype(scores.dtype)
        loss = -(t * logp).sum() / n
        d = np.exp(logp) * t.sum(axis=1, keepdims=True) - t
    else:
        raise ValueError(f"targets of shape {y.shape} do not fit scores of shape {scores.shape}")
    return float(loss), d / n


LOSSES = {"mse": mse, "bce": bce_with_logits, "cross_entropy": softmax_cross_entropy}


def get(name):
    """Return the loss function registered under a name."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
