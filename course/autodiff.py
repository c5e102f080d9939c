"""A tiny scalar reverse-mode automatic differentiation engine, micrograd-style.

Every :class:`Value` holds one number (``data``), the derivative of the final output with
respect to it (``grad``), the values it was computed from (``_prev``) and the name of the
operation that produced it (``_op``). ``backward()`` sorts the graph topologically and
applies each node's local chain rule from the output back to the inputs. Gradients
accumulate (``+=``), so a value used on several paths receives the sum of their
contributions; call :func:`zero_grad` before a new backward pass, as in PyTorch.

>>> x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
>>> f = (x + y) * z
>>> f.backward()
>>> f.data, x.grad, y.grad, z.grad
(-12.0, -4.0, -4.0, 3.0)
"""

import math
from numbers import Number


class Value:
    """Store a scalar, its gradient, and the operation that produced it."""

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_prev)
        self._op = _op
        self.label = label
        self._backward = lambda: None

    def __add__(self, other):
        """Add two values."""
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        """Multiply two values."""
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        """Raise a value to a constant number power."""
        if not isinstance(exponent, Number) or isinstance(exponent, bool):
            raise TypeError("Value ** p needs a plain number p (int or float), not "
                            f"{type(exponent).__name__}")
        out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        """Apply the exponential."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        """Apply the natural logarithm (data must be positive)."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data!r}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        """Apply the hyperbolic tangent."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        """Apply the logistic sigmoid 1 / (1 + exp(-x))."""
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        """Apply max(0, x); the derivative at 0 is taken as 0."""
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        """Backpropagate from this value: seed grad = 1 and apply every local rule."""
        self.grad = 1.0
        for node in reversed(_topological(self)):
            node._backward()

    def __neg__(self):
        """Negate a value."""
        return self * -1

    def __sub__(self, other):
        """Subtract two values."""
        return self + (-_as_value(other))

    def __truediv__(self, other):
        """Divide two values."""
        return self * _as_value(other) ** -1

    def __radd__(self, other):
        """Add a value to a number."""
        return self + other

    def __rmul__(self, other):
        """Multiply a number by a value."""
        return self * other

    def __rsub__(self, other):
        """Subtract a value from a number."""
        return _as_value(other) - self

    def __rtruediv__(self, other):
        """Divide a number by a value."""
        return _as_value(other) / self

    def __repr__(self):
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _as_value(x):
    """Wrap a number as a constant Value (a Value is returned unchanged)."""
    return x if isinstance(x, Value) else Value(x)


def zero_grad(values):
    """Set the grad of every value in `values` to 0."""
    for v in values:
        v.grad = 0.0


def _topological(root):
    """Return the nodes of the graph ending in `root`, every parent before its children."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._prev if id(p) not in seen)
    return order


class Dual:
    """Store a value and one directional derivative: the number a + b eps with eps^2 = 0.

    Forward-mode automatic differentiation: seed the input of interest with tangent 1
    (the others with 0), evaluate the function once, and the output's ``tangent`` is the
    derivative along that input. Supports the same operations and methods as ``Value``.

    >>> x, y, z = Dual(-2.0, 1.0), Dual(5.0), Dual(-4.0)
    >>> f = (x + y) * z
    >>> f.value, f.tangent
    (-12.0, -4.0)
    """

    def __init__(self, value, tangent=0.0):
        self.value = float(value)
        self.tangent = float(tangent)

    def __add__(self, other):
        """Add: (a + b eps) + (c + d eps) = (a + c) + (b + d) eps."""
        other = _as_dual(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __mul__(self, other):
        """Multiply: (a + b eps)(c + d eps) = ac + (ad + bc) eps."""
        other = _as_dual(other)
        return Dual(self.value * other.value,
                    self.tangent * other.value + self.value * other.tangent)

    def __pow__(self, exponent):
        """Raise to a constant number power."""
        if not isinstance(exponent, Number) or isinstance(exponent, bool):
            raise TypeError(f"Dual ** p needs a plain number p, not {type(exponent).__name__}")
        return Dual(self.value ** exponent,
                    exponent * self.value ** (exponent - 1) * self.tangent)

    def _chain(self, f, df):
        """Apply a function with value f and derivative df at self.value."""
        return Dual(f, df * self.tangent)

    def exp(self):
        """Apply the exponential."""
        e = math.exp(self.value)
        return self._chain(e, e)

    def log(self):
        """Apply the natural logarithm (value must be positive)."""
        if self.value <= 0:
            raise ValueError(f"log needs a positive value, got {self.value!r}")
        return self._chain(math.log(self.value), 1.0 / self.value)

    def tanh(self):
        """Apply the hyperbolic tangent."""
        t = math.tanh(self.value)
        return self._chain(t, 1.0 - t * t)

    def sigmoid(self):
        """Apply the logistic sigmoid."""
        x = self.value
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._chain(s, s * (1.0 - s))

    def relu(self):
        """Apply max(0, x); the derivative at 0 is taken as 0."""
        return self._chain(max(self.value, 0.0), float(self.value > 0))

    def __neg__(self):
        """Negate."""
        return self * -1

    def __sub__(self, other):
        """Subtract."""
        return self + (-_as_dual(other))

    def __truediv__(self, other):
        """Divide."""
        return self * _as_dual(other) ** -1

    def __radd__(self, other):
        """Add to a number."""
        return self + other

    def __rmul__(self, other):
        """Multiply a number."""
        return self * other

    def __rsub__(self, other):
        """Subtract from a number."""
        return _as_dual(other) - self

    def __rtruediv__(self, other):
        """Divide a number."""
        return _as_dual(other) / self

    def __repr__(self):
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"


def _as_dual(x):
    """Wrap a number as a constant Dual (tangent 0); a Dual is returned unchanged."""
    return x if isinstance(x, Dual) else Dual(x)


def forward_mode_gradient(f, point):
    """Return the gradient of a scalar f(*inputs) at point by forward mode: one pass per input.

    f takes len(point) Duals and returns a Dual. Pass i seeds input i with tangent 1 and
    reads the derivative along it from the output, so the cost grows with the number of
    inputs, unlike one reverse-mode ``backward()``.
    """
    grad = []
    for i in range(len(point)):
        inputs = [Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(point)]
        grad.append(_as_dual(f(*inputs)).tangent)
    return grad
