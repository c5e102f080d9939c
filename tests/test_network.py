"""Whole-network gradients against an independent autodiff library (autograd) to 1e-10."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from course.gradcheck import check_network, numerical_gradient, rel_error
from course.network import MLP, gradient_norms

ACTS = {
    "sigmoid": lambda z, p, i: 1 / (1 + anp.exp(-z)),
    "tanh": lambda z, p, i: anp.tanh(z),
    "relu": lambda z, p, i: anp.maximum(z, 0),
    "leaky_relu": lambda z, p, i: anp.where(z > 0, z, 0.01 * z),
    "prelu": lambda z, p, i: anp.where(z > 0, z, p[f"a{i}"] * z),
    "abs": lambda z, p, i: anp.abs(z),
    "softplus": lambda z, p, i: anp.log(1 + anp.exp(z)),
    "identity": lambda z, p, i: z,
    "maxout": lambda z, p, i: anp.max(anp.reshape(z, (z.shape[0], -1, 2)), axis=2),
}


def reference_loss(params, X, y, hidden, output, l1, l2, skip):
    """The same network written directly in autograd.numpy, sharing no code with course."""
    L = sum(1 for k in params if k.startswith("W"))
    h = X
    for i in range(1, L):
        a = ACTS[hidden[i - 1]](anp.dot(h, params[f"W{i}"]) + params[f"b{i}"], params, i)
        h = a + h if skip and a.shape == h.shape else a
    s = anp.dot(h, params[f"W{L}"]) + params[f"b{L}"]
    n = X.shape[0]
    if output == "linear":
        data = 0.5 * anp.sum((s - y) ** 2) / n
    elif output == "sigmoid":
        p = 1 / (1 + anp.exp(-s[:, 0]))
        data = -anp.sum(y * anp.log(p) + (1 - y) * anp.log(1 - p)) / n
    else:
        m = anp.max(s, axis=1, keepdims=True)
        logp = s - m - anp.log(anp.sum(anp.exp(s - m), axis=1, keepdims=True))
        data = -anp.sum(logp[np.arange(n), y]) / n
    weights = [params[f"W{i}"] for i in range(1, L + 1)]
    pen = sum(0.5 * l2 * anp.sum(W * W) + l1 * anp.sum(anp.abs(W)) for W in weights)
    return data + pen


def problem(output, rng, n=9, d=4, c=3):
    X = rng.standard_normal((n, d))
    if output == "linear":
        return X, rng.standard_normal((n, c)), c
    if output == "sigmoid":
        return X, rng.integers(0, 2, n).astype(float), 1
    return X, rng.integers(0, c, n), c


CASES = [(act, out, l2, skip) for act in ACTS for out in ("softmax", "sigmoid", "linear")
         for l2, skip in ((0.0, False), (0.3, True))]


@pytest.mark.parametrize("act,output,l2,skip", CASES)
def test_network_gradients_match_autograd(act, output, l2, skip):
    rng = np.random.default_rng(abs(hash((act, output, l2, skip))) % 2**32)
    X, y, c = problem(output, rng)
    hidden = [act, act, "tanh"]
    net = MLP([4, 6, 6, 5, c], hidden=hidden, output=output, l2=l2, l1=0.05 if l2 else 0.0,
              skip=skip, seed=int(rng.integers(1000)))
    for k in net.params:  # nonzero biases and slopes, so every term is exercised
        if k[0] in "ba":
            net.params[k] += rng.uniform(-0.3, 0.3, net.params[k].shape)
    loss, grads = net.loss(X, y)
    ref = grad(reference_loss)(dict(net.params), X, y, hidden, output, net.l1, l2, skip)
    assert loss == pytest.approx(
        reference_loss(net.params, X, y, hidden, output, net.l1, l2, skip), rel=1e-12)
    assert set(grads) == set(net.params)
    for k in net.params:
        assert grads[k].shape == net.params[k].shape
        assert rel_error(grads[k], ref[k]) < 1e-10, k


def test_gradcheck_report_names_the_wrong_parameter():
    rng = np.random.default_rng(0)
    X, y, c = problem("softmax", rng)
    net = MLP([4, 5, c], hidden="tanh", seed=1)
    good = check_network(net, X, y)
    assert good.worst[1] < 1e-7 and good.failing() == []
    original = net.backward

    def broken(dscores, input_grad=False):
        g = original(dscores, input_grad)
        g["W1"] = g["W1"] * 1.1
        return g

    net.backward = broken
    report = check_network(net, X, y)
    assert report.failing() == ["W1"] and report.worst[0] == "W1"
    assert "W1" in str(report)


def test_float32_network_runs_in_float32_and_agrees_with_float64():
    rng = np.random.default_rng(5)
    X, y, c = problem("softmax", rng)
    n64 = MLP([4, 8, c], seed=3)
    n32 = MLP([4, 8, c], seed=3, dtype=np.float32)
    l64, g64 = n64.loss(X, y)
    l32, g32 = n32.loss(X, y)
    assert all(v.dtype == np.float32 for v in g32.values())
    assert l32 == pytest.approx(l64, rel=1e-5)
    assert all(rel_error(g32[k], g64[k]) < 1e-4 for k in g64)


def test_initialisation_scales():
    he = MLP([400, 300, 2], hidden="relu", seed=0)
    xa = MLP([400, 300, 2], hidden="tanh", seed=0)
    assert he.params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert xa.params["W1"].std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert MLP([3, 2], init=0.0).params["W1"].std() == 0


def test_bad_configurations_are_clear_errors():
    with pytest.raises(ValueError, match="sigmoid output unit needs exactly one output"):
        MLP([2, 3, 2], output="sigmoid")
    with pytest.raises(ValueError, match="2 hidden layers but 1 activations"):
        MLP([2, 3, 3, 1], hidden=["relu"])
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        MLP([2, 3, 2]).forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="unknown output"):
        MLP([2, 2], output="tanh")


def test_gradient_norms_lists_layers_in_order():
    grads = {"W1": np.ones((2, 2)), "b1": np.ones(2), "W2": np.zeros((2, 1)), "b2": np.ones(1)}
    assert gradient_norms(grads) == [2.0, 0.0]


@pytest.mark.parametrize("skip", [False, True])
def test_dropout_network_gradients_match_central_differences_with_a_fixed_mask(skip):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((7, 4)), rng.integers(0, 3, size=7)
    net = MLP([4, 6, 6, 3], hidden="tanh", dropout=0.4, skip=skip, seed=2)

    def loss_with_mask_5():
        net._dropout_rng = np.random.default_rng(5)   # the same mask on every call
        return net.loss(X, y)[0]

    net._dropout_rng = np.random.default_rng(5)
    _, grads = net.loss(X, y)
    dropped = net._caches[0][3] == 0
    assert dropped.any() and not dropped.all()          # some units dropped, not all
    for k, p in net.params.items():
        assert rel_error(grads[k], numerical_gradient(loss_with_mask_5, p)) < 1e-7, k


def test_dropout_is_off_outside_training_and_changes_the_loss_inside():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, size=20)
    plain, dropped = MLP([3, 16, 2], seed=1), MLP([3, 16, 2], seed=1, dropout=0.5)
    assert np.array_equal(plain.forward(X), dropped.forward(X))      # same weights, no mask
    assert np.array_equal(plain.predict(X), dropped.predict(X))
    assert plain.loss(X, y)[0] != dropped.loss(X, y)[0]
    with pytest.raises(ValueError, match="dropout"):
        MLP([3, 4, 2], dropout=1.0)


def test_width_for_budget_is_the_widest_network_within_the_budget():
    from course.network import width_for_budget

    assert width_for_budget(1, 1, 1, 169) == 56                 # 3 H + 1 = 169
    assert width_for_budget(1, 1, 3, 169) == 8                  # 2 H^2 + 5 H + 1 = 169
    for D, C, depth, budget in [(2, 2, 2, 300), (3, 1, 4, 1000), (1, 1, 2, 50)]:
        H = width_for_budget(D, C, depth, budget)
        assert MLP([D] + [H] * depth + [C]).num_parameters() <= budget
        assert MLP([D] + [H + 1] * depth + [C]).num_parameters() > budget
    with pytest.raises(ValueError, match="width 1"):
        width_for_budget(10, 10, 3, 20)
