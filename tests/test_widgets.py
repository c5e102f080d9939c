"""Tests for course.widgets: build each widget with no display, move a control, check the redraw."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course import plots, widgets  # noqa: E402


class Recorder:
    """Stand in for a plotting function: record every call, return a fresh Figure."""

    def __init__(self):
        self.calls = []
        self.figures = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        self.figures.append(Figure())
        return self.figures[-1]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def control(widget, description):
    """Return the control of an interactive widget with the given description."""
    (found,) = [c for c in widget.children if getattr(c, "description", None) == description]
    return found


def test_interact_plot_redraws_with_the_new_value():
    record = Recorder()
    w = widgets.interact_plot(record, a=(0, 10), name=["x", "y"])
    assert isinstance(w, ipywidgets.interactive)
    assert record.calls == [((), {"a": 5, "name": "x"})]  # drawn once when built
    control(w, "a").value = 7
    assert record.calls[-1] == ((), {"a": 7, "name": "x"})
    assert w.result is record.figures[-1]
    control(w, "name").value = "y"
    assert record.calls[-1] == ((), {"a": 7, "name": "y"})
    assert len(record.calls) == 3


def test_activation_explorer_compares_the_two_chosen_names(monkeypatch):
    record = Recorder()
    monkeypatch.setattr(plots, "plot_activations", record)
    w = widgets.activation_explorer()
    assert record.calls[-1][0] == (["sigmoid", "relu"],)
    assert list(control(w, "first").options) == list(plots.ACTIVATIONS)
    control(w, "second").value = "softplus"
    assert record.calls[-1][0] == (["sigmoid", "softplus"],)
    assert w.result is record.figures[-1]


def test_perceptron_stepper_walks_through_the_history(monkeypatch):
    record = Recorder()
    monkeypatch.setattr(plots, "plot_perceptron_step", record)
    X, y = np.eye(2), np.array([0, 1])
    history = [(np.zeros(2), 0.0), (np.array([1.0, -1.0]), 0.5, 1), (np.ones(2), -1.0, 0)]
    w = widgets.perceptron_stepper(X, y, history)
    slider = control(w, "step")
    assert (slider.min, slider.max, slider.value) == (0, 2, 0)
    assert record.calls[-1][1] == {"highlight": None}
    slider.value = 1
    args, kwargs = record.calls[-1]
    assert args[0] is X and args[1] is y
    np.testing.assert_array_equal(args[2], [1.0, -1.0])
    assert args[3] == 0.5 and kwargs == {"highlight": 1}
    with pytest.raises(ValueError, match="history"):
        widgets.perceptron_stepper(X, y, [])


def test_perceptron_stepper_with_the_real_plot():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    y = np.array([-1, 1, 1])
    w = widgets.perceptron_stepper(X, y, [([0.5, 0.5], 0.0), ([1.0, 2.0], -1.0, 2)])
    control(w, "step").value = 1
    assert isinstance(w.result, Figure)
    ax = w.result.axes[0]
    assert ax.get_title() == "w = (1.00, 2.00), b = -1.00"
    np.testing.assert_allclose(ax.collections[-1].get_offsets(), [[0.0, 1.0]])


def test_decision_boundary_explorer_switches_predictor(monkeypatch):
    record = Recorder()
    monkeypatch.setattr(plots, "plot_decision_boundary", record)

    def linear(G):
        return G[:, 0] > 0

    def constant(G):
        return np.zeros(len(G))

    X, y = np.zeros((3, 2)), np.zeros(3, dtype=int)
    w = widgets.decision_boundary_explorer({"linear": linear, "constant": constant}, X, y)
    menu = control(w, "model")
    assert list(menu.options) == ["linear", "constant"]
    assert record.calls[-1][0][0] is linear
    menu.value = "constant"
    args, kwargs = record.calls[-1]
    assert args[0] is constant and args[1] is X and args[2] is y
    assert kwargs["title"] == "constant"


def test_width_explorer_shows_the_chosen_width(monkeypatch):
    record = Recorder()
    monkeypatch.setattr(plots, "plot_fit", record)
    x = np.linspace(-1, 1, 5)
    y = x ** 2
    fits = {8: x * 8, 2: x * 2, 32: x * 32}
    w = widgets.width_explorer(fits, x, y)
    slider = control(w, "width")
    assert list(slider.options) == [2, 8, 32]
    assert record.calls[-1][0][2] == {"width 2": fits[2]}
    slider.value = 32
    args, _ = record.calls[-1]
    assert args[0] is x and args[1] is y
    assert list(args[2]) == ["width 32"] and args[2]["width 32"] is fits[32]
    assert w.result is record.figures[-1]


def test_width_explorer_refits_live_through_a_function(monkeypatch):
    record = Recorder()
    monkeypatch.setattr(plots, "plot_fit", record)
    x = np.linspace(-1, 1, 5)
    asked = []

    def fit(width):
        asked.append(width)
        return x * width

    w = widgets.width_explorer(fit, x, x ** 2, widths=[1, 4, 16])
    assert asked == [1]
    control(w, "width").value = 16
    assert asked == [1, 16]
    np.testing.assert_array_equal(record.calls[-1][0][2]["width 16"], x * 16)
    assert record.calls[-1][1]["title"] == "One hidden layer of 16 units"


def test_gradient_depth_explorer_asks_for_the_chosen_depth_and_activation(monkeypatch):
    record = Recorder()
    monkeypatch.setattr(plots, "plot_gradient_norms", record)
    asked = []

    def norms(depth, name):
        asked.append((depth, name))
        return {name: [10.0 ** -depth] * (depth + 1)}

    w = widgets.gradient_depth_explorer(norms, (1, 12), ["sigmoid", "relu"])
    control(w, "depth").value = 7
    control(w, "activation").value = "relu"
    assert asked == [(1, "sigmoid"), (7, "sigmoid"), (7, "relu")]
    args, kwargs = record.calls[-1]
    assert args[0] == {"relu": [1e-7] * 8}
    assert kwargs["title"] == "7 hidden layers. Gradient at layer 1: relu: 1.0e-07"


def test_backward_stepper_walks_every_local_rule_and_leaves_the_grads_alone():
    from course.autodiff import Value

    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    w = widgets.backward_stepper(f)
    slider = control(w, "step")
    assert (slider.min, slider.max) == (0, 2)            # two operations: * then +
    texts = [t.get_text() for t in w.result.axes[0].texts]
    assert sum("grad ?" in t for t in texts) == 4        # only f is reached at step 0
    slider.value = 2
    texts = [t.get_text() for t in w.result.axes[0].texts]
    assert "x | data -2.00 | grad -4.00" in texts and "z | data -4.00 | grad 3.00" in texts
    assert "step 2 of 2" in w.result.axes[0].get_title()
    assert (x.grad, y.grad, z.grad, f.grad) == (0.0, 0.0, 0.0, 0.0)   # graph untouched
