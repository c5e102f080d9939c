"""Optimisers, learning-rate schedules and the training loop.

An optimiser updates a dict of parameters in place from a dict of gradients with the
same keys: ``opt.step(params, grads)``. Its learning rate is a number or a schedule,
a function of the step count k = 1, 2, ... returning the rate for that step.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

__all__ = [
    "constant", "inverse_time", "inverse_sqrt", "hyperbolic", "SGD", "Momentum", "RMSProp",
    "Adam", "History", "train", "iterate_minibatches", "perceptron_predict",
    "perceptron_train", "descent_path", "optimizer_path",
]


# Learning-rate schedules: k counts updates from 1.

def constant(c):
    """Return the schedule alpha_k = c."""
    return lambda k: c


def inverse_time(c):
    """Return the schedule alpha_k = c / k."""
    return lambda k: c / k


def inverse_sqrt(c):
    """Return the schedule alpha_k = c / sqrt(k)."""
    return lambda k: c / np.sqrt(k)


def hyperbolic(c1, c2):
    """Return the schedule alpha_k = c1 / (k + c2)."""
    return lambda k: c1 / (k + c2)


class _Optimizer:
    def __init__(self, lr):
        if not callable(lr) and not lr > 0:
            raise ValueError(f"the learning rate must be positive, got {lr!r}")
        self.lr, self.k, self.state = lr, 0, {}

    def rate(self):
        """Return the learning rate of the current step."""
        return self.lr(self.k) if callable(self.lr) else self.lr

    def step(self, params, grads):
        """Apply one update to every parameter that has a gradient."""
        self.k += 1
        lr = self.rate()
        for name, g in grads.items():
            if name in params:
                self._update(name, params[name], g, lr)

    def _update(self, name, p, g, lr):
        raise NotImplementedError


class SGD(_Optimizer):
    """Stochastic gradient descent: p <- p - lr * g."""

    def _update(self, name, p, g, lr):
        p -= lr * g


class Momentum(_Optimizer):
    """SGD with momentum: v <- beta v - lr g; p <- p + v."""

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = beta

    def _update(self, name, p, g, lr):
        v = self.state.get(name)
        if v is None:
            v = self.state[name] = np.zeros_like(p)
        v *= self.beta
        v -= lr * g
        p += v


class RMSProp(_Optimizer):
    """RMSProp: s <- rho s + (1 - rho) g^2; p <- p - lr g / (sqrt(s) + eps)."""

    def __init__(self, lr=0.001, rho=0.9, eps=1e-8):
        super().__init__(lr)
        self.rho, self.eps = rho, eps

    def _update(self, name, p, g, lr):
        s = self.state.get(name)
        if s is None:
            s = self.state[name] = np.zeros_like(p)
        s *= self.rho
        s += (1 - self.rho) * g * g
        p -= lr * g / (np.sqrt(s) + self.eps)


class Adam(_Optimizer):
    """Adam: bias-corrected running means of g and g^2."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def _update(self, name, p, g, lr):
        if name not in self.state:
            self.state[name] = (np.zeros_like(p), np.zeros_like(p))
        m, v = self.state[name]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        mhat = m / (1 - self.beta1 ** self.k)
        vhat = v / (1 - self.beta2 ** self.k)
        p -= lr * mhat / (np.sqrt(vhat) + self.eps)


class History(dict):
    """Per-epoch lists: train_loss, train_acc, val_loss, val_acc (accuracies for classifiers)."""

    def last(self, key):
        """Return the latest value recorded under key."""
        return self[key][-1]


def iterate_minibatches(N, batch_size, rng):
    """Yield index arrays covering range(N) in shuffled batches (the last may be short)."""
    order = rng.permutation(N) if rng is not None else np.arange(N)
    for start in range(0, N, batch_size):
        yield order[start:start + batch_size]


