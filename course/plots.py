"""Pure plotting functions for the course.

Each function takes arrays or callables, draws on the given ``ax`` (or on a new figure)
and returns the matplotlib ``Figure``; none of them displays anything. A new figure is a
:class:`NotebookFigure`, a ``Figure`` not registered with pyplot: in a notebook it shows
once, as a PNG, when it is the value of a cell (or is passed to ``display``), whatever
the backend; it never piles up in pyplot's figure list; ``plt.show()`` is never needed.
A figure made with ``plt.subplots`` and passed in through ``ax`` is pyplot's: the
notebook shows it by itself, so end that line with ``;`` to avoid a second copy.

Shapes: X (N, 2) inputs of a 2-D classification task, y (N,) integer labels,
H (N, H) a hidden representation, C classes.

Every figure returned has a title and labelled axes on each panel, a colour bar beside a
continuous colour map, and a legend wherever two series share a panel. The plots against
a variable (histories, fits, curves, scaling) are written in :mod:`course.curves`, the
shared pieces in :mod:`course.figure`; all are offered here.
"""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from course.activations import NAMES as ACTIVATIONS
from course.curves import (
    plot_curves,
    plot_fit,
    plot_gradient_norms,
    plot_history,
    plot_scaling,
    plot_success_rates,
)
from course.figure import (
    CLASS_COLORS,
    REGION_ALPHA,
    NotebookFigure,
    _box,
    _class_colors,
    _labels,
    _new_axes,
    _points_2d,
)

__all__ = ["ACTIVATIONS", "CLASS_COLORS", "REGION_ALPHA", "NotebookFigure", "plot_activation",
           "plot_activations", "plot_decision_boundary", "plot_hidden_representation",
           "plot_perceptron_step", "plot_loss_surface", "plot_softmax", "plot_linear_regions",
           "plot_history", "plot_fit", "plot_gradient_norms", "plot_success_rates",
           "plot_curves", "plot_scaling"]

_ACTIVATION_PARAMS = {"prelu": {"a": 0.25}, "leaky_relu": {"alpha": 0.1}}


