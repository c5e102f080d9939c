"""One playground experiment: ``Config`` (data, features, hidden layers, training
settings), checked on construction and written as a short string by ``encode`` / read by
``decode``; the ranges its settings take. Used by :mod:`course.playground`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from course import activations
from course.optim import SGD, Adam, Momentum
from course.playground_data import DATASETS, FEATURES

__all__ = ["ACTIVATIONS", "OPTIMIZERS", "REGULARIZATIONS", "LEARNING_RATES", "REG_RATES",
           "MAX_LAYERS", "MAX_UNITS", "MAX_BATCH", "Config"]

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
