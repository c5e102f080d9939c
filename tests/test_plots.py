"""Tests for course.plots: each function returns a Figure with the expected artists."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgb, to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course import activations, graph_plots, plots  # noqa: E402


@pytest.fixture(autouse=True)
def no_show_and_close(monkeypatch):
    """Fail on any plt.show call; close every pyplot figure after the test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show")

    monkeypatch.setattr(plt, "show", forbidden)
    yield
    plt.close("all")


@pytest.fixture
def fake_activations(monkeypatch):
    """Activations with known f and f_grad, in the registry for one test."""
    table = {
        "square": (lambda z: z ** 2, lambda z: 2 * z),
        "param": (lambda z, a: a * z, lambda z, a: (np.full_like(z, a), z)),
    }
    for name, (f, f_grad) in table.items():
        monkeypatch.setitem(activations.REGISTRY, name,
                            activations.Activation(name, f, f_grad, gallery=False))
    return table


def pixels(fig, ax, points):
    """Render fig once; return the RGB colours (P, 3) in [0, 1] drawn at data points (P, 2)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    px, py = ax.transData.transform(np.asarray(points, dtype=float)).T
    rows, cols = np.round(rgba.shape[0] - py).astype(int), np.round(px).astype(int)
    return rgba[rows, cols, :3] / 255.0


def region_colour(k):
    """Return the colour of class k's region painted with REGION_ALPHA over white."""
    a = plots.REGION_ALPHA
    return a * np.array(to_rgb(plots.CLASS_COLORS[k])) + (1 - a) * np.ones(3)


def test_plot_activation_draws_f_and_dashed_derivative(fake_activations):
    z = np.linspace(-2, 2, 11)
    fig = plots.plot_activation("square", z=z)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), z ** 2)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 2 * z)
    assert ax.lines[1].get_linestyle() == "--" and ax.lines[0].get_linestyle() == "-"


def test_plot_activation_keeps_df_dz_of_a_parametrised_activation(fake_activations):
    z = np.array([-1.0, 2.0])
    fig = plots.plot_activation("param", z=z, a=3.0)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [-3.0, 6.0])
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), [3.0, 3.0])


def test_plot_activations_grid_has_one_panel_per_name(fake_activations):
    fig = plots.plot_activations(["square", "square", "square", "square"], ncols=3)
    assert len(fig.axes) == 4
    assert all(len(ax.lines) == 2 for ax in fig.axes)


def test_real_registry_all_names():
    fig = plots.plot_activations(plots.ACTIVATIONS)
    assert len(fig.axes) == len(plots.ACTIVATIONS)
    for ax in fig.axes:
        assert len(ax.lines) == 2
        assert all(np.all(np.isfinite(line.get_ydata())) for line in ax.lines)
    prelu = fig.axes[plots.ACTIVATIONS.index("prelu")]
    z = prelu.lines[1].get_xdata()
    expected = np.where(z > 0, 1.0, 0.25)  # PReLU slope a = 0.25 shown by default
    np.testing.assert_allclose(prelu.lines[1].get_ydata(), expected)


X4 = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.9, 0.95]])
Y4 = np.array([0, 1, 0, 0, 1])


def _linear_labels(G):
    return (G[:, 0] + 2 * G[:, 1] > 0.3).astype(int)


@pytest.mark.parametrize("form", ["labels", "probabilities", "scores"])
def test_decision_boundary_colours_match_a_linear_classifier(form):
    def predict(G):
        s = G[:, 0] + 2 * G[:, 1] - 0.3
        if form == "labels":
            return (s > 0).astype(int)
        if form == "probabilities":
            return 1 / (1 + np.exp(-s))
        return np.stack([-s, s], axis=1)

    fig = plots.plot_decision_boundary(predict, X4, Y4, resolution=120, title=form)
    ax = fig.axes[0]
    assert ax.get_title() == form
    probes = np.array([(-0.6, -0.5), (0.5, 0.6), (0.9, -0.7), (-0.7, 0.6)])
    expected = [region_colour(k) for k in _linear_labels(probes)]
    np.testing.assert_allclose(pixels(fig, ax, probes), expected, atol=3 / 255)
    points = ax.collections[-1]
    np.testing.assert_allclose(points.get_offsets(), X4)
    np.testing.assert_allclose(points.get_facecolors(),
                               [to_rgba(plots.CLASS_COLORS[k]) for k in Y4])


def test_decision_boundary_three_classes_and_given_axes():
    def predict(G):  # class = which third of the plane in x
        return np.stack([-G[:, 0] - 0.5, -np.abs(G[:, 0]), G[:, 0] - 0.5], axis=1)

    fig, ax = plt.subplots()
    assert plots.plot_decision_boundary(predict, X4, np.array([0, 2, 0, 2, 1]), ax=ax) is fig
    np.testing.assert_allclose(pixels(fig, ax, [(-0.9, 0.0), (0.0, 0.0), (0.9, 0.0)]),
                               [region_colour(k) for k in (0, 1, 2)], atol=3 / 255)


