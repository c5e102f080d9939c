"""Thin ipywidgets wrappers over the pure plotting functions in course.plots.

Every wrapper returns an ``ipywidgets.interactive`` widget (a VBox of controls and an
output area): make it the last line of a cell to show it. Moving a control calls the
plotting function with the new value and displays the Figure it returns; the widget's
``result`` attribute holds that Figure. No maths happens here: it belongs in the
callers (precompute fits, histories, predictions) or in course.plots.
"""

import ipywidgets

from course import plots


def interact_plot(plot_fn, **controls):
    """Build an interactive widget that redraws plot_fn(**values) whenever a control moves.

    `controls` are ipywidgets abbreviations or widgets, as for ``ipywidgets.interact``
    (a (min, max) tuple is a slider, a list a dropdown, ``ipywidgets.fixed(v)`` a constant).
    """
    def draw(**values):  # any callable works, even one without a signature (partial)
        return plot_fn(**values)

    return ipywidgets.interact(**controls).widget(draw)  # built, not displayed


def activation_explorer(names=plots.ACTIVATIONS, first="sigmoid", second="relu"):
    """Compare two activations and their derivatives, chosen from two dropdowns."""
    names = list(names)
    return interact_plot(
        lambda first, second: plots.plot_activations([first, second], ncols=2),
        first=ipywidgets.Dropdown(options=names, value=first, description="first"),
        second=ipywidgets.Dropdown(options=names, value=second, description="second"))


def perceptron_stepper(X, y, history):
    """Step through perceptron states with a slider.

    X (N, 2), y (N,); `history` is a list of (w, b) states, or (w, b, i) where i is the
    index of the point that caused the update (it is highlighted).
    """
    if len(history) == 0:
        raise ValueError("history must hold at least one (w, b) state")

    def draw(step):
        w, b, *rest = history[step]
        return plots.plot_perceptron_step(X, y, w, b, highlight=rest[0] if rest else None)

    return interact_plot(draw, step=ipywidgets.IntSlider(
        value=0, min=0, max=len(history) - 1, description="step"))


def decision_boundary_explorer(predict_fns, X, y, resolution=150):
    """Show the decision boundary of one of several predictors, chosen from a dropdown.

    `predict_fns` maps a name to predict(X_grid) as accepted by plot_decision_boundary.
    """
    if not predict_fns:
        raise ValueError("predict_fns must hold at least one predictor")
    return interact_plot(
        lambda model: plots.plot_decision_boundary(predict_fns[model], X, y,
                                                   resolution=resolution, title=str(model)),
        model=ipywidgets.Dropdown(options=list(predict_fns), description="model"))


def width_explorer(fits, x, y, target=None, widths=None):
    """Show the fit of the network of each width, chosen with a slider.

    `fits` maps a width to predictions at x, or to (x_grid, predictions); see plot_fit.
    It may also be a function fits(width) returning the same, called each time the slider
    moves (to train the network live); `widths` then lists the slider's widths.
    """
    live = callable(fits)
    options = list(widths) if live else sorted(fits)
    if not options:
        raise ValueError("fits must hold at least one width (or widths must, for a function)")

    def draw(width):
        fit = fits(width) if live else fits[width]
        return plots.plot_fit(x, y, {f"width {width}": fit}, target=target,
                              title=f"One hidden layer of {width} units")

    return interact_plot(
        draw, width=ipywidgets.SelectionSlider(options=options, description="width"))


def gradient_depth_explorer(norms, depths, names, first="sigmoid"):
    """Choose a depth and an activation; see the gradient norm of every layer.

    `norms(depth, name)` returns a dict {label: per-layer gradient norms, layer 1 first}
    (computed live by the caller); `depths` (min, max) is the slider's range and `names`
    the activations of the dropdown.
    """
    def draw(depth, activation):
        runs = norms(depth, activation)
        first_layer = ", ".join(f"{label}: {values[0]:.1e}" for label, values in runs.items())
        return plots.plot_gradient_norms(
            runs, title=f"{depth} hidden layers. Gradient at layer 1: {first_layer}")

    return interact_plot(
        draw, depth=ipywidgets.IntSlider(value=depths[0], min=depths[0], max=depths[1],
                                         description="depth"),
        activation=ipywidgets.Dropdown(options=list(names), value=first,
                                       description="activation"))


def backward_stepper(root):
    """Walk the backward pass of a scalar `Value` one local rule at a time with a slider."""
    from course.autodiff import _topological
    from course.graph_plots import plot_backward_step

    rules = sum(1 for n in _topological(root) if n._prev)
    return interact_plot(lambda step: plot_backward_step(root, step),
                         step=ipywidgets.IntSlider(value=0, min=0, max=rules,
                                                   description="step"))


def softmax_explorer(z=(1.60, 0.55, 0.98), y=0, limit=6.0):
    """Move one slider per logit and a temperature slider; watch softmax(z / T) and -log p_y.

    `z` gives the starting logits (C,), `y` the starting target class, `limit` the slider
    range [-limit, limit] of each logit.
    """
    z = [float(v) for v in z]
    if len(z) < 2:
        raise ValueError("softmax_explorer needs at least two logits")
    sliders = {f"z{k}": ipywidgets.FloatSlider(value=v, min=-limit, max=limit, step=0.05,
                                               description=f"z{k}")
               for k, v in enumerate(z)}
    return interact_plot(
        lambda temperature, target, **logits: plots.plot_softmax(
            [logits[f"z{k}"] for k in range(len(z))], y=target, temperature=temperature),
        temperature=ipywidgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                              description="T"),
        target=ipywidgets.Dropdown(options=list(range(len(z))), value=y, description="target"),
        **sliders)
