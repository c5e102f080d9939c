"""Numerical gradients by central differences, and reports comparing them with backprop.

Use float64: with h = 1e-6 the central difference (f(x+h) - f(x-h)) / 2h has an error
of order h^2 plus rounding of order eps / h, about 1e-10 relative in float64, while
float32 leaves only two or three correct digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["rel_error", "numerical_gradient", "numerical_gradient_array", "GradReport",
           "check_network"]


def rel_error(a, b):
    """Return ||a - b|| / (||a|| + ||b||), 0 when both are zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f, x, h=1e-6):
    """Return df/dx for a scalar function f() of the array x, changed in place and restored."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = float(f())
        x[i] = old - h
        fm = float(f())
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def numerical_gradient_array(f, x, dout, h=1e-6):
    """Return the gradient of sum(f() * dout) with respect to x, for an array-valued f()."""
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda: np.sum(np.asarray(f(), dtype=np.float64) * dout), x, h)


@dataclass
class GradReport:
    """Relative error of the backprop gradient of each parameter against central differences."""

    errors: dict

    @property
    def worst(self):
        """Return (name, error) of the parameter with the largest relative error."""
        return max(self.errors.items(), key=lambda kv: kv[1])

    def failing(self, tol=1e-7):
        """Return the names of the parameters whose relative error exceeds tol."""
        return [name for name, err in self.errors.items() if err > tol]

    def __str__(self):
        rows = [f"{'parameter':<10} {'relative error':>15}"]
        rows += [f"{name:<10} {err:>15.2e}" for name, err in self.errors.items()]
        name, err = self.worst
        rows.append(f"worst: {name} ({err:.2e})")
        return "\n".join(rows)


def check_network(model, X, y, h=1e-6):
    """Compare ``model.loss`` gradients with central differences for every parameter."""
    _, grads = model.loss(X, y)
    grads = {k: v.copy() for k, v in grads.items()}
    errors = {}
    for name, p in model.params.items():
        num = numerical_gradient(lambda: model.loss(X, y)[0], p, h)
        errors[name] = rel_error(grads[name], num)
    return GradReport(errors)