def plot_activation(name, z=None, ax=None, **params):
    """Plot an activation f(z) (solid) and its derivative f'(z) (dashed).

    `z` defaults to 401 points on [-4, 4]; `params` go to f and f_grad (for example
    a=0.25 for "prelu", alpha=0.1 for "leaky_relu", the values shown by default).
    """
    from course.activations import get

    f, f_grad = get(name)
    z = np.linspace(-4, 4, 401) if z is None else np.asarray(z, dtype=np.float64)
    params = {**_ACTIVATION_PARAMS.get(name, {}), **params}
    value, slope = f(z, **params), f_grad(z, **params)
    if isinstance(slope, tuple):  # (df/dz, df/dparameter): keep df/dz
        slope = slope[0]
    fig, ax = _new_axes(ax, figsize=(4, 3))
    ax.plot(z, value, color="C0", label="f(z)")
    ax.plot(z, slope, color="C1", linestyle="--", label="f'(z)")
    ax.set_title(name)
    ax.set_xlabel("z")
    ax.set_ylabel("f(z) and f'(z)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_activations(names=ACTIVATIONS, z=None, ncols=3):
    """Plot several activations and their derivatives on a grid, one panel per name."""
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names must hold at least one activation name")
    ncols = min(ncols, len(names))
    nrows = -(-len(names) // ncols)
    fig = NotebookFigure(figsize=(3.4 * ncols, 2.8 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for name, ax in zip(names, axes):
        plot_activation(name, z=z, ax=ax)
    for ax in axes[len(names):]:
        fig.delaxes(ax)
    return fig


def _predicted_labels(out, n):
    """Turn predictions into labels (N,): argmax of scores (N, C), labels, or p >= 0.5."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim == 2 and out.shape[0] == n:
        return out.argmax(axis=1)
    if out.shape != (n,):
        raise ValueError(f"predict must return (N,) labels or probabilities or (N, C) scores "
                         f"for N = {n} grid points, got shape {out.shape}")
    if np.all(out == np.round(out)):
        if out.min() < 0:
            raise ValueError("predicted labels must be non-negative integers")
        return out.astype(np.int64)
    if out.min() >= 0 and out.max() <= 1:
        return (out >= 0.5).astype(np.int64)
    raise ValueError("1-D predictions must be integer labels or probabilities in [0, 1]; "
                     "return raw scores as (N, C)")


def plot_decision_boundary(predict, X, y, ax=None, resolution=200, title="Decision regions",
                           xlabel="$x_1$", ylabel="$x_2$"):
    """Paint the class regions of `predict` over the points X (N, 2) coloured by y (N,).

    `predict(X_grid)` gets a grid (resolution^2, 2) and returns labels (M,),
    probabilities of class 1 (M,), or scores (M, C) (the class is the argmax).
    A legend names the class of each colour.
    """
    X = _points_2d(X)
    y = _labels(y, len(X))
    x0, x1, y0, y1 = _box(X)
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    regions = _predicted_labels(predict(grid), len(grid)).reshape(xx.shape)
    C = int(max(regions.max(), y.max())) + 1
    colors = _class_colors(C)
    fig, ax = _new_axes(ax)
    ax.contourf(xx, yy, regions, levels=np.arange(C + 1) - 0.5, cmap=ListedColormap(colors),
                alpha=REGION_ALPHA)
    ax.scatter(X[:, 0], X[:, 1], c=[colors[k] for k in y], s=20, edgecolors="k",
               linewidths=0.5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    shown = sorted(set(np.unique(regions)) | set(np.unique(y)))
    ax.legend(handles=[Line2D([], [], marker="o", linestyle="", markeredgecolor="k",
                              markerfacecolor=colors[k], label=f"class {k}") for k in shown],
              fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0),
              borderaxespad=0.3)  # outside the panel: it never hides a point
    return fig


def plot_hidden_representation(H, y, ax=None, title="Hidden representation"):
    """Scatter a hidden representation H (N, H) coloured by class y (N,).

    With more than two columns, H is projected on its first two principal components.
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2:
        raise ValueError(f"H must have shape (N, H), got {H.shape}")
    y = _labels(y, len(H))
    if H.shape[1] == 1:
        coords, names = np.c_[H, np.zeros(len(H))], ("h1", "")
    elif H.shape[1] == 2:
        coords, names = H, ("h1", "h2")
    else:
        centred = H - H.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        coords = centred @ vt[:2].T
        share = s ** 2 / max(np.sum(s ** 2), np.finfo(float).tiny)
        names = (f"PC1 ({share[0]:.0%} of variance)", f"PC2 ({share[1]:.0%} of variance)")
    fig, ax = _new_axes(ax)
    colors = _class_colors(int(y.max()) + 1)
    for k in np.unique(y):
        ax.scatter(coords[y == k, 0], coords[y == k, 1], s=15, color=colors[k],
                   label=f"class {k}")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1] or "(one unit: no second axis)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def plot_perceptron_step(X, y, w, b, ax=None, highlight=None):
    """Plot points X (N, 2), the line w.x + b = 0 and the two sides it separates.

    y (N,) holds labels {0, 1} or {-1, +1}; the side where w.x + b > 0 is shaded with the
    positive class colour. `highlight` circles the point with that index.
    """
    X = _points_2d(X)
    y = np.asarray(y)
    w = np.asarray(w, dtype=np.float64).ravel()
    b = float(np.ravel(b)[0]) if np.ndim(b) else float(b)
    x0, x1, y0, y1 = _box(X, pad=0.2)
    neg, pos = CLASS_COLORS[0], CLASS_COLORS[1]
    fig, ax = _new_axes(ax)
    xx, yy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    side = (w[0] * xx + w[1] * yy + b > 0).astype(float)
    ax.imshow(side, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", vmin=0, vmax=1,
              cmap=ListedColormap([neg, pos]), alpha=REGION_ALPHA, interpolation="nearest")
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:
        xs = np.array([x0, x1])
        ax.plot(xs, -(w[0] * xs + b) / w[1], color="k", lw=1.5)
    elif w[0] != 0:
        ys = np.array([y0, y1])
        ax.plot(-(w[1] * ys + b) / w[0], ys, color="k", lw=1.5)
    for value in np.unique(y):
        mask = y == value
        ax.scatter(X[mask, 0], X[mask, 1], s=30, color=pos if value > 0 else neg,
                   edgecolors="k", linewidths=0.5, label=f"y = {value:g}")
    if highlight is not None:
        ax.scatter(X[highlight, 0], X[highlight, 1], s=250, facecolors="none",
                   edgecolors="k", linewidths=2)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"w = ({w[0]:.2f}, {w[1]:.2f}), b = {b:.2f}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(fontsize="small", loc="best")
    return fig


def plot_loss_surface(f, xlim, ylim, ax=None, path=None, levels=30, resolution=100,
                      vectorized=True, xlabel="$w_1$", ylabel="$w_2$", title="Loss surface"):
    """Draw contours of a 2-D function with an optional optimisation path (T, 2).

    With `vectorized`, f(x, y) is called once on (resolution, resolution) grids and
    returns an array of the same shape; otherwise f(w) is called on each point w (2,).
    The path is drawn as a line with markers, its last point as a star. A colour bar
    gives the value of each contour.
    """
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    xx, yy = np.meshgrid(xs, ys)
    if vectorized:
        zz = np.asarray(f(xx, yy), dtype=np.float64)
        if zz.shape != xx.shape:
            raise ValueError(f"f(x, y) returned shape {zz.shape} for grids of shape "
                             f"{xx.shape}; pass vectorized=False for f(w) with w (2,)")
    else:
        zz = np.array([[f(np.array([a, c])) for a in xs] for c in ys], dtype=np.float64)
    fig, ax = _new_axes(ax)
    contours = ax.contour(xx, yy, zz, levels=levels, cmap="viridis", linewidths=0.8)
    fig.colorbar(contours, ax=ax, label="loss", shrink=0.9)
    if path is not None:
        path = np.asarray(path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"path must have shape (T, 2), got {path.shape}")
        ax.plot(path[:, 0], path[:, 1], marker="o", ms=3, lw=1, color="C3", label="path")
        ax.scatter(path[-1:, 0], path[-1:, 1], marker="*", s=150, color="C3", zorder=3,
                   label="last iterate")
        ax.legend(fontsize="small", loc="best")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def plot_softmax(z, y=None, temperature=1.0, ax=None):
    """Draw p = softmax(z / temperature) for logits z (C,) as one bar per class.

    With a target class y, its bar is outlined and the title gives the cross-entropy
    loss -log p_y (computed as -log_softmax, so it stays finite for any logits).
    """
    from course.losses import log_softmax

    z = np.ravel(np.asarray(z, dtype=np.float64))
    if z.size < 2:
        raise ValueError(f"need at least two logits, got {z.size}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    logp = log_softmax(z / temperature)
    p = np.exp(logp)
    fig, ax = _new_axes(ax, figsize=(4.5, 3.2))
    positions = np.arange(z.size)
    bars = ax.bar(positions, p, color=_class_colors(z.size), width=0.6)
    for bar, value in zip(bars, p):
        ax.annotate(f"{value:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small", xytext=(0, 2),
                    textcoords="offset points")
    ax.set_xticks(positions, [f"class {k}\nz = {v:.2f}" for k, v in enumerate(z)])
    ax.set_ylim(0, 1.12)
    ax.set_xlabel("class and its logit")
    ax.set_ylabel("probability")
    title = f"softmax(z / T), T = {temperature:.2f}"
    if y is not None:
        y = int(y)
        if not 0 <= y < z.size:
            raise ValueError(f"target class must be in [0, {z.size}), got {y}")
        bars[y].set_edgecolor("k")
        bars[y].set_linewidth(2.5)
        title += f"\ntarget class {y}: loss -log p = {-logp[y]:.3f}"
    ax.set_title(title, fontsize="medium")
    return fig


def plot_linear_regions(x, values, patterns, ax=None, title=None):
    """Plot a network's output along a line with its linear pieces shaded in turn.

    x (N,) increasing positions along the line, values (N,) the output there, patterns
    (N, U) the activation pattern of each point (course.network.activation_patterns).
    A piece is a run of equal patterns; their number is written in the title.
    """
    x = np.ravel(np.asarray(x, dtype=np.float64))
    values = np.ravel(np.asarray(values, dtype=np.float64))
    patterns = np.asarray(patterns)
    if patterns.ndim == 1:
        patterns = patterns[:, None]
    if not (len(x) == len(values) == len(patterns)) or len(x) < 2:
        raise ValueError(f"x, values and patterns need the same length >= 2, got {len(x)}, "
                         f"{len(values)} and {len(patterns)}")
    change = np.flatnonzero(np.any(patterns[1:] != patterns[:-1], axis=1)) + 1
    bounds = np.concatenate([[0], change, [len(x)]])
    edges = np.concatenate([[x[0]], (x[change - 1] + x[change]) / 2, [x[-1]]])
    fig, ax = _new_axes(ax, figsize=(6, 3))
    for j in range(len(bounds) - 1):
        ax.axvspan(edges[j], edges[j + 1], color="C0" if j % 2 else "C1", alpha=0.12, lw=0)
    ax.plot(x, values, color="k", lw=1.5)
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel("position along the line")
    ax.set_ylabel("network output")
    pieces = f"{len(bounds) - 1} linear pieces"
    ax.set_title(pieces if title is None else f"{title}: {pieces}")
    return fig
