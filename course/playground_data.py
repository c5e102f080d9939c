"""The playground's data sets and input features, in the plane [-EXTENT, EXTENT]^2.

``make_data``: circle, XOR, two Gaussians, spiral (two arms) and a three-arm spiral
(classification); plane (target (x1 + x2) / 10) and multi-Gaussian (six signed bumps,
targets in [-1, 1]) for regression. ``FEATURES`` and ``feature_matrix``: the input
features x1, x2, x1^2, x2^2, x1*x2, sin x1, sin x2. ``grid_points``: the points a picture
of the plane is drawn at. ``split``: the training and test points. Used by
:mod:`course.playground`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EXTENT", "DATASETS", "CLASSIFICATION", "REGRESSION", "FEATURES", "make_data",
           "feature_matrix", "grid_points", "split"]

EXTENT = 6.0
"""The inputs x1 and x2 of every data set and picture lie in [-EXTENT, EXTENT]."""


# Data sets. Each sampler takes (n, noise, rng); noise is a fraction in [0, 0.5].

def _uniform(rng, n, low, high):
    return rng.uniform(low, high, size=n)


def _circle(n, noise, rng):
    """Inner disc (label 1, radius < 2.5) and outer ring (label 0, radius 3.5 to 5)."""
    radius = 5.0
    n_in = n // 2
    r = np.concatenate([_uniform(rng, n_in, 0, 0.5 * radius),
                        _uniform(rng, n - n_in, 0.7 * radius, radius)])
    angle = _uniform(rng, n, 0, 2 * np.pi)
    X = np.c_[r * np.sin(angle), r * np.cos(angle)]
    shifted = X + _uniform(rng, (n, 2), -radius, radius) * noise
    y = (np.hypot(shifted[:, 0], shifted[:, 1]) < 0.5 * radius).astype(np.int64)
    return X, y


def _xor(n, noise, rng):
    """Points away from the axes; label 1 where x1 * x2 >= 0 (after the noise)."""
    X = _uniform(rng, (n, 2), -5, 5)
    X += np.where(X > 0, 0.3, -0.3)
    shifted = X + _uniform(rng, (n, 2), -5, 5) * noise
    y = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return X, y


def _gauss(n, noise, rng):
    """Two Gaussians at (2, 2) (label 1) and (-2, -2) (label 0); spread grows with noise."""
    std = np.sqrt(0.5 + 7.0 * noise)  # variance 0.5 without noise, 4 at the most (0.5)
    n_pos = n // 2
    y = np.r_[np.ones(n_pos, dtype=np.int64), np.zeros(n - n_pos, dtype=np.int64)]
    centre = np.where(y[:, None] == 1, 2.0, -2.0)
    return centre + std * rng.standard_normal((n, 2)), y


def _spiral(n, noise, rng, arms=2):
    """`arms` interleaved spirals of radius 5, arm k has label k."""
    X, y = [], []
    for k in range(arms):
        m = n // arms + (k < n % arms)
        t = np.arange(m) / m
        r = 5.0 * t
        angle = 1.75 * 2 * np.pi * t + 2 * np.pi * k / arms
        pts = np.c_[r * np.sin(angle), r * np.cos(angle)]
        X.append(pts + _uniform(rng, (m, 2), -1, 1) * noise * 5)
        y.append(np.full(m, (k + 1) % 2 if arms == 2 else k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


def _plane_label(X):
    return ((X[:, 0] + X[:, 1]) / 10.0)[:, None]


def _plane(n, noise, rng):
    """Regression target (x1 + x2) / 10 of the noisy point, for points in [-6, 6]^2."""
    X = _uniform(rng, (n, 2), -EXTENT, EXTENT)
    return X, _plane_label(X + _uniform(rng, (n, 2), -EXTENT, EXTENT) * noise)


GAUSSIANS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))
"""Centres and signs of the six bumps of the multi-Gaussian regression set."""


def _multi_gauss_label(X):
    """Signed bump of the nearest centre: sign * max(0, 1 - distance / 2)."""
    label = np.zeros(len(X))
    for cx, cy, sign in GAUSSIANS:
        bump = sign * np.clip(1 - np.hypot(X[:, 0] - cx, X[:, 1] - cy) / 2, 0, 1)
        label = np.where(np.abs(bump) > np.abs(label), bump, label)
    return label[:, None]


def _multi_gauss(n, noise, rng):
    X = _uniform(rng, (n, 2), -EXTENT, EXTENT)
    return X, _multi_gauss_label(X + _uniform(rng, (n, 2), -EXTENT, EXTENT) * noise)


DATASETS = {
    "circle": ("classification", 500, _circle),
    "xor": ("classification", 500, _xor),
    "gauss": ("classification", 500, _gauss),
    "spiral": ("classification", 500, _spiral),
    "spiral3": ("classification", 600, lambda n, noise, rng: _spiral(n, noise, rng, arms=3)),
    "plane": ("regression", 1200, _plane),
    "multigauss": ("regression", 1200, _multi_gauss),
}
"""Data set name -> (problem type, number of points, sampler)."""
CLASSIFICATION = tuple(k for k, v in DATASETS.items() if v[0] == "classification")
REGRESSION = tuple(k for k, v in DATASETS.items() if v[0] == "regression")


def make_data(name, noise=0.0, seed=0, n=None):
    """Sample data set `name`: X (N, 2) float64 in the plane, y (N,) int64 or (N, 1) float64.

    noise is a fraction in [0, 0.5] (the playground's slider shows it in percent).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if not 0 <= noise <= 0.5:
        raise ValueError(f"noise must be in [0, 0.5], got {noise!r}")
    _, default_n, sampler = DATASETS[name]
    rng = np.random.default_rng(seed)
    return sampler(default_n if n is None else int(n), float(noise), rng)


def split(X, y, train_percent, seed=0):
    """Shuffle with `seed` and return X_train, y_train, X_test, y_test."""
    order = np.random.default_rng([seed, 1]).permutation(len(X))
    k = int(round(len(X) * train_percent / 100))
    return X[order[:k]], y[order[:k]], X[order[k:]], y[order[k:]]


# Input features.

FEATURES = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}
"""Feature name -> function of X (N, 2) returning (N,)."""


def feature_matrix(X, features):
    """Return the chosen features of the points X (N, 2) as columns: (N, D)."""
    X = np.asarray(X, dtype=np.float64)
    return np.stack([FEATURES[name](X) for name in features], axis=1)


def grid_points(resolution, extent=EXTENT):
    """Return the centres of a resolution x resolution image of the plane: (R*R, 2).

    Row-major like an image: row 0 is the top (x2 = +extent side), column 0 the left.
    """
    step = 2 * extent / resolution
    centres = -extent + step * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.c_[x1.ravel(), x2.ravel()]
