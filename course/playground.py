"""The playground: TensorFlow Playground's experiments, run on the course's own MLP.

Everything here is pure and tested; ``course.playground_widget`` only draws it.

- ``Config``: one experiment (data, features, hidden layers, training settings), checked
  on construction, and written as a short string by ``encode`` / read by ``decode``.
- ``make_data``: the data sets, in the plane [-6, 6]^2: circle, XOR, two Gaussians,
  spiral (two arms) and a three-arm spiral (classification); plane (target (x1 + x2) / 10)
  and multi-Gaussian (six signed bumps, targets in [-1, 1]) for regression.
- ``FEATURES`` and ``feature_matrix``: the input features x1, x2, x1^2, x2^2, x1*x2,
  sin x1, sin x2.
- ``Trainer``: the data split, the ``course.network.MLP`` and its ``course.optim``
  optimiser; ``step`` trains whole epochs in mini-batches, ``reset`` restores
  the initial weights, ``apply`` changes the experiment, ``frame`` returns what a frame
  shows (losses, grids over the plane, weights, gradient norms, dead units).
- ``diverging_rgba`` and ``class_rgba``: colours of the pictures, as RGBA bytes.
- ``export_code``: Python source that rebuilds the trained network.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from course import activations
from course.losses import softmax
from course.network import MLP, dead_units, gradient_norms
from course.optim import SGD, Adam, Momentum, iterate_minibatches

__all__ = [
    "EXTENT", "DATASETS", "CLASSIFICATION", "REGRESSION", "FEATURES", "ACTIVATIONS",
    "OPTIMIZERS", "REGULARIZATIONS", "LEARNING_RATES", "REG_RATES", "MAX_LAYERS",
    "MAX_UNITS", "MAX_BATCH", "Config", "make_data", "feature_matrix", "grid_points",
    "split", "Trainer", "diverging_rgba", "class_rgba", "export_code", "curve",
]

EXTENT = 6.0
"""The inputs x1 and x2 of every data set and picture lie in [-EXTENT, EXTENT]."""

MAX_LAYERS = 6
MAX_UNITS = 8
MAX_BATCH = 100
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ACTIVATIONS = activations.PLAYGROUND
"""Playground name -> course activation name (the entries of course.activations' registry
that carry a playground label)."""
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
REGULARIZATIONS = ("none", "L1", "L2")


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


# The configuration of an experiment.

_KEYS = {  # short key in the string -> field
    "data": "data", "noise": "noise", "train": "train", "seed": "seed", "x": "features",
    "h": "layers", "act": "activation", "lr": "lr", "reg": "reg", "rr": "reg_rate",
    "batch": "batch", "opt": "optimizer",
}


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name}: unknown {value!r}; choose one of {', '.join(choices)}")


def _whole(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: must be between {low} and {high}, got {value}")
    return int(value)


def _number(name, value, low, high, open_low=False):
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.floating))
          and math.isfinite(value) and low <= value <= high
          and not (open_low and value == low))
    if not ok:
        interval = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise ValueError(f"{name}: must be a number in {interval}, got {value!r}")
    return float(value)


def _features(features):
    features = tuple(features)
    if not features:
        raise ValueError("features: choose at least one input feature")
    for f in features:
        if f not in FEATURES:
            raise ValueError(f"features: unknown feature {f!r}; "
                             f"choose from {', '.join(FEATURES)}")
    if len(set(features)) != len(features):
        raise ValueError(f"features: listed twice in {', '.join(features)}")
    return tuple(f for f in FEATURES if f in features)


def _layers(layers):
    layers = tuple(layers)
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"layers: at most {MAX_LAYERS} hidden layers, got {len(layers)}")
    for units in layers:
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) \
                or not 1 <= units <= MAX_UNITS:
            raise ValueError(f"layers: each hidden layer has 1 to {MAX_UNITS} units, "
                             f"got {units!r}")
    return tuple(int(u) for u in layers)


@dataclasses.dataclass(frozen=True)
class Config:
    """One experiment. Raises ValueError naming the field when a value is impossible."""

    data: str = "circle"
    noise: int = 0                      # percent, 0..50
    train: int = 50                     # percent of the points used for training, 10..90
    seed: int = 0                       # seed of the data, the split and the initial weights
    features: tuple = ("x1", "x2")
    layers: tuple = (4, 2)              # units of each hidden layer, 0..6 layers of 1..8
    activation: str = "tanh"
    lr: float = 0.03
    reg: str = "none"
    reg_rate: float = 0.0
    batch: int = 10
    optimizer: str = "sgd"

    def __post_init__(self):
        for name, low, high in (("noise", 0, 50), ("train", 10, 90), ("batch", 1, MAX_BATCH),
                                ("seed", 0, 2**31 - 1)):
            self._fix(name, _whole(name, getattr(self, name), low, high))
        self._fix("features", _features(self.features))
        self._fix("layers", _layers(self.layers))
        self._fix("lr", _number("lr", self.lr, 0, 10, open_low=True))
        self._fix("reg_rate", _number("reg_rate", self.reg_rate, 0, 10))
        for name, choices in (("data", DATASETS), ("activation", ACTIVATIONS),
                              ("reg", REGULARIZATIONS), ("optimizer", OPTIMIZERS)):
            _choice(name, getattr(self, name), choices)

    def _fix(self, name, value):
        object.__setattr__(self, name, value)

    @property
    def problem(self):
        """'classification' or 'regression'."""
        return DATASETS[self.data][0]

    @property
    def classes(self):
        """Number of classes C (1 for regression)."""
        return {"spiral3": 3}.get(self.data, 2 if self.problem == "classification" else 1)

    @property
    def output(self):
        """The course output unit matched to the data: sigmoid, softmax or linear."""
        if self.problem == "regression":
            return "linear"
        return "softmax" if self.classes > 2 else "sigmoid"

    @property
    def sizes(self):
        """Widths [D, H1, ..., C] of the MLP."""
        out = self.classes if self.output == "softmax" else 1
        return [len(self.features), *self.layers, out]

    def replace(self, **changes):
        """Return a copy with some fields changed (checked like a new Config)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """Return the fields as a JSON-friendly dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["features"], d["layers"] = list(self.features), list(self.layers)
        return d

    def encode(self):
        """Return the short string that ``decode`` turns back into this Config."""
        def text(value):
            if isinstance(value, tuple):
                return ",".join(str(v) for v in value)
            return repr(value) if isinstance(value, float) else str(value)

        return "&".join(f"{key}={text(getattr(self, name))}" for key, name in _KEYS.items())

    @classmethod
    def decode(cls, text):
        """Read a string written by ``encode``; missing keys keep their defaults.

        Raises ValueError saying what is wrong (unknown key, repeated key, bad value).
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the configuration string is empty")
        fields, seen = {}, set()
        for part in text.strip().lstrip("#").split("&"):
            if "=" not in part:
                raise ValueError(f"{part!r} is not of the form key=value")
            key, value = (s.strip() for s in part.split("=", 1))
            if key not in _KEYS:
                raise ValueError(f"unknown key {key!r}; the keys are {', '.join(_KEYS)}")
            if key in seen:
                raise ValueError(f"key {key!r} is given twice")
            seen.add(key)
            name = _KEYS[key]
            try:
                if name == "features":
                    fields[name] = tuple(v for v in value.split(",") if v)
                elif name == "layers":
                    fields[name] = tuple(int(v) for v in value.split(",") if v)
                elif name in ("noise", "train", "seed", "batch"):
                    fields[name] = int(value)
                elif name in ("lr", "reg_rate"):
                    fields[name] = float(value)
                else:
                    fields[name] = value
            except ValueError:
                raise ValueError(f"{key}: cannot read {value!r} as a number") from None
        return cls(**fields)


