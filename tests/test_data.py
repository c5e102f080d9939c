"""Tests for course.data: shapes, dtypes, determinism, and values from independent formulas."""

import itertools

import numpy as np
import pytest

from course import data

CLASSIFICATION = {
    "xor_sampled": lambda seed: data.xor(n=40, noise=0.1, seed=seed),
    "circles": lambda seed: data.circles(n=101, seed=seed),
    "moons": lambda seed: data.moons(n=101, seed=seed),
    "blobs": lambda seed: data.blobs(n=301, centers=3, seed=seed),
    "spirals": lambda seed: data.spirals(n_per_class=50, classes=3, seed=seed),
    "digits": lambda seed: data.digits(seed=seed),
}
EXPECTED = {  # name -> (N, D, C)
    "xor_sampled": (40, 2, 2), "circles": (101, 2, 2), "moons": (101, 2, 2),
    "blobs": (301, 2, 3), "spirals": (150, 2, 3), "digits": (1797, 64, 10),
}


@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
def test_classification_sets_shapes_dtypes_and_balance(name):
    X, y = CLASSIFICATION[name](0)
    N, D, C = EXPECTED[name]
    assert X.shape == (N, D) and X.dtype == np.float64
    assert y.shape == (N,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=C)
    assert len(counts) == C
    if name != "digits":  # sampled sets: class sizes differ by at most one
        assert counts.max() - counts.min() <= 1
    assert not np.all(np.diff(y) >= 0), "labels should be shuffled, not sorted"


@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
def test_same_seed_same_data_different_seed_different_data(name):
    X0, y0 = CLASSIFICATION[name](0)
    X0b, y0b = CLASSIFICATION[name](0)
    X1, _ = CLASSIFICATION[name](1)
    np.testing.assert_array_equal(X0, X0b)
    np.testing.assert_array_equal(y0, y0b)
    assert X0.shape == X1.shape and not np.array_equal(X0, X1)


@pytest.mark.parametrize("make", [
    lambda seed: data.function_samples("sin", n=50, noise=0.1, seed=seed),
    lambda seed: data.sawtooth_data(n=50, compositions=2, seed=seed),
])
def test_regression_sets_are_deterministic(make):
    X0, y0 = make(0)
    X0b, y0b = make(0)
    X1, y1 = make(1)
    np.testing.assert_array_equal(X0, X0b)
    np.testing.assert_array_equal(y0, y0b)
    assert not np.array_equal(X0, X1)


def test_xor_truth_table():
    X, y = data.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_xor_sampled_points_sit_around_their_corner():
    X, y = data.xor(n=200, noise=0.05, seed=3)
    corner = np.round(X).astype(int)  # noise 0.05 never moves a point half-way
    np.testing.assert_array_equal(y, corner[:, 0] ^ corner[:, 1])
    assert np.bincount(corner[:, 0] * 2 + corner[:, 1]).tolist() == [50, 50, 50, 50]
    assert 0.03 < np.std(X - corner) < 0.07


def test_circles_and_moons_without_noise_lie_on_their_curves():
    X, y = data.circles(n=60, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    X, y = data.moons(n=60, noise=0.0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)
    assert np.all(X[y == 0, 1] >= -1e-12) and np.all(X[y == 1, 1] <= 0.5 + 1e-12)


def test_spirals_follow_the_cs231n_formula():
    n, classes = 30, 4
    X, y = data.spirals(n_per_class=n, classes=classes, noise=0.0)
    r = np.linspace(0, 1, n)
    for k in range(classes):
        t = np.linspace(4 * k, 4 * (k + 1), n)
        expected = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        arm = X[y == k]
        arm = arm[np.argsort(np.hypot(arm[:, 0], arm[:, 1]))]
        np.testing.assert_allclose(arm, expected, atol=1e-12)
    Xn, yn = data.spirals(n_per_class=n, classes=classes, noise=0.2)
    for k in range(classes):  # noise moves the angle only, never the radius
        np.testing.assert_allclose(np.sort(np.hypot(*Xn[yn == k].T)), r, atol=1e-12)


def test_blobs_centres_and_spread():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    X, y = data.blobs(n=4000, centers=centers, std=0.5)
    assert X.shape == (4000, 3)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.05)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, rtol=0.06)


def test_function_samples_named_and_callable():
    X, y = data.function_samples("sin", n=64)
    assert X.shape == (64, 1) and y.shape == (64, 1) and X.dtype == y.dtype == np.float64
    assert np.all(np.diff(X[:, 0]) > 0) and X.min() >= -1 and X.max() <= 1
    np.testing.assert_allclose(y, np.sin(np.pi * X))
    expected = {"abs": np.abs(X), "step": (X > 0) * 1.0, "cubic": X ** 3}
    for name, target in expected.items():
        np.testing.assert_allclose(data.function_samples(name, n=64)[1], target)
    bump = data.function_samples("gauss_bump", n=64)[1]
    assert np.all((bump > 0) & (bump <= 1))
    X2, y2 = data.function_samples(lambda x: 3 * x + 1, n=10, low=2, high=5, noise=0.5)
    assert X2.min() >= 2 and X2.max() <= 5
    residual = y2 - (3 * X2 + 1)
    assert 0 < np.abs(residual).max() < 3