def train(model, X, y, optimizer, epochs=100, batch_size=None, X_val=None, y_val=None,
          seed=0, progress=True, shuffle=True):
    """Train a model with ``model.loss(X, y) -> (loss, grads)`` and return its History.

    batch_size None (or N) is batch gradient descent, 1 is single-example SGD, anything
    between is mini-batch SGD. One epoch is one pass over the N training examples. The
    training loss and accuracy of an epoch are averaged over its mini-batches; the
    validation ones are measured at the end of the epoch.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    N = len(X)
    if N == 0 or len(y) != N:
        raise ValueError(f"X has {N} rows and y has {len(y)}: they must match and be non-empty")
    bs = N if batch_size is None else int(batch_size)
    if not 1 <= bs:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    classify = getattr(model, "output", "linear") != "linear"
    rng = np.random.default_rng(seed) if shuffle else None
    hist = History(train_loss=[], val_loss=[])
    if classify:
        hist.update(train_acc=[], val_acc=[])
    bar = tqdm(range(epochs), disable=not progress, desc="epochs", leave=False)
    whole = bs >= N and not shuffle
    for _ in bar:
        total, correct = 0.0, 0
        for idx in ([slice(None)] if whole else iterate_minibatches(N, bs, rng)):
            xb, yb = X[idx], y[idx]
            loss, grads = model.loss(xb, yb)
            optimizer.step(model.params, grads)
            n = len(xb)
            total += loss * n
            if classify:
                correct += int(np.sum(model.decide(model.scores) == yb.reshape(-1)))
        hist["train_loss"].append(total / N)
        if classify:
            hist["train_acc"].append(correct / N)
        if X_val is not None:
            scores = model.forward(X_val)
            hist["val_loss"].append(model.loss_fn(scores, y_val)[0] + model.penalty())
            if classify:
                acc = float(np.mean(model.decide(scores) == np.asarray(y_val).reshape(-1)))
                hist["val_acc"].append(acc)
        if progress:
            bar.set_postfix(loss=f"{hist['train_loss'][-1]:.4f}")
    return hist


# The perceptron: a threshold unit trained by Rosenblatt's rule (chapter 1).

def perceptron_predict(X, w, b):
    """Return the threshold unit's outputs step(X @ w + b): int64 (N,) of 0s and 1s.

    Inputs: X (N, D), w (D,), b a number.
    """
    return (np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b >= 0).astype(
        np.int64)


def perceptron_train(X, t, lr=1.0, epochs=10, w=None, b=0.0):
    """Train a threshold unit with Rosenblatt's rule; return (w, b, history).

    Inputs: X (N, D), targets t (N,) of 0s and 1s, learning rate lr > 0, at most `epochs`
    passes over the examples in order, starting weights w (D,) (zeros if None) and bias b.
    For each example, y = step(x @ w + b), then w <- w + lr * (t - y) * x and
    b <- b + lr * (t - y): nothing changes when y = t. Training stops after the first
    epoch with no mistake.
    Returns: w (D,), b (float), and history, the list of (w, b) pairs visited: the start,
    then one pair after each update.
    """
    X = np.asarray(X, dtype=np.float64)
    t = np.asarray(t).reshape(-1)
    if X.ndim != 2 or len(X) != len(t) or len(X) == 0:
        raise ValueError(f"X must be (N, D) with N = len(t) > 0, got {X.shape} and {t.shape}")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("targets t must be 0 or 1")
    if not lr > 0:
        raise ValueError(f"the learning rate must be positive, got {lr!r}")
    w = np.zeros(X.shape[1]) if w is None else np.array(w, dtype=np.float64).reshape(-1)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape ({X.shape[1]},), got {w.shape}")
    b = float(b)
    history = [(w.copy(), b)]
    for _ in range(int(epochs)):
        mistakes = 0
        for x, target in zip(X, t):
            err = float(target) - float(x @ w + b >= 0)
            if err != 0.0:
                w = w + lr * err * x
                b = b + lr * err
                history.append((w.copy(), b))
                mistakes += 1
        if mistakes == 0:
            break
    return w, b, history



def descent_path(grad, w0, lr, steps):
    """Run plain gradient descent w <- w - lr_k * grad(w) and return every iterate.

    Inputs: grad, a function of w (D,) returning the gradient (D,); the start w0 (D,);
    lr, a number or a schedule of k = 1, 2, ...; the number of steps.
    Returns: array (steps + 1, D), w0 first. A diverging run stops at the first
    non-finite iterate, so the path may then be shorter.
    """
    w = np.array(w0, dtype=np.float64).reshape(-1)
    path = [w.copy()]
    for k in range(1, int(steps) + 1):
        rate = lr(k) if callable(lr) else lr
        with np.errstate(over="ignore", invalid="ignore"):
            w = w - rate * np.asarray(grad(w), dtype=np.float64).reshape(w.shape)
        if not np.all(np.isfinite(w)):
            break
        path.append(w.copy())
    return np.array(path)


def optimizer_path(optimizer, grad, w0, steps):
    """Run any optimiser of this module on a function of w (D,) and return every iterate.

    Inputs: an optimiser (SGD, Momentum, RMSProp, Adam; its state starts empty), grad, a
    function of w (D,) returning the gradient (D,); the start w0 (D,); the number of steps.
    Returns: array (steps + 1, D), w0 first; a diverging run stops at the first non-finite
    iterate.
    """
    params = {"w": np.array(w0, dtype=np.float64).reshape(-1)}
    path = [params["w"].copy()]
    for _ in range(int(steps)):
        with np.errstate(over="ignore", invalid="ignore"):
            optimizer.step(params, {"w": np.asarray(grad(params["w"]), dtype=np.float64)})
        if not np.all(np.isfinite(params["w"])):
            break
        path.append(params["w"].copy())
    return np.array(path)
