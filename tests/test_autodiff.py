"""Tests for course.autodiff: gradients against central differences and autograd."""

import math
from types import SimpleNamespace

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad
from matplotlib.figure import Figure

from course.autodiff import Value, zero_grad
from course.graph_plots import draw_graph

# The same expression is written once and evaluated with three sets of operations:
# the engine under test, plain floats (math module) and the autograd package.
ENGINE = SimpleNamespace(exp=lambda v: v.exp(), log=lambda v: v.log(),
                         tanh=lambda v: v.tanh(), sigmoid=lambda v: v.sigmoid(),
                         relu=lambda v: v.relu())
FLOATS = SimpleNamespace(exp=math.exp, log=math.log, tanh=math.tanh,
                         sigmoid=lambda x: 1.0 / (1.0 + math.exp(-x)),
                         relu=lambda x: x if x > 0 else 0.0)
AUTOGRAD = SimpleNamespace(exp=anp.exp, log=anp.log, tanh=anp.tanh,
                           sigmoid=lambda x: 1.0 / (1.0 + anp.exp(-x)),
                           relu=lambda x: x * (x > 0))

EXPRESSIONS = {
    "used_twice": lambda o, a, b, c: a * a + a * b - c * a,
    "division": lambda o, a, b, c: (a + 2) / (b * b + 1) - 3 / (c * c + 0.5) + a / 4,
    "pow": lambda o, a, b, c: (a * a + 1) ** 1.5 + b ** 3 - (c * c + 0.2) ** -2 + a ** 2,
    "exp_log": lambda o, a, b, c: o.log(o.exp(a) + b * b + 1) * c + o.exp(-c * b),
    "tanh_sigmoid_relu": lambda o, a, b, c: (o.tanh(a * b + c) * o.sigmoid(a - c)
                                             + o.relu(b + 0.5 * a) + o.relu(-3 + c)),
    "neuron": lambda o, a, b, c: o.tanh(0.7 * a - 1.3 * b + c),
    "reflected": lambda o, a, b, c: 1 - a + 2 / (b * b + 1) - (-c) * 3 + 5 * a,
}


def engine_grads(expr, point):
    """Evaluate expr with the engine; return (value, [d/da, d/db, ...])."""
    inputs = [Value(v) for v in point]
    out = expr(ENGINE, *inputs)
    out.backward()
    return out.data, [v.grad for v in inputs]


def central_differences(expr, point, h=1e-5):
    """Return the central-difference gradient of expr at point, in float64 arithmetic."""
    g = []
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        g.append((expr(FLOATS, *up) - expr(FLOATS, *down)) / (2 * h))
    return g


def autograd_grads(expr, point):
    """Return the gradient of expr at point computed by the autograd package."""
    return list(autograd_grad(lambda v: expr(AUTOGRAD, *[v[i] for i in range(len(point))]))(
        np.array(point, dtype=np.float64)))