def _independent_tent(x):
    return 1 - abs(2 * x - 1)


def test_tent_map_values():
    x = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    np.testing.assert_allclose(data.tent(x), [0.0, 0.2, 0.5, 1.0, 0.5, 0.2, 0.0])


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_sawtooth_teeth_count(k):
    X, y = data.sawtooth_data(n=3000, compositions=k, seed=1)
    assert X.shape == y.shape == (3000, 1)
    expected = X[:, 0]
    for _ in range(k):
        expected = np.array([_independent_tent(v) for v in expected])
    np.testing.assert_allclose(y[:, 0], expected, atol=1e-12)
    s = y[:, 0]
    local_maxima = np.sum((s[1:-1] > s[:-2]) & (s[1:-1] > s[2:]))
    assert local_maxima == 2 ** (k - 1)
    grid = np.linspace(0, 1, 2001)
    g = data.sawtooth(grid, 2 ** (k - 1))
    assert np.sum((g[1:-1] > g[:-2]) & (g[1:-1] >= g[2:])) == 2 ** (k - 1)
    composed = grid
    for _ in range(k):
        composed = np.array([_independent_tent(v) for v in composed])
    np.testing.assert_allclose(g, composed, atol=1e-12)


@pytest.mark.parametrize("n_bits", [1, 2, 5])
def test_parity_against_independent_enumeration(n_bits):
    X, y = data.parity(n_bits)
    rows = list(itertools.product([0, 1], repeat=n_bits))  # binary counting order
    assert X.shape == (2 ** n_bits, n_bits) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, np.array(rows, dtype=float))
    np.testing.assert_array_equal(y, [bin(i).count("1") % 2 for i in range(2 ** n_bits)])


def test_digits_shape_and_range():
    X, y = data.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_split_sizes_disjoint_and_complete():
    X = np.arange(100, dtype=float).reshape(50, 2)
    y = np.arange(50)
    Xtr, ytr, Xva, yva, Xte, yte = data.split(X, y, fractions=(0.6, 0.2, 0.2), seed=4)
    assert (len(Xtr), len(Xva), len(Xte)) == (30, 10, 10)
    for Xs, ys in [(Xtr, ytr), (Xva, yva), (Xte, yte)]:
        np.testing.assert_array_equal(Xs[:, 0], 2 * ys)  # rows stay with their labels
    ids = np.concatenate([ytr, yva, yte])
    assert sorted(ids.tolist()) == list(range(50))
    assert not np.array_equal(ytr, np.arange(30)), "split should shuffle"
    again = data.split(X, y, seed=4)
    np.testing.assert_array_equal(again[1], ytr)
    assert [len(part) for part in data.split(X, y, fractions=(0.5, 0.5, 0.0))[1::2]] == [
        25, 25, 0]


@pytest.mark.parametrize("fractions", [(0.5, 0.2, 0.2), (0.7, 0.5, -0.2), (0.5, 0.5)])
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        data.split(np.zeros((10, 2)), np.zeros(10), fractions=fractions)


def test_one_hot():
    y = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(data.one_hot(y), np.eye(3)[y])
    np.testing.assert_array_equal(data.one_hot(y, C=5), np.eye(5)[y])
    assert data.one_hot(y).dtype == np.float64
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        data.one_hot(y, C=2)
    with pytest.raises(ValueError, match="1-D"):
        data.one_hot(y.reshape(2, 2))


@pytest.mark.parametrize("call, match", [
    (lambda: data.circles(n=-5), "n must be"),
    (lambda: data.moons(n=0), "n must be"),
    (lambda: data.spirals(classes=1), "classes must be"),
    (lambda: data.spirals(n_per_class=-1), "n_per_class must be"),
    (lambda: data.blobs(centers=1), "centers must be"),
    (lambda: data.moons(noise=-0.1), "noise"),
    (lambda: data.xor(n=2.5, noise=0.1), "n must be"),
    (lambda: data.function_samples("nope"), "unknown function"),
    (lambda: data.function_samples("sin", low=1, high=0), "low < high"),
    (lambda: data.tent([1.5]), r"\[0, 1\]"),
    (lambda: data.sawtooth([0.5], 0), "teeth"),
    (lambda: data.parity(0), "n_bits"),
    (lambda: data.circles(factor=1.5), "factor"),
])
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_digits_are_scikit_learns_whether_or_not_its_file_is_found(monkeypatch):
    """Read from scikit-learn's file without importing it, or through load_digits: the
    same images and labels as load_digits gives, in the same shuffled order."""
    from sklearn.datasets import load_digits

    ref = load_digits()
    order = np.random.default_rng(3).permutation(len(ref.target))
    X, y = data.digits(seed=3)
    assert np.array_equal(X, ref.data[order] / 16.0) and np.array_equal(y, ref.target[order])
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    X2, y2 = data.digits(seed=3)
    assert np.array_equal(X2, X) and np.array_equal(y2, y)
