"""Every backward pass against central differences in float64, on random shapes and seeds."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import layers
from course.gradcheck import numerical_gradient_array, rel_error

TOL = 1e-7
H = 1e-6  # numerical_gradient_array's step
shapes = st.tuples(st.integers(1, 6), st.integers(1, 7), st.integers(1, 5))
seeds = st.integers(0, 2**31 - 1)


def away_from_kinks(rng, shape, margin=1e-3):
    """Draw normal values but keep them off the kink at 0 of piecewise-linear units."""
    z = rng.standard_normal(shape)
    return np.where(np.abs(z) < margin, np.sign(z + 1e-300) * margin * 10, z)


@settings(max_examples=25, deadline=None)
@given(shapes, seeds)
def test_affine_backward_matches_central_differences(shape, seed):
    n, d, h = shape
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, d)), rng.standard_normal((d, h)), rng.standard_normal(h)
    dout = rng.standard_normal((n, h))
    _, cache = layers.affine_forward(x, W, b)
    dx, dW, db = layers.affine_backward(dout, cache)
    f = lambda: layers.affine_forward(x, W, b)[0]  # noqa: E731
    assert rel_error(dx, numerical_gradient_array(f, x, dout)) < TOL
    assert rel_error(dW, numerical_gradient_array(f, W, dout)) < TOL
    assert rel_error(db, numerical_gradient_array(f, b, dout)) < TOL
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape


ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "abs", "softplus", "identity",
               "square"]


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=seeds)
def test_activation_backward_matches_central_differences(name, shape, seed):
    n, h, _ = shape
    rng = np.random.default_rng(seed)
    z = away_from_kinks(rng, (n, h)) * 3
    dout = rng.standard_normal((n, h))
    args = (0.07,) if name == "leaky_relu" else ()
    out, cache = layers.activation_forward(z, name, *args)
    dz = layers.activation_backward(dout, cache)
    num = numerical_gradient_array(lambda: layers.activation_forward(z, name, *args)[0], z, dout)
    # Central differences of sum(f(z) * dout) with step h carry a rounding error of about
    # eps * sum|f(z) * dout| / h. Where tanh or sigmoid saturate (|z| reaches 9 here) the
    # derivative itself is that small (1 - tanh(9)**2 = 6e-8), so the comparison allows it.
    noise = np.finfo(np.float64).eps * np.sum(np.abs(out * dout)) / H
    assert rel_error(dz, num) < TOL or np.linalg.norm(dz - num) <= noise


@settings(max_examples=25, deadline=None)
@given(shapes, seeds)
def test_prelu_backward_gives_input_and_slope_gradients(shape, seed):
    n, h, _ = shape
    rng = np.random.default_rng(seed)
    z = away_from_kinks(rng, (n, h))
    a = rng.uniform(-0.5, 0.5, h)
    dout = rng.standard_normal((n, h))
    _, cache = layers.prelu_forward(z, a)
    dz, da = layers.prelu_backward(dout, cache)
    f = lambda: layers.prelu_forward(z, a)[0]  # noqa: E731
    assert rel_error(dz, numerical_gradient_array(f, z, dout)) < TOL
    assert rel_error(da, numerical_gradient_array(f, a, dout)) < TOL
    assert da.shape == a.shape


@settings(max_examples=25, deadline=None)
@given(shapes, seeds, st.integers(1, 4))
def test_maxout_backward_routes_to_winners(shape, seed, k):
    n, h, _ = shape
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, h * k))
    dout = rng.standard_normal((n, h))
    out, cache = layers.maxout_forward(z, k)
    # independent forward: the max over each group of k consecutive columns
    expected = np.array([[z[i, j * k:(j + 1) * k].max() for j in range(h)] for i in range(n)])
    assert np.array_equal(out, expected)
    dz = layers.maxout_backward(dout, cache)
    num = numerical_gradient_array(lambda: layers.maxout_forward(z, k)[0], z, dout)
    assert rel_error(dz, num) < TOL


def test_step_passes_no_gradient():
    z = np.array([[-1.0, 0.5, 2.0]])
    out, cache = layers.step_forward(z)
    assert out.tolist() == [[0.0, 1.0, 1.0]]
    assert not layers.step_backward(np.ones_like(z), cache).any()


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        layers.activation_forward(np.zeros(3), "relu6")


@settings(max_examples=25, deadline=None)
@given(shapes, seeds, st.sampled_from([0.1, 0.5, 0.8]))
def test_dropout_backward_matches_central_differences_with_the_mask_fixed(shape, seed, p):
    n, h, _ = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h))
    dout = rng.standard_normal((n, h))
    out, mask = layers.dropout_forward(x, p, seed=seed)
    # the same seed draws the same mask, so the forward pass is a fixed linear map of x
    f = lambda: layers.dropout_forward(x, p, seed=seed)[0]  # noqa: E731
    dx = layers.dropout_backward(dout, mask)
    assert rel_error(dx, numerical_gradient_array(f, x, dout)) < TOL
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p))   # survivors scaled by 1/(1-p)


def test_dropout_keeps_the_expected_value_and_drops_a_share_p():
    x = np.ones((400, 500))
    out, _ = layers.dropout_forward(x, 0.3, seed=1)
    assert abs(np.mean(out == 0) - 0.3) < 0.005          # 200 000 draws: sd of the share 0.001
    assert abs(out.mean() - 1.0) < 0.01                   # inverted: E[out] = x


def test_dropout_at_test_time_is_the_identity():
    x = np.arange(6.0).reshape(2, 3)
    out, cache = layers.dropout_forward(x, 0.5, seed=0, train=False)
    assert out is x and cache is None
    assert layers.dropout_backward(np.ones_like(x), cache).tolist() == np.ones_like(x).tolist()
    with pytest.raises(ValueError, match="drop probability"):
        layers.dropout_forward(x, 1.0)
