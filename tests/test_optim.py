"""Optimisers, schedules and the training loop: XOR, spirals, determinism."""

import numpy as np
import pytest

from course import optim
from course.network import MLP

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])


def spirals(n=100, classes=3, seed=0):
    """The cs231n spiral data, written here so that the test does not lean on course.data."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(classes):
        r = np.linspace(0, 1, n)
        t = np.linspace(4 * k, 4 * (k + 1), n) + rng.standard_normal(n) * 0.2
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(n, k))
    return np.concatenate(X), np.concatenate(y)


def test_schedules():
    assert optim.constant(0.5)(10) == 0.5
    assert optim.inverse_time(2.0)(4) == 0.5
    assert optim.inverse_sqrt(3.0)(9) == 1.0
    assert optim.hyperbolic(10.0, 5.0)(5) == 1.0


def test_optimisers_follow_their_update_rules():
    g = {"w": np.array([2.0, -1.0])}
    p = {"w": np.array([1.0, 1.0])}
    optim.SGD(0.1).step(p, g)
    assert np.allclose(p["w"], [0.8, 1.1])
    p, m = {"w": np.array([1.0, 1.0])}, optim.Momentum(0.1, beta=0.5)
    m.step(p, g)
    m.step(p, g)  # v1 = -0.1 g, v2 = 0.5 v1 - 0.1 g = -0.15 g
    assert np.allclose(p["w"], 1 - 0.25 * g["w"])
    p, a = {"w": np.array([1.0, 1.0])}, optim.Adam(0.01)
    a.step(p, g)  # the first Adam step moves each weight by lr against the sign of g
    assert np.allclose(p["w"], [0.99, 1.01], atol=1e-6)
    p, r = {"w": np.array([1.0, 1.0])}, optim.RMSProp(0.01, rho=0.0)
    r.step(p, g)
    assert np.allclose(p["w"], [0.99, 1.01], atol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        optim.SGD(0)


def test_schedule_is_used_step_by_step():
    p, g = {"w": np.zeros(1)}, {"w": np.ones(1)}
    opt = optim.SGD(optim.inverse_time(1.0))
    for _ in range(3):
        opt.step(p, g)
    assert p["w"][0] == pytest.approx(-(1 + 1 / 2 + 1 / 3))


def test_training_solves_xor():
    net = MLP([2, 4, 1], hidden="tanh", output="sigmoid", seed=0)
    hist = optim.train(net, XOR_X, XOR_Y, optim.SGD(0.5), epochs=1500, progress=False)
    assert net.accuracy(XOR_X, XOR_Y) == 1.0
    assert hist["train_loss"][-1] < 0.1 < hist["train_loss"][0]


def test_training_reaches_95_percent_on_spirals():
    X, y = spirals()
    net = MLP([2, 64, 64, 3], hidden="relu", seed=0)
    hist = optim.train(net, X, y, optim.Adam(0.01), epochs=300, batch_size=64, progress=False)
    assert net.accuracy(X, y) >= 0.95
    assert hist["train_acc"][-1] >= 0.9


@pytest.mark.parametrize("batch_size", [None, 32, 1])
def test_training_is_deterministic_under_a_fixed_seed(batch_size):
    X, y = spirals(n=30)
    runs = []
    for _ in range(2):
        net = MLP([2, 8, 3], seed=7)
        h = optim.train(net, X, y, optim.Momentum(0.05), epochs=5, batch_size=batch_size,
                        X_val=X, y_val=y, seed=3, progress=False)
        runs.append((h, net.params))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    assert len(runs[0][0]["val_acc"]) == 5


def test_minibatches_cover_every_example_once():
    batches = list(optim.iterate_minibatches(1000, 50, np.random.default_rng(0)))
    assert len(batches) == 20
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))


def test_train_rejects_mismatched_data():
    with pytest.raises(ValueError, match="must match"):
        optim.train(MLP([2, 2]), np.zeros((3, 2)), np.zeros(2, int), optim.SGD(0.1), 1,
                    progress=False)


def test_optimizer_path_with_sgd_is_descent_path_and_momentum_follows_its_rule():
    from course.optim import SGD, Momentum, descent_path, optimizer_path

    def grad(w):
        return np.array([1.0, 10.0]) * w

    np.testing.assert_allclose(optimizer_path(SGD(0.05), grad, [1.0, 1.0], 30),
                               descent_path(grad, [1.0, 1.0], 0.05, 30), rtol=0, atol=1e-15)
    path = optimizer_path(Momentum(0.05, beta=0.5), grad, [1.0, -2.0], 3)
    w, v, expected = np.array([1.0, -2.0]), np.zeros(2), [np.array([1.0, -2.0])]
    for _ in range(3):                                   # v <- beta v - lr g, w <- w + v
        v = 0.5 * v - 0.05 * grad(w)
        w = w + v
        expected.append(w)
    np.testing.assert_allclose(path, expected, rtol=1e-14)
    assert len(optimizer_path(SGD(1.0), lambda w: 1e200 * w, [1.0], 10)) < 11   # diverged
