"""Losses: values from first principles, gradients by central differences, stability at 1e4."""

import math

import numpy as np
import pytest

from course import losses
from course.gradcheck import numerical_gradient, rel_error


def test_softmax_worked_example():
    z = [1.60, 0.55, 0.98]
    expected = [math.exp(v) / sum(math.exp(u) for u in z) for v in z]
    p = losses.softmax(np.array(z))
    assert np.allclose(p, expected, atol=1e-15)
    assert np.round(p, 2).tolist() == [0.53, 0.19, 0.28]


def test_log_softmax_is_z_minus_logsumexp():
    z = np.random.default_rng(0).standard_normal((5, 4))
    ref = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert np.allclose(losses.log_softmax(z), ref, atol=1e-12)


@pytest.mark.parametrize("name", ["mse", "bce", "cross_entropy", "cross_entropy_onehot"])
def test_gradients_match_central_differences(name):
    rng = np.random.default_rng(3)
    n, c = 7, 4
    if name == "mse":
        s, y, fn = rng.standard_normal((n, c)), rng.standard_normal((n, c)), losses.mse
    elif name == "bce":
        fn = losses.bce_with_logits
        s, y = rng.standard_normal((n, 1)) * 3, rng.integers(0, 2, (n, 1))
    else:
        fn = losses.softmax_cross_entropy
        s, y = rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)
        if name.endswith("onehot"):
            y = np.eye(c)[y]
    _, ds = fn(s, y)
    assert rel_error(ds, numerical_gradient(lambda: fn(s, y)[0], s)) < 1e-7


def test_values_from_first_principles():
    s = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = np.array([2, 1])
    expected = -np.mean([math.log(math.exp(s[i, y[i]]) / sum(math.exp(v) for v in s[i]))
                         for i in range(2)])
    assert losses.softmax_cross_entropy(s, y)[0] == pytest.approx(expected, rel=1e-12)
    assert losses.softmax_cross_entropy(s, np.eye(3)[y])[0] == pytest.approx(expected, rel=1e-12)
    z, t = np.array([0.3, -2.0]), np.array([1, 0])
    p = 1 / (1 + np.exp(-z))
    bce = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert losses.bce_with_logits(z, t)[0] == pytest.approx(bce, rel=1e-12)
    assert losses.mse(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))[0] == pytest.approx(2.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_logits_of_magnitude_1e4(dtype):
    s = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], dtype=dtype)
    y = np.array([1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        loss, ds = losses.softmax_cross_entropy(s, y)
        p = losses.softmax(s)
        lp = losses.log_softmax(s)
    assert loss == pytest.approx(1e4 / 2, rel=1e-6)  # first row pays 1e4, second 0
    assert np.all(np.isfinite(ds)) and np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    assert lp[0, 1] == pytest.approx(-1e4)
    z = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    t = np.array([0, 1, 1, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        bl, bg = losses.bce_with_logits(z, t)
    assert bl == pytest.approx(1e4 / 2, rel=1e-6)
    assert np.allclose(bg, np.array([1, -1, 0, 0]) / 4)


def test_bad_targets_are_clear_errors():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="rows"):
        losses.mse(np.zeros((2, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="shape"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 2)))