def rel_error(a, b):
    """Return max |a - b| / max(1e-8, |a| + |b|) over the entries."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def random_points(seed, count=5):
    rng = np.random.default_rng(seed)
    return [list(rng.uniform(-2, 2, size=3)) for _ in range(count)]


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_gradients_match_central_differences_and_autograd(name):
    expr = EXPRESSIONS[name]
    for point in random_points(seed=len(name)):
        value, g = engine_grads(expr, point)
        assert value == pytest.approx(expr(FLOATS, *point), rel=1e-12)
        assert rel_error(g, central_differences(expr, point)) <= 1e-7
        assert rel_error(g, autograd_grads(expr, point)) <= 1e-10


def run_program(ops, program, inputs):
    """Interpret a random straight-line program; registers may be reused (fan-out)."""
    regs = list(inputs)
    for op, i, j in program:
        a, b = regs[i], regs[j]
        regs.append({
            "add": lambda: a + b,
            "sub": lambda: a - b,
            "mul": lambda: a * b,
            "div": lambda: a / (b * b + 1),
            "rdiv": lambda: 1.5 / (a * a + 0.5),
            "pow": lambda: (a * a + 0.3) ** 0.75,
            "cube": lambda: a ** 3,
            "exp": lambda: ops.exp(ops.tanh(a)),
            "log": lambda: ops.log(a * a + 1),
            "tanh": lambda: ops.tanh(a),
            "sigmoid": lambda: ops.sigmoid(a),
            "relu": lambda: ops.relu(a + 0.25),
            "neg": lambda: -a,
        }[op]())
    return regs[-1] + regs[-2] * 0.5


OPS = ["add", "sub", "mul", "div", "rdiv", "pow", "cube", "exp", "log", "tanh", "sigmoid",
       "relu", "neg"]


@pytest.mark.parametrize("seed", range(6))
def test_random_programs_match_central_differences_and_autograd(seed):
    rng = np.random.default_rng(100 + seed)
    n_inputs = 4
    program = []
    for k in range(12):
        n_regs = n_inputs + k
        program.append((OPS[rng.integers(len(OPS))], int(rng.integers(n_regs)),
                        int(rng.integers(n_regs))))
    expr = lambda o, *xs: run_program(o, program, xs)  # noqa: E731
    point = list(rng.uniform(-1, 1, size=n_inputs))
    _, g = engine_grads(expr, point)
    assert rel_error(g, central_differences(expr, point)) <= 1e-7
    assert rel_error(g, autograd_grads(expr, point)) <= 1e-10


def test_worked_example_sum_times_product():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.backward()
    # By hand: q = x + y = 3, f = q z; df/dx = df/dy = z, df/dz = q.
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def test_worked_example_logistic_loss():
    xs = (1.0, 1.0, 1.0)
    w = [Value(1.0), Value(1.0), Value(-1.5)]
    loss = -(sum((wi * xi for wi, xi in zip(w, xs)), Value(0.0)).sigmoid().log())
    loss.backward()
    s = 1.0 / (1.0 + math.exp(-0.5))  # w . x = 0.5
    assert loss.data == pytest.approx(-math.log(s), rel=1e-14)
    assert loss.data == pytest.approx(0.474077, abs=1e-6)
    for wi, xi in zip(w, xs):  # d/dw_i [-log sigmoid(w.x)] = -(1 - sigmoid(w.x)) x_i
        assert wi.grad == pytest.approx(-(1.0 - s) * xi, rel=1e-14)
        assert wi.grad == pytest.approx(-0.377541, abs=1e-6)


def test_value_used_twice_accumulates_both_paths():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0
    b = Value(3.0)
    (b + b).backward()
    assert b.grad == 2.0


def test_backward_accumulates_and_zero_grad_resets():
    a, b = Value(2.0), Value(-1.0)
    out = a * b
    out.backward()
    out.backward()
    assert (a.grad, b.grad) == (-2.0, 4.0)
    zero_grad([a, b])
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_relu_derivative_at_zero_is_zero_and_sigmoid_is_stable():
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0


def test_bad_operands_raise_clear_errors():
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()


def test_draw_graph_has_one_text_per_node():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.label = "f"
    f.backward()
    fig = draw_graph(f)
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    # 5 values (x, y, z, x + y, f) and 2 operations (+, *).
    assert len(texts) == 7
    assert sorted(t for t in texts if "|" not in t) == ["*", "+"]
    assert "x | data -2.00 | grad -4.00" in texts
    assert "f | data -12.00 | grad 1.00" in texts


def test_draw_graph_scales_to_forty_nodes_and_uses_given_axes():
    xs = [Value(float(i) / 10, label=f"x{i}") for i in range(11)]
    out = xs[0]
    for x in xs[1:]:
        out = (out * x).tanh() + x  # x is used twice
    out.backward()
    values, ops, stack, seen = 0, 0, [out], set()
    while stack:  # count the graph independently of the engine's own traversal
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        values += 1
        ops += bool(v._op)
        stack.extend(v._prev)
    assert values >= 35
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_graph(out, ax=ax) is fig
    assert len(ax.texts) == values + ops
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    positions = [t.get_position() for t in ax.texts]
    assert all(x0 <= px <= x1 and y0 <= py <= y1 for px, py in positions)
    root_x = max(px for px, _ in positions)
    assert [t.get_text() for t in ax.texts if t.get_position()[0] == root_x] == [
        f"data {out.data:.2f} | grad 1.00"]