def test_decision_boundary_rejects_unreadable_predictions():
    with pytest.raises(ValueError, match="probabilities"):
        plots.plot_decision_boundary(lambda G: G[:, 0] * 5.5, X4, Y4, resolution=10)
    with pytest.raises(ValueError, match="shape"):
        plots.plot_decision_boundary(lambda G: np.zeros(3), X4, Y4, resolution=10)


def test_plot_history_panels_and_missing_keys():
    history = {"train_loss": [3, 2, 1], "val_loss": [3, 2.5, 2], "train_acc": [0.5, 0.9, 1]}
    fig = plots.plot_history(history)
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 1
    np.testing.assert_array_equal(loss_ax.lines[1].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [3, 2.5, 2])
    assert acc_ax.get_ylabel() == "accuracy"
    only_acc = plots.plot_history({"val_acc": [0.1, 0.2], "other": [1]})
    assert len(only_acc.axes) == 1 and len(only_acc.axes[0].lines) == 1
    fig2, ax = plt.subplots()
    assert plots.plot_history(history, ax=ax) is fig2
    assert len(fig2.axes) == 2  # accuracy on a twin y-axis
    with pytest.raises(ValueError, match="train_loss"):
        plots.plot_history({"loss": [1, 2]})


def test_plot_fit_lines_and_points():
    x = np.array([0.5, -1.0, 0.0, 1.0])
    y = x ** 2
    grid = np.linspace(-1, 1, 7)
    fig = plots.plot_fit(x, y, {"width 2": x * 0.1, "width 8": (grid, grid ** 2)},
                         target=lambda t: t ** 2)
    ax = fig.axes[0]
    assert len(ax.collections) == 1 and len(ax.lines) == 3
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[x, y])
    fit = [line for line in ax.lines if line.get_label() == "width 2"][0]
    np.testing.assert_allclose(fit.get_xdata(), [-1.0, 0.0, 0.5, 1.0])  # sorted by x
    np.testing.assert_allclose(fit.get_ydata(), [-0.1, 0.0, 0.05, 0.1])
    with pytest.raises(ValueError, match="values"):
        plots.plot_fit(x, y, {"bad": np.zeros(3)})


