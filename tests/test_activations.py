"""Activation values, derivatives against central differences, and numerical stability."""

import math

import numpy as np
import pytest

from course import activations as act
from course.gradcheck import numerical_gradient_array, rel_error


@pytest.mark.parametrize("name", [n for n in act.ALL_NAMES if n not in ("prelu", "maxout")])
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


# ------------------------------------------------------------------ one registry


def softsign(z):
    return z / (1 + np.abs(z))


def softsign_grad(z):
    return 1 / (1 + np.abs(z)) ** 2


@pytest.fixture
def registered_softsign(monkeypatch):
    """softsign, added at run time by its one registry entry (and removed afterwards)."""
    monkeypatch.setitem(act.REGISTRY, "softsign", act.Activation(
        "softsign", softsign, softsign_grad, playground="soft sign"))
    return act.REGISTRY["softsign"]


def test_every_list_of_activations_derives_from_the_registry(registered_softsign):
    from course import layers, network, plots
    from course import playground as pg

    assert "softsign" in act.NAMES and "softsign" in act.ALL_NAMES
    assert "softsign" in layers.ACTIVATION_NAMES and "softsign" in plots.ACTIVATIONS
    assert pg.ACTIVATIONS["soft sign"] == "softsign"
    assert set(layers._LAYER_FUNCTIONS) <= set(act.ALL_NAMES)
    assert set(network._RELU_LIKE) == {n for n, a in act.REGISTRY.items() if a.he_init}


def test_a_new_activation_reaches_mlp_with_gradients_from_its_derivative(registered_softsign):
    from course.network import MLP

    rng = np.random.default_rng(5)
    X, dscores = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    model = MLP([3, 4, 2], hidden="softsign", output="linear", seed=2)
    P = model.params
    np.testing.assert_allclose(model.forward(X),
                               softsign(X @ P["W1"] + P["b1"]) @ P["W2"] + P["b2"])
    grads = model.backward(dscores)
    for name in ("W1", "b1", "W2"):  # central differences of sum(scores * dscores)
        num = numerical_gradient_array(lambda: model.forward(X), P[name], dscores)
        assert rel_error(grads[name], num) < 1e-7, name


def test_a_new_activation_reaches_the_playground_and_the_plots(registered_softsign):
    from course import playground as pg
    from course import plots

    trainer = pg.Trainer(pg.Config(activation="soft sign", layers=(3,)))
    assert trainer.model.hidden == ["softsign"]
    fig = plots.plot_activations()
    panel = fig.axes[list(plots.ACTIVATIONS).index("softsign")]
    assert panel.get_title() == "softsign"
    z = panel.lines[0].get_xdata()
    np.testing.assert_allclose(panel.lines[0].get_ydata(), softsign(z))
    np.testing.assert_allclose(panel.lines[1].get_ydata(), softsign_grad(z))


def test_a_new_activation_reaches_the_graders_reference_and_diagnoses(registered_softsign):
    from autograder import reference
    from autograder.checks.diagnosis import wrong_derivatives

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    P = {"W1": rng.standard_normal((3, 5)), "b1": rng.standard_normal(5),
         "W2": rng.standard_normal((5, 2)), "b2": rng.standard_normal(2)}
    dscores = rng.standard_normal((4, 2))
    scores, grads = reference.mlp(X, P, "softsign", dscores)
    z1 = X @ P["W1"] + P["b1"]
    np.testing.assert_allclose(scores, softsign(z1) @ P["W2"] + P["b2"])
    np.testing.assert_allclose(grads["W1"], X.T @ (dscores @ P["W2"].T * softsign_grad(z1)))
    alts = dict(wrong_derivatives("softsign", z1, softsign))
    at_output = alts["the derivative was evaluated at the output f(z) instead of the input z"]
    np.testing.assert_allclose(at_output, softsign_grad(softsign(z1)))

