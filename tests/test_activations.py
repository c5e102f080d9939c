"""Activation values, derivatives against central differences, and numerical stability."""

import math

import numpy as np
import pytest

from course import activations as act
from course.gradcheck import numerical_gradient_array, rel_error


@pytest.mark.parametrize("name", [n for n in act.NAMES if n != "prelu"])
def test_derivative_matches_central_differences(name):
    f, fg = act.get(name)
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4, 5)) * 3
    z[np.abs(z) < 1e-3] = 0.5  # off the kinks
    dout = np.ones_like(z)
    num = numerical_gradient_array(lambda: f(z), z, dout)
    assert rel_error(fg(z), num) < 1e-7 or (name == "step" and not fg(z).any())


def test_prelu_gradients_against_central_differences():
    rng = np.random.default_rng(2)
    z, a = rng.standard_normal((3, 4)) + 0.01, rng.uniform(0, 0.3, 4)
    dz, da = act.prelu_grad(z, a)
    ones = np.ones_like(z)
    assert rel_error(dz, numerical_gradient_array(lambda: act.prelu(z, a), z, ones)) < 1e-7
    num_a = numerical_gradient_array(lambda: act.prelu(z, a), a, ones)
    assert rel_error(da.sum(axis=0), num_a) < 1e-7


def test_values_against_the_math_module():
    for z in [-3.0, -0.5, 0.0, 0.7, 4.0]:
        assert act.sigmoid(z) == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-12)
        assert act.tanh(z) == pytest.approx(math.tanh(z), rel=1e-12)
        assert act.softplus(z) == pytest.approx(math.log1p(math.exp(z)), rel=1e-12)
        assert act.relu(z) == max(0.0, z)
        assert act.leaky_relu(z, 0.1) == (z if z > 0 else 0.1 * z)
        assert act.abs_rect(z) == abs(z)


def test_tanh_is_a_scaled_sigmoid():
    z = np.linspace(-6, 6, 101)
    assert np.allclose(act.tanh(z), 2 * act.sigmoid(2 * z) - 1, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_are_stable_at_1e4(dtype):
    z = np.array([-1e4, -800.0, 0.0, 800.0, 1e4], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        s = act.sigmoid(z)
        sp = act.softplus(z)
        g = act.sigmoid_grad(z)
    assert s.dtype == dtype and np.all(np.isfinite(s)) and np.all(np.isfinite(sp))
    assert s[0] == 0 and s[-1] == 1 and s[2] == 0.5
    assert sp[-1] == pytest.approx(1e4) and sp[0] == 0
    assert g[0] == 0 and g[-1] == 0


def test_maxout_groups_the_last_axis():
    z = np.array([[1.0, 5.0, -2.0, -3.0, 0.0, 4.0]])
    assert act.maxout(z, 2).tolist() == [[5.0, -2.0, 4.0]]
    assert act.maxout(z, 3).tolist() == [[5.0, 4.0]]
    assert act.maxout_grad(z, 3).tolist() == [[0, 1, 0, 0, 0, 1]]
    with pytest.raises(ValueError, match="groups of k=4"):
        act.maxout(z, 4)


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown activation"):
        act.get("swish")
