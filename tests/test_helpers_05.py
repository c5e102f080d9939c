"""Tests of the helpers added for chapter 05 (backpropagation): forward-mode dual numbers
and the gradient-descent path."""

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad

from course.autodiff import Dual, Value, forward_mode_gradient
from course.optim import descent_path, inverse_time

# Each expression is written once against an object `o` that supplies exp, log, tanh,
# sigmoid and relu, so the same formula runs on Duals, on Values and under autograd.
METHODS = {name: (lambda n: lambda v: getattr(v, n)())(name)
           for name in ("exp", "log", "tanh", "sigmoid", "relu")}


class _Ops:
    def __init__(self, **fns):
        self.__dict__.update(fns)


ENGINE = _Ops(**METHODS)
AUTOGRAD = _Ops(exp=anp.exp, log=anp.log, tanh=anp.tanh,
                sigmoid=lambda x: 1.0 / (1.0 + anp.exp(-x)), relu=lambda x: x * (x > 0))

EXPRESSIONS = {
    "sum_product": lambda o, a, b, c: (a + b) * c,
    "used_twice": lambda o, a, b, c: a * a + a * b - c * a,
    "division": lambda o, a, b, c: (a + 2) / (b * b + 1) - 3 / (c * c + 0.5) + a / 4,
    "pow": lambda o, a, b, c: (a * a + 1) ** 1.5 + b ** 3 - (c * c + 0.2) ** -2,
    "exp_log": lambda o, a, b, c: o.log(o.exp(a) + b * b + 1) * c + o.exp(-c * b),
    "activations": lambda o, a, b, c: (o.tanh(a * b + c) * o.sigmoid(a - c)
                                       + o.relu(b + 0.5 * a) + o.relu(-3 + c)),
    "logistic_loss": lambda o, a, b, c: -o.log(o.sigmoid(a - 2 * b + 0.5 * c)),
    "reflected": lambda o, a, b, c: 1 - a + 2 / (b * b + 1) - (-c) * 3 + 5 * a,
}
POINTS = [(-2.0, 5.0, -4.0), (0.3, -1.2, 0.8), (1.5, 0.4, -0.7)]


def autograd_gradient(expr, point):
    """Return the gradient of expr at point from the autograd package (the oracle)."""
    g = autograd_grad(lambda v: expr(AUTOGRAD, v[0], v[1], v[2]))
    return g(np.array(point, dtype=np.float64))


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@pytest.mark.parametrize("point", POINTS)
def test_forward_mode_gradient_matches_autograd(name, point):
    expr = EXPRESSIONS[name]
    got = forward_mode_gradient(lambda a, b, c: expr(ENGINE, a, b, c), point)
    np.testing.assert_allclose(got, autograd_gradient(expr, point), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_dual_value_matches_plain_floats_and_reverse_mode(name):
    expr = EXPRESSIONS[name]
    point = POINTS[1]
    inputs = [Value(v) for v in point]
    out = expr(ENGINE, *inputs)
    out.backward()
    for i in range(3):
        dual = expr(ENGINE, *[Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(point)])
        assert math.isclose(dual.value, out.data, rel_tol=1e-12)
        assert math.isclose(dual.tangent, inputs[i].grad, rel_tol=1e-10, abs_tol=1e-12)


def test_the_chapter_example_by_hand():
    # f = (x + y) z at (-2, 5, -4): f = -12, q = x + y = 3, df/dx = df/dy = z, df/dz = q.
    f = (Dual(-2.0, 1.0) + Dual(5.0)) * Dual(-4.0)
    assert (f.value, f.tangent) == (-12.0, -4.0)
    assert forward_mode_gradient(lambda x, y, z: (x + y) * z, [-2.0, 5.0, -4.0]) == [-4, -4, 3]


def test_forward_mode_makes_one_pass_per_input_and_accepts_constants():
    calls = []

    def f(*w):
        calls.append(1)
        return w[0] * w[1] + w[2] * 3.0 + w[3]

    assert forward_mode_gradient(f, [2.0, -1.0, 4.0, 0.5]) == [-1.0, 2.0, 3.0, 1.0]
    assert len(calls) == 4
    assert forward_mode_gradient(lambda a, b: 7.0, [1.0, 2.0]) == [0.0, 0.0]


def test_dual_sigmoid_is_finite_for_large_inputs_and_checks_arguments():
    for x in (-800.0, 800.0):
        d = Dual(x, 1.0).sigmoid()
        assert math.isfinite(d.value) and d.tangent == 0.0
    with pytest.raises(ValueError):
        Dual(0.0).log()
    with pytest.raises(TypeError):
        Dual(2.0) ** Dual(1.0)
    assert Dual(0.0, 1.0).relu().tangent == 0.0 and Dual(1e-9, 1.0).relu().tangent == 1.0


def test_descent_path_on_a_quadratic_matches_the_closed_form():
    # f(w) = w1^2 + 3 w2^2, grad = (2 w1, 6 w2): each step multiplies w1 by (1 - 2 lr)
    # and w2 by (1 - 6 lr).
    lr, steps = 0.1, 12
    path = descent_path(lambda w: np.array([2 * w[0], 6 * w[1]]), [1.0, -2.0], lr, steps)
    k = np.arange(steps + 1)
    assert path.shape == (steps + 1, 2)
    np.testing.assert_allclose(path[:, 0], 0.8 ** k, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], -2.0 * 0.4 ** k, rtol=1e-12)


def test_descent_path_with_a_schedule_and_a_diverging_rate():
    # lr_k = 1 / k on f(w) = w^2 / 2 (grad w): w_k = w_{k-1} (1 - 1/k), zero after one step.
    path = descent_path(lambda w: w, [3.0], inverse_time(1.0), 3)
    np.testing.assert_array_equal(path[:, 0], [3.0, 0.0, 0.0, 0.0])
    # lr_k = 0.5 / k: w_1 = w_0 (1 - 1/2), w_2 = w_1 (1 - 1/4).
    path = descent_path(lambda w: w, [1.0, 2.0], inverse_time(0.5), 2)
    np.testing.assert_allclose(path, [[1.0, 2.0], [0.5, 1.0], [0.375, 0.75]])
    # lr = 3 on grad 2 w multiplies by -5 each step: finite for a while, then cut off.
    path = descent_path(lambda w: 2 * w, [1.0], 3.0, 1000)
    assert 100 < len(path) < 1000 and np.all(np.isfinite(path))
    np.testing.assert_allclose(path[:4, 0], [1.0, -5.0, 25.0, -125.0])
    start = np.array([1.0, 2.0])
    descent_path(lambda w: w, start, 0.5, 3)
    np.testing.assert_array_equal(start, [1.0, 2.0])
