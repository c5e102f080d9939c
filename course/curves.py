"""Plots of quantities against a variable: a training history, fitted functions, gradient
norms per layer, success rates, curves, and scaling laws on linear or log axes.

Like every plot of the course (see :mod:`course.plots`), each draws on the given ``ax`` or
a new :class:`~course.figure.NotebookFigure` and returns the figure; :mod:`course.plots`
offers them under the same names.
"""

import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from course.figure import NotebookFigure, _new_axes

__all__ = ["plot_history", "plot_fit", "plot_gradient_norms", "plot_success_rates",
           "plot_curves", "plot_scaling"]


def plot_history(history, ax=None):
    """Plot training curves: a loss panel and an accuracy panel.

    `history` maps keys among "train_loss", "val_loss", "train_acc", "val_acc" to
    per-epoch lists (missing keys are skipped). `ax` may be one Axes (accuracy then goes
    on a twin y-axis) or a pair of Axes.
    """
    panels = [(kind, [k for k in (f"train_{kind}", f"val_{kind}") if len(history.get(k, ()))])
              for kind in ("loss", "acc")]
    panels = [(kind, keys) for kind, keys in panels if keys]
    if not panels:
        raise ValueError("history has none of 'train_loss', 'val_loss', 'train_acc', "
                         f"'val_acc'; got keys {sorted(history)}")
    if ax is None:
        fig = NotebookFigure(figsize=(4.5 * len(panels), 3.2), layout="constrained")
        axes = list(fig.subplots(1, len(panels), squeeze=False)[0])
    elif isinstance(ax, (list, tuple, np.ndarray)):
        axes = list(ax)
    else:
        axes = [ax, ax.twinx()] if len(panels) == 2 else [ax]
    for (kind, keys), panel in zip(panels, axes):
        for key in keys:
            values = np.asarray(history[key], dtype=np.float64)
            panel.plot(np.arange(1, len(values) + 1), values,
                       linestyle="-" if key.startswith("train") else "--",
                       color="C0" if kind == "loss" else "C2",
                       label=key.replace("_", " "))
        panel.set_xlabel("epoch")
        panel.set_ylabel("loss" if kind == "loss" else "accuracy")
        if not panel.get_title():
            panel.set_title("Loss per epoch" if kind == "loss" else "Accuracy per epoch")
        panel.legend(fontsize="small")
    return axes[0].figure


def plot_fit(x, y, predictions, ax=None, target=None, title="Data and fitted functions"):
    """Plot data (x, y) as points and each fit as a line.

    x, y: (N,) or (N, 1). `predictions` maps a label to predictions at x, or to a pair
    (x_grid, predictions) for fits evaluated elsewhere. `target` is an optional callable
    drawn dashed.
    """
    x, y = np.ravel(x), np.ravel(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    fig, ax = _new_axes(ax)
    ax.scatter(x, y, s=12, color="0.5", alpha=0.7, label="data")
    if target is not None:
        grid = np.linspace(x.min(), x.max(), 400)
        ax.plot(grid, np.ravel(target(grid)), color="k", linestyle="--", lw=1, label="target")
    for label, pred in predictions.items():
        if isinstance(pred, tuple):
            xp, yp = np.ravel(pred[0]), np.ravel(pred[1])
        else:
            xp, yp = x, np.ravel(pred)
        if len(xp) != len(yp):
            raise ValueError(f"prediction {label!r} has {len(yp)} values for {len(xp)} inputs")
        order = np.argsort(xp)
        ax.plot(xp[order], yp[order], lw=2, label=str(label))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def plot_gradient_norms(norms, ax=None, labels=None, title="Gradient norm per layer"):
    """Plot per-layer gradient norms on a log scale, one line per run.

    `norms` maps a run label to a sequence of norms, layer 1 first (a bare sequence is
    one unlabelled run). `labels` optionally names the layers on the x-axis.
    """
    if not isinstance(norms, dict):
        norms = {None: norms}
    fig, ax = _new_axes(ax)
    longest = 0
    for label, values in norms.items():
        values = np.asarray(values, dtype=np.float64)
        longest = max(longest, len(values))
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=label)
    ax.set_yscale("log")
    layers = np.arange(1, longest + 1)
    if labels is not None:
        if len(labels) != longest:
            raise ValueError(f"labels names {len(labels)} layers, norms have {longest}")
        ax.set_xticks(layers, labels)
    else:
        ax.set_xticks(layers)
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm")
    ax.set_title(title)
    if any(label is not None for label in norms):
        ax.legend(fontsize="small")
    return fig


