"""What every figure of the course shares: :class:`NotebookFigure`, a ``Figure`` Jupyter
shows once as a PNG without pyplot; a new panel or the one given; the class colours; and
the checks of the arrays a plot is given. Used by :mod:`course.plots`,
:mod:`course.curves` and :mod:`course.graph_plots`.
"""

import io

import numpy as np
from matplotlib.figure import Figure

__all__ = ["CLASS_COLORS", "REGION_ALPHA", "NotebookFigure"]

CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
"""Colour of class k is CLASS_COLORS[k % 10], in every plot of the package."""

REGION_ALPHA = 0.3
"""Opacity of the class regions painted behind the points."""

class NotebookFigure(Figure):
    """A Figure that Jupyter shows as a PNG, with or without pyplot's inline backend."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _new_axes(ax, figsize=(5, 4)):
    """Return (figure, axes): the given axes and its figure, or a new one-panel figure."""
    if ax is None:
        ax = NotebookFigure(figsize=figsize, layout="constrained").add_subplot()
    return ax.figure, ax


def _class_colors(count):
    """Return the first `count` class colours (cycling after 10)."""
    return [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(count)]


def _points_2d(X):
    """Return X as a float array (N, 2) or raise ValueError."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {X.shape}")
    return X


def _labels(y, n):
    """Return integer labels (N,) from labels (N,) or one-hot rows (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) or ({n}, C), got {y.shape}")
    return y.astype(np.int64)


def _box(X, pad=0.1):
    """Return (x_min, x_max, y_min, y_max) around the points, padded by `pad` of the span."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = pad * np.where(hi > lo, hi - lo, 1.0)
    return lo[0] - margin[0], hi[0] + margin[0], lo[1] - margin[1], hi[1] + margin[1]
