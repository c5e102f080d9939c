"""The playground: TensorFlow Playground's experiments, run on the course's own MLP.

Everything here is pure and tested; ``course.playground_widget`` only draws it. The data
sets live in ``course.playground_data``, the experiment's settings in
``course.playground_config``; their names are the playground's, and this module's.

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

import numpy as np

from course.losses import softmax
from course.network import MLP, dead_units, gradient_norms
from course.optim import iterate_minibatches
from course.playground_config import (
    ACTIVATIONS,
    LEARNING_RATES,
    MAX_BATCH,
    MAX_LAYERS,
    MAX_UNITS,
    OPTIMIZERS,
    REG_RATES,
    REGULARIZATIONS,
    Config,
)
from course.playground_data import (
    CLASSIFICATION,
    DATASETS,
    EXTENT,
    FEATURES,
    REGRESSION,
    feature_matrix,
    grid_points,
    make_data,
    split,
)

__all__ = [
    "EXTENT", "DATASETS", "CLASSIFICATION", "REGRESSION", "FEATURES", "ACTIVATIONS",
    "OPTIMIZERS", "REGULARIZATIONS", "LEARNING_RATES", "REG_RATES", "MAX_LAYERS",
    "MAX_UNITS", "MAX_BATCH", "Config", "make_data", "feature_matrix", "grid_points",
    "split", "Trainer", "diverging_rgba", "class_rgba", "export_code", "curve",
]


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