def plot_success_rates(successes, trials, ax=None, xlabel="setting",
                       title="Share of successful runs"):
    """Draw one bar per setting: the fraction of `trials` runs that succeeded.

    `successes` maps a setting (for example a hidden width) to its number of successful
    runs out of `trials`. Each bar is labelled "k/trials"; the y-axis is the rate in [0, 1].
    """
    if not successes:
        raise ValueError("successes must hold at least one setting")
    trials = int(trials)
    counts = np.array([int(k) for k in successes.values()])
    if trials < 1 or counts.min() < 0 or counts.max() > trials:
        raise ValueError(f"each count must be in [0, trials] with trials >= 1, got "
                         f"{dict(successes)} out of {trials}")
    fig, ax = _new_axes(ax, figsize=(4.5, 3.2))
    positions = np.arange(len(counts))
    bars = ax.bar(positions, counts / trials, color="C0", width=0.6)
    for bar, k in zip(bars, counts):
        ax.annotate(f"{k}/{trials}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small", xytext=(0, 2),
                    textcoords="offset points")
    ax.set_xticks(positions, [str(s) for s in successes])
    ax.set_ylim(0, 1.12)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("success rate")
    ax.set_title(title)
    return fig


def plot_curves(x, curves, ax=None, xlabel="x", ylabel="value", title="Curves"):
    """Plot several curves over the same x (N,), one labelled line per entry of `curves`.

    `curves` maps a label to values (N,) at x. A horizontal line marks y = 0.
    """
    x = np.ravel(np.asarray(x, dtype=np.float64))
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig, ax = _new_axes(ax)
    ax.axhline(0, color="0.6", lw=0.8)
    for label, values in curves.items():
        values = np.ravel(np.asarray(values, dtype=np.float64))
        if values.shape != x.shape:
            raise ValueError(f"curve {label!r} has {values.size} values for {x.size} points")
        ax.plot(x, values, lw=2, label=str(label))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_scaling(x, curves, ax=None, xlabel="x", ylabel="y", logx=False, logy=False,
                 title="Measurements", marker="o", base=10):
    """Plot measurements against a size (a width, a depth, an epoch), optionally on log axes.

    `curves` maps a label to values (len(x),), or to a pair (x_values, values) for a
    curve measured at other points. Use it for an error against a width, a count against
    a depth, or losses against epochs. `base` is the base of the log axes; with base 2
    the ticks are powers of two written as plain numbers.
    """
    if not curves:
        raise ValueError("curves must hold at least one curve")
    x = np.ravel(np.asarray(x, dtype=np.float64))
    fig, ax = _new_axes(ax, figsize=(5, 3.5))
    for label, values in curves.items():
        xs, ys = (values if isinstance(values, tuple) else (x, values))
        xs = np.ravel(np.asarray(xs, dtype=np.float64))
        ys = np.ravel(np.asarray(ys, dtype=np.float64))
        if len(xs) != len(ys):
            raise ValueError(f"curve {label!r} has {len(ys)} values for {len(xs)} points")
        ax.plot(xs, ys, marker=marker, ms=4, label=str(label))
    if logx:
        ax.set_xscale("log", base=base)
        if 1 < len(x) <= 12:  # label the measured sizes themselves, in plain numbers
            ax.set_xticks(x, [f"{v:g}" for v in x])
            ax.xaxis.set_minor_formatter(NullFormatter())
    elif 1 < len(x) <= 12 and np.all(x == np.round(x)):  # a few whole sizes: tick each
        ax.set_xticks(x, [f"{v:g}" for v in x])
    if logy:
        ax.set_yscale("log", base=base)
        ax.yaxis.set_minor_formatter(NullFormatter())
        if base == 2:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig
