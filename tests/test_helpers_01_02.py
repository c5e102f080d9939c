"""Tests of the helpers added for chapters 01 (perceptron) and 02 (XOR)."""

import numpy as np
import pytest

from course.optim import perceptron_predict, perceptron_train

TRUTH = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def test_perceptron_on_and_matches_a_hand_trace():
    # Traced by hand with lr = 1 from w = (0, 0), b = 0, examples in table order:
    # epoch 1: 2 updates, 2: 3, 3: 3, 4: 2, 5: 1, 6: none (stop).
    w, b, history = perceptron_train(TRUTH, [0, 0, 0, 1], lr=1.0, epochs=20)
    assert np.array_equal(w, [2.0, 1.0]) and b == -3.0
    assert len(history) == 12
    expected_start = [((0, 0), 0), ((0, 0), -1), ((1, 1), 0), ((1, 1), -1), ((1, 0), -2)]
    for (hw, hb), (ew, eb) in zip(history, expected_start):
        assert np.array_equal(hw, ew) and hb == eb
    assert np.array_equal(history[-1][0], w) and history[-1][1] == b
    assert np.array_equal(perceptron_predict(TRUTH, w, b), [0, 0, 0, 1])


def test_history_entries_are_copies():
    w, b, history = perceptron_train(TRUTH, [0, 1, 1, 1], lr=0.5, epochs=10)
    assert not any(h[0] is w for h in history)
    assert len({tuple(h[0]) + (h[1],) for h in history}) == len(history)


def test_converges_on_separable_data_and_stops_early():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(60, 3))
    w_true, b_true = np.array([1.0, -2.0, 0.5]), 0.1
    margin = X @ w_true + b_true
    X, margin = X[np.abs(margin) > 0.2], margin[np.abs(margin) > 0.2]
    t = (margin > 0).astype(int)
    w, b, history = perceptron_train(X, t, lr=0.1, epochs=1000)
    assert np.sum(perceptron_predict(X, w, b) != t) == 0
    # one more epoch from the result makes no update
    _, _, again = perceptron_train(X, t, lr=0.1, epochs=5, w=w, b=b)
    assert len(again) == 1


def test_never_solves_xor():
    w, b, history = perceptron_train(TRUTH, [0, 1, 1, 0], lr=1.0, epochs=50)
    errors = [int(np.sum(perceptron_predict(TRUTH, hw, hb) != [0, 1, 1, 0]))
              for hw, hb in history]
    assert min(errors) >= 1
    assert len(history) > 50  # it keeps updating: at least one mistake per epoch


def test_predict_uses_z_at_least_zero():
    assert np.array_equal(perceptron_predict([[1.0], [0.0], [-1.0]], [1.0], 0.0), [1, 1, 0])


@pytest.mark.parametrize("kwargs", [dict(t=[0, 2, 1, 0]), dict(lr=0.0),
                                    dict(w=[1.0, 2.0, 3.0]), dict(t=[0, 1, 1])])
def test_bad_inputs_raise(kwargs):
    args = dict(X=TRUTH, t=[0, 1, 1, 0])
    args.update(kwargs)
    with pytest.raises(ValueError):
        perceptron_train(**args)


def test_plot_success_rates_draws_one_bar_per_setting():
    from course.plots import plot_success_rates

    fig = plot_success_rates({2: 14, 3: 20, 8: 5}, trials=20, xlabel="hidden units")
    ax = fig.axes[0]
    heights = [patch.get_height() for patch in ax.patches]
    assert np.allclose(heights, [0.7, 1.0, 0.25])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "3", "8"]
    assert sorted(t.get_text() for t in ax.texts) == ["14/20", "20/20", "5/20"]
    assert ax.get_xlabel() == "hidden units" and ax.get_ylim()[0] == 0


@pytest.mark.parametrize("successes, trials", [({}, 10), ({2: 11}, 10), ({2: -1}, 10),
                                               ({2: 0}, 0)])
def test_plot_success_rates_rejects_bad_counts(successes, trials):
    from course.plots import plot_success_rates

    with pytest.raises(ValueError):
        plot_success_rates(successes, trials)
