"""Tests of the helpers added for chapters 03 (activations) and 04 (output units)."""

import math

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course import plots, widgets  # noqa: E402
from course.network import MLP, dead_units  # noqa: E402


def softmax_by_hand(z):
    """Softmax with the math module, one logit at a time (independent of numpy)."""
    m = max(z)
    e = [math.exp(v - m) for v in z]
    return [v / sum(e) for v in e]


# dead_units ---------------------------------------------------------------------------

def test_dead_units_marks_units_negative_on_every_row():
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -3.0]])
    net = MLP([2, 3, 2, 1], hidden="relu", output="sigmoid", seed=0)
    # unit 0 of layer 1: z = x0 + x1 - 10 < 0 everywhere (dead);
    # unit 1: z = x0 (positive on row 0); unit 2: z = -x1 + 0.1 (positive on rows 1, 2)
    net.params["W1"][:] = [[1.0, 1.0, 0.0], [1.0, 0.0, -1.0]]
    net.params["b1"][:] = [-10.0, 0.0, 0.1]
    # layer 2 sees h >= 0: unit 0 has weights <= 0 and bias -1 (dead); unit 1 weights 1
    net.params["W2"][:] = [[0.0, 1.0], [-1.0, 1.0], [-2.0, 1.0]]
    net.params["b2"][:] = [-1.0, 0.0]
    first, second = dead_units(net, X)
    assert first.tolist() == [True, False, False]
    assert second.tolist() == [True, False]


def test_dead_units_agrees_with_plain_numpy_on_a_random_net():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    net = MLP([3, 20, 15, 2], hidden="relu", seed=3)
    net.params["b1"][:] = rng.normal(-1.5, 1.0, 20)
    net.params["b2"][:] = rng.normal(-1.0, 1.0, 15)
    h1 = np.maximum(X @ net.params["W1"] + net.params["b1"], 0)
    h2 = np.maximum(h1 @ net.params["W2"] + net.params["b2"], 0)
    expected = [np.all(h1 == 0, axis=0), np.all(h2 == 0, axis=0)]
    got = dead_units(net, X)
    assert [m.tolist() for m in got] == [m.tolist() for m in expected]
    assert expected[0].any() and not expected[0].all()  # the case is not trivial


def test_dead_units_of_non_rectifiers_and_maxout():
    X = np.random.default_rng(0).standard_normal((10, 2))
    assert not dead_units(MLP([2, 4, 2], hidden="tanh"), X)[0].any()
    mx = MLP([2, 3, 2], hidden="maxout", k=2, seed=0)
    mx.params["W1"][:] = 0.0
    mx.params["b1"][:] = [0.0, -1.0, 1.0, 2.0, -3.0, 0.0]  # maxima 0, 2, 0
    assert dead_units(mx, X)[0].tolist() == [True, False, True]


def test_dead_units_ignores_the_skip_connection():
    X = np.ones((4, 3))
    net = MLP([3, 3, 3, 1], hidden="relu", output="linear", skip=True, seed=0)
    net.params["b1"][:] = [-100.0, 0.0, 0.0]
    net.params["W1"][:] = 0.0
    dead = dead_units(net, X)[0]
    assert dead.tolist() == [True, True, True]  # relu(0) = 0 and relu(-100) = 0
    # the hidden output still carries the input through the skip connection
    assert np.all(net.hidden_activations(X)[0] == 1.0)


# plot_curves --------------------------------------------------------------------------

def test_plot_curves_draws_one_labelled_line_per_curve():
    x = np.linspace(-2, 2, 9)
    fig = plots.plot_curves(x, {"square": x ** 2, "cube": x ** 3}, xlabel="z",
                            ylabel="value", title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.array_equal(lines["square"].get_ydata(), [4, 2.25, 1, 0.25, 0, 0.25, 1, 2.25, 4])
    assert np.array_equal(lines["cube"].get_xdata(), x)
    assert ax.get_xlabel() == "z" and ax.get_ylabel() == "value" and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["square", "cube"]


def test_plot_curves_draws_on_a_given_axes_and_checks_lengths():
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_curves([0, 1], {"a": [1, 2]}, ax=ax) is fig
    with pytest.raises(ValueError):
        plots.plot_curves([0, 1, 2], {"a": [1, 2]})
    with pytest.raises(ValueError):
        plots.plot_curves([0, 1], {})


# plot_softmax -------------------------------------------------------------------------

def test_plot_softmax_bars_are_the_softmax_probabilities():
    z = [1.60, 0.55, 0.98]
    fig = plots.plot_softmax(z)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert heights == pytest.approx(softmax_by_hand(z), abs=1e-12)
    assert heights == pytest.approx([0.5297, 0.1854, 0.2849], abs=1e-4)


def test_plot_softmax_temperature_and_loss_in_title():
    z, T = [2.0, -1.0, 0.5, 0.0], 0.5
    fig = plots.plot_softmax(z, y=2, temperature=T)
    ax = fig.axes[0]
    p = softmax_by_hand([v / T for v in z])
    assert [b.get_height() for b in ax.patches] == pytest.approx(p, abs=1e-12)
    assert f"{-math.log(p[2]):.3f}" in ax.get_title()
    assert ax.patches[2].get_linewidth() > ax.patches[0].get_linewidth()


def test_plot_softmax_loss_is_finite_for_huge_logits():
    fig = plots.plot_softmax([1000.0, 0.0], y=1)
    assert "loss -log p = 1000.000" in fig.axes[0].get_title()
    assert [b.get_height() for b in fig.axes[0].patches] == [1.0, 0.0]


@pytest.mark.parametrize("args", [dict(z=[1.0]), dict(z=[1.0, 2.0], temperature=0.0),
                                  dict(z=[1.0, 2.0], y=2)])
def test_plot_softmax_rejects_bad_input(args):
    with pytest.raises(ValueError):
        plots.plot_softmax(**args)


# softmax_explorer ---------------------------------------------------------------------

def test_softmax_explorer_redraws_when_a_control_moves():
    w = widgets.softmax_explorer(z=(1.0, 0.0), y=0)
    assert isinstance(w, ipywidgets.interactive)
    controls = {c.description: c for c in w.children if hasattr(c, "description")}
    assert set(controls) >= {"z0", "z1", "T", "target"}
    heights = [b.get_height() for b in w.result.axes[0].patches]
    assert heights == pytest.approx(softmax_by_hand([1.0, 0.0]), abs=1e-12)
    controls["z1"].value = 3.0
    controls["T"].value = 10.0
    heights = [b.get_height() for b in w.result.axes[0].patches]
    assert heights == pytest.approx(softmax_by_hand([0.1, 0.3]), abs=1e-12)
    controls["target"].value = 1
    assert f"{-math.log(softmax_by_hand([0.1, 0.3])[1]):.3f}" in w.result.axes[0].get_title()


def test_softmax_explorer_needs_two_logits():
    with pytest.raises(ValueError):
        widgets.softmax_explorer(z=(1.0,))