# Colours (TensorFlow Playground's: orange for negative / class 0, blue for positive).

ORANGE = np.array([245, 147, 34], dtype=np.float64)
BLUE = np.array([8, 119, 189], dtype=np.float64)
WHITE = np.array([232, 234, 235], dtype=np.float64)
GREEN = np.array([72, 160, 72], dtype=np.float64)
CLASS_COLOURS = np.stack([ORANGE, BLUE, GREEN])


def _diverging_table(levels=511):
    t = np.linspace(-1.0, 1.0, levels)[:, None]
    rgb = np.where(t < 0, WHITE + (ORANGE - WHITE) * -t, WHITE + (BLUE - WHITE) * t)
    table = np.full((levels, 4), 255, dtype=np.uint8)
    table[:, :3] = np.rint(rgb)
    return table


_DIVERGING = _diverging_table()


def diverging_rgba(values, scale=1.0, discrete=False):
    """Map values to RGBA bytes: -scale orange, 0 light grey, +scale blue.

    values of any shape S; returns uint8 of shape S + (4,). Values beyond +-scale saturate;
    the colours come from a table of 511 steps (255 on each side of 0).
    discrete=True paints only the sign (full orange or full blue, grey for exactly 0).
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.sign(v) if discrete else np.clip(v * (1.0 / scale), -1.0, 1.0)
    half = (len(_DIVERGING) - 1) // 2
    return _DIVERGING[np.rint(t * half).astype(np.intp) + half]


def class_rgba(probs, discrete=False):
    """Map class probabilities (..., C) to RGBA bytes: the class colours mixed by probability.

    The mix is faded towards grey as the largest probability falls to 1 / C.
    discrete=True paints the colour of the most probable class.
    """
    p = np.asarray(probs, dtype=np.float64)
    C = p.shape[-1]
    if discrete:
        rgb = CLASS_COLOURS[p.argmax(axis=-1)]
    else:
        confidence = ((p.max(axis=-1) - 1 / C) / (1 - 1 / C))[..., None]
        rgb = WHITE + (p @ CLASS_COLOURS[:C] - WHITE) * confidence
    rgba = np.empty(p.shape[:-1] + (4,), dtype=np.uint8)
    rgba[..., :3] = np.rint(rgb)
    rgba[..., 3] = 255
    return rgba


def curve(values, points=200):
    """Return at most `points` values of a list, evenly spread, always keeping the last."""
    n = len(values)
    if n <= points:
        return [float(v) for v in values]
    idx = np.linspace(0, n - 1, points).round().astype(int)
    return [float(values[i]) for i in idx]


# Training.

class Trainer:
    """One experiment: data split, features, an MLP and its optimiser, and the record.

    ``frames`` counts calls of ``frame``; ``epoch`` counts epochs trained since the
    network was built or reset; ``history`` holds the training and test loss per epoch.
    """

    def __init__(self, config=None):
        self.config = Config() if config is None else config
        self.frames = 0
        self._build_data()
        self._build_model()

    # construction
    def _build_data(self):
        c = self.config
        X, y = make_data(c.data, c.noise / 100, seed=c.seed)
        self.X_train, self.y_train, self.X_test, self.y_test = split(X, y, c.train, c.seed)
        self._features()

    def _features(self):
        f = self.config.features
        self.F_train = feature_matrix(self.X_train, f)
        self.F_test = feature_matrix(self.X_test, f)
        self._grid_cache = {}

    def _build_model(self):
        c = self.config
        self.model = MLP(c.sizes, hidden=ACTIVATIONS[c.activation], output=c.output,
                         seed=c.seed, **self._penalty())
        self.initial = {k: v.copy() for k, v in self.model.params.items()}
        self.reset()

    def _penalty(self):
        c = self.config
        rate = c.reg_rate if c.reg != "none" else 0.0
        return {"l1": rate if c.reg == "L1" else 0.0, "l2": rate if c.reg == "L2" else 0.0}

    def _new_optimizer(self):
        self.optimizer = OPTIMIZERS[self.config.optimizer](lr=self.config.lr)

    def reset(self):
        """Restore the initial weights, a fresh optimiser, epoch 0 and an empty history."""
        for k, v in self.initial.items():
            self.model.params[k][...] = v
        self._new_optimizer()
        self.epoch = 0
        self.history = {"train": [], "test": []}
        self._record()

    def regenerate(self):
        """Draw new data (the next seed) and rebuild the network."""
        self.apply(self.config.replace(seed=(self.config.seed + 1) % 2**31))

    def apply(self, config):
        """Switch to another Config, keeping the weights when only training settings change.

        New data, features or architecture rebuild the network (with the config's seed); a
        new learning rate or optimiser starts a fresh optimiser; a new penalty or batch size
        applies from the next step.
        """
        if not isinstance(config, Config):
            config = Config(**config)
        old, self.config = self.config, config

        def same(*names):
            return all(getattr(old, n) == getattr(config, n) for n in names)

        if not same("data", "noise", "train", "seed"):
            self._build_data()
            self._build_model()
        elif not same("features", "layers", "activation"):
            if not same("features"):
                self._features()
            self._build_model()
        else:
            if not same("lr", "optimizer"):
                self._new_optimizer()
            for k, v in self._penalty().items():
                setattr(self.model, k, v)

    # training
    def step(self, epochs=1):
        """Train `epochs` passes over the training data in shuffled mini-batches.

        The loop of ``course.optim.train`` without its progress bar and per-epoch
        bookkeeping, which would cost more than the step itself on these small networks.
        """
        model, F, y = self.model, self.F_train, self.y_train
        for _ in range(int(epochs)):
            rng = np.random.default_rng([self.config.seed, self.epoch])
            for idx in iterate_minibatches(len(F), self.config.batch, rng):
                _, grads = model.loss(F[idx], y[idx])
                self.optimizer.step(model.params, grads)
            self.epoch += 1
            self._record()

    def data_loss(self, F, y):
        """Return the mean loss of the output unit on features F and targets y (no penalty)."""
        return float(self.model.loss_fn(self.model.forward(F), y)[0])

    def _record(self):
        self.history["train"].append(self.data_loss(self.F_train, self.y_train))
        self.history["test"].append(self.data_loss(self.F_test, self.y_test))

    @property
    def train_loss(self):
        return self.history["train"][-1]

    @property
    def test_loss(self):
        return self.history["test"][-1]

    # pictures
    def grid_features(self, resolution):
        """Return (points (R*R, 2), features (R*R, D)) of the picture grid (cached)."""
        if resolution not in self._grid_cache:
            P = grid_points(resolution)
            self._grid_cache[resolution] = (P, feature_matrix(P, self.config.features))
        return self._grid_cache[resolution]

    def output_rgba(self, scores, resolution, discrete=False):
        """Colour the output over the grid: (R, R, 4) uint8."""
        R = resolution
        if self.config.output == "softmax":
            return class_rgba(softmax(scores, axis=1).reshape(R, R, -1), discrete)
        if self.config.output == "sigmoid":  # score 0 is probability 1/2: the boundary
            return diverging_rgba(np.tanh(scores[:, 0] / 2).reshape(R, R), discrete=discrete)
        return diverging_rgba(scores[:, 0].reshape(R, R), discrete=discrete)

    def frame(self, resolution=50, discrete=False):
        """Return what one frame shows, as a dict of plain numbers and uint8 arrays.

        Keys: epoch, frame, train_loss, test_loss, output (R, R, 4), units (one array
        (H_l, R, R, 4) per hidden layer), weights (one list of lists (H_{l-1}, H_l) per
        layer), grad_norms (one per layer, full-batch gradient of the training loss),
        dead (number of dead units of each hidden layer on the training data) and
        dead_mask (one list of booleans per hidden layer, True for a dead unit).
        """
        self.frames += 1
        R = resolution
        _, G = self.grid_features(R)
        scores, hidden = self.model.forward(G, keep_hidden=True)
        units = []
        for h in hidden:  # bounded units keep the scale 1; unbounded ones their own maximum
            scale = np.maximum(1.0, np.abs(h).max(axis=0))
            units.append(np.ascontiguousarray(
                diverging_rgba((h / scale).T.reshape(-1, R, R))))
        _, grads = self.model.loss(self.F_train, self.y_train)
        dead = dead_units(self.model, self.F_train)
        L = self.model.L
        return {
            "epoch": self.epoch, "frame": self.frames,
            "train_loss": self.train_loss, "test_loss": self.test_loss,
            "output": self.output_rgba(scores, R, discrete),
            "units": units,
            "weights": [self.model.params[f"W{i}"].tolist() for i in range(1, L + 1)],
            "grad_norms": gradient_norms(grads),
            "dead": [int(m.sum()) for m in dead],
            "dead_mask": [m.tolist() for m in dead],
        }

    def feature_rgba(self, resolution=50):
        """Colour every feature over the grid, each scaled by its largest |value|: (D, R, R, 4)."""
        _, G = self.grid_features(resolution)
        scale = np.abs(G).max(axis=0)
        scale[scale == 0] = 1.0
        return diverging_rgba((G / scale).T.reshape(-1, resolution, resolution))

    def export_code(self):
        """Return Python source that rebuilds the trained network (see ``export_code``)."""
        return export_code(self.model, self.config)


def export_code(model, config):
    """Return Python source that rebuilds `model` (an MLP trained on `config`) exactly.

    Running it defines ``config`` and ``model`` (same sizes, activations, output unit,
    penalty and parameters, written with every digit of float64) and ``features(X)``, the
    input features of points X (N, 2).
    """
    def array(a):
        return f"np.array({a.tolist()!r}, dtype=np.{a.dtype.name})"

    params = "".join(f"    {k!r}: {array(v)},\n" for k, v in model.params.items())
    hidden = model.hidden[0] if len(set(model.hidden)) == 1 else model.hidden
    return (
        "# The playground's network, rebuilt with course.network.MLP.\n"
        "import numpy as np\n\n"
        "from course.network import MLP\n"
        "from course.playground import Config, feature_matrix\n\n"
        f"config = Config.decode({config.encode()!r})\n"
        f"model = MLP({model.sizes!r}, hidden={hidden!r}, output={model.output!r}, "
        f"l1={model.l1!r}, l2={model.l2!r})\n"
        "model.params.update({\n"
        f"{params}"
        "})\n\n\n"
        "def features(X):\n"
        "    \"\"\"Input features of the points X (N, 2), in the order of the first layer.\"\"\"\n"
        "    return feature_matrix(X, config.features)\n"
    )
