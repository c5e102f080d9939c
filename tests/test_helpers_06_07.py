"""Helpers added for chapters 06 (universal approximation) and 07 (depth).

Expected values come from independent computations: np.interp, the sigmoid written out
with math.exp, kinks placed by hand, and the tent map iterated directly.
"""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from course import plots
from course.network import (
    MLP,
    activation_patterns,
    count_linear_regions,
    relu_interpolant,
    segment_points,
    sigmoid_staircase,
)


def test_relu_interpolant_matches_np_interp_on_uneven_knots():
    rng = np.random.default_rng(0)
    knots = np.sort(rng.uniform(-2, 3, 7))
    values = rng.standard_normal(7)
    model = relu_interpolant(knots, values)
    x = np.linspace(knots[0], knots[-1], 501)
    out = model.forward(x[:, None])[:, 0]
    np.testing.assert_allclose(out, np.interp(x, knots, values), atol=1e-12)
    assert model.sizes == [1, 21, 1]
    assert model.num_parameters() == 3 * 21 + 1


def test_relu_interpolant_error_within_the_textbook_bound():
    # |f - interpolant| <= h^2 / 8 * max |f''|; for sin(pi x), max |f''| = pi^2.
    for K in (4, 16):
        knots = np.linspace(-1, 1, K + 1)
        model = relu_interpolant(knots, np.sin(np.pi * knots))
        x = np.linspace(-1, 1, 4001)
        err = np.abs(model.forward(x[:, None])[:, 0] - np.sin(np.pi * x)).max()
        assert err <= (2 / K) ** 2 * np.pi ** 2 / 8


def test_relu_interpolant_rejects_bad_knots():
    with pytest.raises(ValueError):
        relu_interpolant([0.0, 0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        relu_interpolant([0.0, 1.0], [1.0])


def test_sigmoid_staircase_is_the_written_out_sum():
    knots = np.array([0.0, 1.0, 3.0])
    values = np.array([2.0, -1.0, 0.5])
    s = 4.0
    model = sigmoid_staircase(knots, values, s)
    for x in (-1.0, 0.3, 2.0, 3.5):
        expected = 2.0 + (-3.0) / (1 + math.exp(-s * (x - 0.5))) \
            + 1.5 / (1 + math.exp(-s * (x - 2.0)))
        assert model.forward(np.array([[x]]))[0, 0] == pytest.approx(expected, rel=1e-12)


def test_sigmoid_staircase_tends_to_the_nearest_knot_value():
    knots = np.linspace(0, 1, 5)
    values = np.array([0.0, 1.0, -2.0, 3.0, 0.5])
    model = sigmoid_staircase(knots, values, 1e4)
    near = knots + 0.05  # within a quarter spacing of each knot
    np.testing.assert_allclose(model.forward(near[:, None])[:, 0], values, atol=1e-9)


def _shallow_with_kinks(kinks):
    """One hidden layer of ReLUs relu(x - c), output weights 1: kinks exactly at c."""
    model = MLP([1, len(kinks), 1], hidden="relu", output="linear")
    model.params.update(W1=np.ones((1, len(kinks))), b1=-np.asarray(kinks, float),
                        W2=np.ones((len(kinks), 1)), b2=np.zeros(1))
    return model


def test_activation_patterns_of_a_hand_set_layer():
    model = _shallow_with_kinks([0.0, 1.0])
    pats = activation_patterns(model, np.array([[-1.0], [0.5], [2.0]]))
    np.testing.assert_array_equal(pats, [[False, False], [True, False], [True, True]])


def test_activation_patterns_needs_piecewise_linear_units():
    with pytest.raises(ValueError):
        activation_patterns(MLP([1, 3, 1], hidden="sigmoid"), np.zeros((2, 1)))


def test_count_linear_regions_counts_kinks_inside_the_segment():
    model = _shallow_with_kinks([-3.0, 0.1, 0.4, 0.7, 5.0])
    assert count_linear_regions(model, 0.0, 1.0) == 4
    assert count_linear_regions(model, -4.0, 6.0) == 6


def _tent_composition(k):
    """k hidden layers of two ReLUs computing tent^k on [0, 1]."""
    model = MLP([1] + [2] * k + [1], hidden="relu", output="linear")
    out_w = np.array([[2.0], [-4.0]])
    for i in range(1, k + 1):
        model.params[f"W{i}"] = np.array([[1.0, 1.0]]) if i == 1 else out_w @ [[1.0, 1.0]]
        model.params[f"b{i}"] = np.array([0.0, -0.5])
    model.params[f"W{k + 1}"], model.params[f"b{k + 1}"] = out_w, np.zeros(1)
    return model


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_count_linear_regions_of_the_tent_composition(k):
    model = _tent_composition(k)
    x = np.linspace(0, 1, 257)
    y = x.copy()
    for _ in range(k):
        y = np.where(y <= 0.5, 2 * y, 2 - 2 * y)
    np.testing.assert_allclose(model.forward(x[:, None])[:, 0], y, atol=1e-12)
    assert count_linear_regions(model, 0.0, 1.0) == 2 ** k


def test_count_linear_regions_along_a_line_in_the_plane():
    # relu(x1) + relu(x2) along (-1, -2) -> (1, 2) has kinks where x1 = 0 and x2 = 0:
    # both at t = 1/2, so there are two pieces; along (-1, 1) -> (1, -1) three.
    model = MLP([2, 2, 1], hidden="relu", output="linear")
    model.params.update(W1=np.eye(2), b1=np.zeros(2), W2=np.ones((2, 1)), b2=np.zeros(1))
    assert count_linear_regions(model, [-1.0, -2.0], [1.0, 2.0]) == 2
    assert count_linear_regions(model, [-1.0, 1.0], [1.0, -1.0]) == 2
    assert count_linear_regions(model, [-1.0, 0.5], [1.0, -1.5]) == 3


def test_segment_points_avoid_dyadic_kinks_and_stay_inside():
    pts = segment_points([0.0, 1.0], [1.0, -1.0], num=64)
    assert pts.shape == (64, 2)
    t = pts[:, 0]
    assert np.all(np.diff(t) > 0) and 0 < t[0] and t[-1] < 1
    np.testing.assert_allclose(pts[:, 1], 1 - 2 * t)
    assert not np.any(np.isin(t * 2 ** 12, np.arange(2 ** 12 + 1)))  # no k / 4096 exactly


def test_plot_scaling_base_two_labels_plain_numbers():
    fig = plots.plot_scaling([2, 3, 4], {"w": [2, 8, 32]}, logy=True, base=2)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.yaxis.get_major_formatter()(8.0, 0) == "8"


def test_plot_scaling_draws_one_line_per_curve_on_log_axes():
    fig = plots.plot_scaling([1, 2, 4], {"a": [1.0, 0.5, 0.25], "b": ([1, 4], [2.0, 1.0])},
                             logx=True, logy=True, xlabel="width", ylabel="error")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "width"
    with pytest.raises(ValueError):
        plots.plot_scaling([1, 2], {"bad": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError):
        plots.plot_scaling([1, 2], {})


def test_plot_linear_regions_shades_each_piece():
    x = np.linspace(0, 1, 9)
    patterns = np.array([[0], [0], [0], [1], [1], [0], [0], [1], [1]], dtype=bool)
    fig = plots.plot_linear_regions(x, x ** 2, patterns, title="demo")
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert ax.get_title() == "demo: 4 linear pieces"
    with pytest.raises(ValueError):
        plots.plot_linear_regions(x, x[:-1], patterns)
