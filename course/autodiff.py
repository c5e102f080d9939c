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


def _graph(root):
    """Collect the nodes and edges (parent, child) of the graph that ends in `root`."""
    nodes, edges, stack, seen = [], [], [root], {id(root)}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for p in node._prev:
            edges.append((p, node))
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return nodes, edges


def _columns(root, nodes):
    """Return (depth of each node by id, the nodes of each depth): the longest path to the
    root, so that every input sits left of its uses."""
    depth = {id(root): 0}
    for node in _topological(root)[::-1]:
        for p in node._prev:
            depth[id(p)] = max(depth.get(id(p), 0), depth[id(node)] + 1)
    layers = [[] for _ in range(max(depth.values()) + 1)]
    for n in nodes:
        layers[depth[id(n)]].append(n)
    return depth, layers


def _rows(layers, uses, row):
    """Return the height of each node by id, ordering each column (root first) by the
    mean height of its uses."""
    y = {}
    for layer in layers:
        key = [sum(y[id(c)] for c in uses[id(n)]) / max(len(uses[id(n)]), 1) for n in layer]
        layer[:] = [n for _, n in sorted(zip(key, layer), key=lambda t: t[0])]
        for i, n in enumerate(layer):
            y[id(n)] = (i - (len(layer) - 1) / 2) * row
    return y


def draw_graph(root, ax=None, fontsize=7):
    """Draw the computation graph that ends in `root`; return the matplotlib Figure.

    Values are boxes "label | data 1.00 | grad -4.00"; the operation that produced a
    value is a small circle just left of its box; arrows run from inputs to outputs.
    Columns are depths from the root (inputs on the left, the root on the right), and
    every value and every operation circle holds exactly one text. Layout units are
    inches, so a new figure keeps the text legible whatever the size of the graph.
    """
    from matplotlib.patches import FancyArrowPatch

    class _Edge(FancyArrowPatch):
        """Draw an arrow between two boxed texts, clipped to their current boxes."""

        def __init__(self, a, b, **kwargs):
            super().__init__(a.get_position(), b.get_position(), patchA=a.get_bbox_patch(),
                             patchB=b.get_bbox_patch(), **kwargs)
            self._ends = (a, b)

        def draw(self, renderer):
            for text in self._ends:  # the boxes are drawn later (above the arrows)
                text.update_bbox_position_size(renderer)
            super().draw(renderer)

    nodes, edges = _graph(root)
    depth, layers = _columns(root, nodes)
    max_depth = len(layers) - 1
    uses = {id(n): [] for n in nodes}
    for p, c in edges:
        uses[id(p)].append(c)
    labels = {id(n): (f"{n.label} | " if n.label else "") + f"data {n.data:.2f} | grad "
              f"{n.grad:.2f}" for n in nodes}

    char = 0.6 * fontsize / 72  # approximate character width in inches
    box = max(len(t) for t in labels.values()) * char + 0.2
    circle = max([len(n._op) for n in nodes if n._op] or [0]) * char + 0.35
    column, row = box + circle + 0.5, 3.4 * fontsize / 72
    y = _rows(layers, uses, row)
    x = {id(n): (max_depth - depth[id(n)]) * column + circle + 0.3 + box / 2 for n in nodes}
    width = (max_depth + 1) * column
    height = max(len(layer) for layer in layers) * row + 0.2

    if ax is None:
        ax = _figure_class()(figsize=(width, height)).add_axes((0, 0, 1, 1))
    style = dict(ha="center", va="center", fontsize=fontsize, zorder=3)
    boxes, circles = {}, {}
    for n in nodes:
        boxes[id(n)] = ax.text(x[id(n)], y[id(n)], labels[id(n)], **style, bbox=dict(
            boxstyle="round,pad=0.3", facecolor="#eef3fb", edgecolor="#4a6fa5"))
        if n._op:
            circles[id(n)] = ax.text(x[id(n)] - box / 2 - 0.25 - circle / 2, y[id(n)], n._op,
                                     **style, bbox=dict(boxstyle="circle,pad=0.25",
                                                        facecolor="white", edgecolor="0.3"))

    def arrow(a, b):
        ax.add_patch(_Edge(a, b, arrowstyle="-|>", mutation_scale=8, color="0.35", lw=0.8,
                           zorder=2))

    for n in nodes:
        if n._op:
            arrow(circles[id(n)], boxes[id(n)])
            for p in n._prev:
                arrow(boxes[id(p)], circles[id(n)])
    ax.set_xlim(0, width)
    ax.set_ylim(-height / 2, height / 2)
    ax.set_axis_off()
    return ax.figure


def _figure_class():
    """Return a Figure subclass that Jupyter shows as a PNG without pyplot."""
    import io

    from matplotlib.figure import Figure

    class GraphFigure(Figure):
        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    return GraphFigure


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