def test_plot_gradient_norms_log_scale_one_line_per_run():
    norms = {"sigmoid": [1e-6, 1e-4, 1e-2], "relu": [0.5, 0.6, 0.7]}
    fig = plots.plot_gradient_norms(norms, labels=["W1", "W2", "W3"])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), norms["sigmoid"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W1", "W2", "W3"]
    assert len(plots.plot_gradient_norms([1.0, 2.0]).axes[0].lines) == 1


def test_hidden_representation_projection_preserves_distances():
    rng = np.random.default_rng(0)
    flat = rng.normal(size=(30, 2))
    basis, _ = np.linalg.qr(rng.normal(size=(5, 2)))  # orthonormal columns (5, 2)
    H = flat @ basis.T + 3.0  # rank-2 cloud in 5-D
    y = np.arange(30) % 3
    fig = plots.plot_hidden_representation(H, y)
    ax = fig.axes[0]
    assert len(ax.collections) == 3  # one scatter per class
    coords = np.concatenate([c.get_offsets() for c in ax.collections])
    order = np.concatenate([np.flatnonzero(y == k) for k in range(3)])

    def distances(P):
        return np.linalg.norm(P[:, None] - P[None], axis=-1)

    np.testing.assert_allclose(distances(coords), distances(flat[order]), atol=1e-9)
    two = plots.plot_hidden_representation(flat, y).axes[0]
    np.testing.assert_allclose(two.collections[1].get_offsets(), flat[y == 1])


def test_perceptron_step_line_shading_and_highlight():
    X = np.array([[0.0, 0.0], [2.0, 2.0], [0.0, 2.0], [2.0, 0.0]])
    y = np.array([-1, 1, 1, -1])
    w, b = np.array([1.0, 2.0]), -2.5
    fig = plots.plot_perceptron_step(X, y, w, b, highlight=1)
    ax = fig.axes[0]
    assert len(ax.lines) == 1 and len(ax.images) == 1 and len(ax.collections) == 3
    xs, ys = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_allclose(w[0] * xs + w[1] * ys + b, 0.0, atol=1e-12)
    np.testing.assert_allclose(ax.collections[-1].get_offsets(), [[2.0, 2.0]])
    probes = np.array([(0.1, 0.1), (1.9, 1.9), (1.5, 0.3)])
    expected = [region_colour(int(w @ p + b > 0)) for p in probes]
    np.testing.assert_allclose(pixels(fig, ax, probes), expected, atol=3 / 255)
    vertical = plots.plot_perceptron_step(X, y, [1.0, 0.0], -1.0).axes[0]
    np.testing.assert_allclose(vertical.lines[0].get_xdata(), [1.0, 1.0])


def test_loss_surface_contours_and_path():
    path = np.array([[1.5, 1.5], [1.0, 0.5], [0.2, 0.1]])
    fig = plots.plot_loss_surface(lambda a, b: a ** 2 + 5 * b ** 2, (-2, 2), (-2, 2),
                                  path=path, resolution=40)
    ax = fig.axes[0]
    assert len(ax.lines) == 1 and len(ax.collections) == 2  # contours + final star
    np.testing.assert_allclose(np.c_[ax.lines[0].get_xdata(), ax.lines[0].get_ydata()], path)
    levels = ax.collections[0].levels
    pointwise = plots.plot_loss_surface(lambda w: w[0] ** 2 + 5 * w[1] ** 2, (-2, 2), (-2, 2),
                                        resolution=40, vectorized=False)
    np.testing.assert_allclose(pointwise.axes[0].collections[0].levels, levels)
    assert len(pointwise.axes[0].lines) == 0
    with pytest.raises(ValueError, match="vectorized=False"):
        plots.plot_loss_surface(lambda a, b: 1.0, (-1, 1), (-1, 1), resolution=5)


def test_plots_create_no_pyplot_figures(fake_activations):
    before = plt.get_fignums()
    plots.plot_activation("square")
    plots.plot_decision_boundary(_linear_labels, X4, Y4, resolution=20)
    plots.plot_history({"train_loss": [1, 0.5]})
    plots.plot_fit([0, 1], [0, 1], {"f": [0, 1]})
    plots.plot_gradient_norms({"a": [1, 2]})
    plots.plot_hidden_representation(X4, Y4)
    plots.plot_perceptron_step(X4, Y4, [1, 1], 0)
    plots.plot_loss_surface(lambda a, b: a * b, (0, 1), (0, 1), resolution=5)
    assert plt.get_fignums() == before


def _value_graph():
    from course.autodiff import Value

    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    return (x + y) * z


# One call of every public plotting function, with its default labels and titles.
EVERY_PLOT = {
    "plot_activation": lambda: plots.plot_activation("tanh"),
    "plot_activations": lambda: plots.plot_activations(),
    "plot_decision_boundary": lambda: plots.plot_decision_boundary(_linear_labels, X4, Y4,
                                                                   resolution=20),
    "plot_history": lambda: plots.plot_history({"train_loss": [1, 0.5], "val_loss": [1, 0.7],
                                                "train_acc": [0.5, 1.0]}),
    "plot_fit": lambda: plots.plot_fit([0, 1, 2], [0, 1, 4], {"f": [0, 1, 3], "g": [1, 1, 1]},
                                       target=np.square),
    "plot_gradient_norms": lambda: plots.plot_gradient_norms({"a": [1, 2], "b": [2, 2]}),
    "plot_hidden_representation": lambda: plots.plot_hidden_representation(X4, Y4),
    "plot_perceptron_step": lambda: plots.plot_perceptron_step(X4, Y4, [1, 1], 0),
    "plot_loss_surface": lambda: plots.plot_loss_surface(
        lambda a, b: a * a + b * b, (-1, 1), (-1, 1), path=[[1, 1], [0, 0]], resolution=9),
    "plot_success_rates": lambda: plots.plot_success_rates({1: 0, 2: 3}, trials=4),
    "plot_curves": lambda: plots.plot_curves([0, 1], {"a": [0, 1], "b": [1, 0]}),
    "plot_softmax": lambda: plots.plot_softmax([1.0, 0.0, -1.0], y=0),
    "plot_scaling": lambda: plots.plot_scaling([1, 2], {"a": [1, 2], "b": [2, 1]}),
    "plot_linear_regions": lambda: plots.plot_linear_regions(
        [0, 1, 2, 3], [0, 1, 0, 1], [[0], [0], [1], [1]]),
    "plot_backward_step": lambda: graph_plots.plot_backward_step(_value_graph(), 1),
}


def test_every_plotting_function_is_covered_by_the_label_check():
    public = {name for module in (plots, graph_plots) for name in dir(module)
              if name.startswith("plot_")}
    assert public == set(EVERY_PLOT)


@pytest.mark.parametrize("name", sorted(EVERY_PLOT))
def test_every_figure_has_titles_labels_colour_bars_and_legends(name):
    from matplotlib.collections import PathCollection
    from matplotlib.colors import ListedColormap
    from matplotlib.contour import ContourSet
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D

    fig = EVERY_PLOT[name]()
    assert isinstance(fig, Figure)
    colour_bars = {id(ax) for ax in fig.axes if hasattr(ax, "_colorbar")}
    panels = [ax for ax in fig.axes if id(ax) not in colour_bars]
    assert panels
    for ax in panels:
        assert ax.get_title(), f"{name}: a panel has no title"
        if ax.axison:  # a drawing with its axes switched off (a graph) needs only a title
            assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: unlabelled axis"
        for mappable in [*ax.collections, *ax.images]:
            if isinstance(mappable, (ContourSet, AxesImage)):
                if isinstance(mappable.get_cmap(), ListedColormap):  # class colours
                    assert ax.get_legend() is not None, f"{name}: classes without a legend"
                else:
                    assert mappable.colorbar is not None, f"{name}: colour map without a bar"
        series = [a for a in [*ax.lines, *ax.collections]
                  if isinstance(a, (Line2D, PathCollection))]
        if len(series) >= 2:
            assert ax.get_legend() is not None, f"{name}: {len(series)} series, no legend"
