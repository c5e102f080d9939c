"""Pictures of a computation graph of :class:`course.autodiff.Value` (matplotlib only).

:func:`draw_graph` draws the graph that ends in a value, each value a box with its data
and grad and each operation a circle; :func:`plot_backward_step` draws it part-way through
a backward pass. :mod:`course.plots` offers both beside the course's other pictures.
"""

from course.autodiff import _topological
from course.figure import NotebookFigure

__all__ = ["draw_graph", "plot_backward_step"]


def _graph(root):
    """Collect the nodes and edges (parent, child) of the graph that ends in `root`."""
    nodes, edges, stack, seen = [], [], [root], {id(root)}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for p in node._prev:
            edges.append((p, node))
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return nodes, edges


def _columns(root, nodes):
    """Return (depth of each node by id, the nodes of each depth): the longest path to the
    root, so that every input sits left of its uses."""
    depth = {id(root): 0}
    for node in _topological(root)[::-1]:
        for p in node._prev:
            depth[id(p)] = max(depth.get(id(p), 0), depth[id(node)] + 1)
    layers = [[] for _ in range(max(depth.values()) + 1)]
    for n in nodes:
        layers[depth[id(n)]].append(n)
    return depth, layers


def _rows(layers, uses, row):
    """Return the height of each node by id, ordering each column (root first) by the
    mean height of its uses."""
    y = {}
    for layer in layers:
        key = [sum(y[id(c)] for c in uses[id(n)]) / max(len(uses[id(n)]), 1) for n in layer]
        layer[:] = [n for _, n in sorted(zip(key, layer), key=lambda t: t[0])]
        for i, n in enumerate(layer):
            y[id(n)] = (i - (len(layer) - 1) / 2) * row
    return y


def draw_graph(root, ax=None, fontsize=7):
    """Draw the computation graph that ends in `root`; return the matplotlib Figure.

    Values are boxes "label | data 1.00 | grad -4.00"; the operation that produced a
    value is a small circle just left of its box; arrows run from inputs to outputs.
    Columns are depths from the root (inputs on the left, the root on the right), and
    every value and every operation circle holds exactly one text. Layout units are
    inches, so a new figure keeps the text legible whatever the size of the graph.
    """
    from matplotlib.patches import FancyArrowPatch

    class _Edge(FancyArrowPatch):
        """Draw an arrow between two boxed texts, clipped to their current boxes."""

        def __init__(self, a, b, **kwargs):
            super().__init__(a.get_position(), b.get_position(), patchA=a.get_bbox_patch(),
                             patchB=b.get_bbox_patch(), **kwargs)
            self._ends = (a, b)

        def draw(self, renderer):
            for text in self._ends:  # the boxes are drawn later (above the arrows)
                text.update_bbox_position_size(renderer)
            super().draw(renderer)

    nodes, edges = _graph(root)
    depth, layers = _columns(root, nodes)
    max_depth = len(layers) - 1
    uses = {id(n): [] for n in nodes}
    for p, c in edges:
        uses[id(p)].append(c)
    labels = {id(n): (f"{n.label} | " if n.label else "") + f"data {n.data:.2f} | grad "
              f"{n.grad:.2f}" for n in nodes}

    char = 0.6 * fontsize / 72  # approximate character width in inches
    box = max(len(t) for t in labels.values()) * char + 0.2
    circle = max([len(n._op) for n in nodes if n._op] or [0]) * char + 0.35
    column, row = box + circle + 0.5, 3.4 * fontsize / 72
    y = _rows(layers, uses, row)
    x = {id(n): (max_depth - depth[id(n)]) * column + circle + 0.3 + box / 2 for n in nodes}
    width = (max_depth + 1) * column
    height = max(len(layer) for layer in layers) * row + 0.2

    if ax is None:
        ax = NotebookFigure(figsize=(width, height)).add_axes((0, 0, 1, 1))
    style = dict(ha="center", va="center", fontsize=fontsize, zorder=3)
    boxes, circles = {}, {}
    for n in nodes:
        boxes[id(n)] = ax.text(x[id(n)], y[id(n)], labels[id(n)], **style, bbox=dict(
            boxstyle="round,pad=0.3", facecolor="#eef3fb", edgecolor="#4a6fa5"))
        if n._op:
            circles[id(n)] = ax.text(x[id(n)] - box / 2 - 0.25 - circle / 2, y[id(n)], n._op,
                                     **style, bbox=dict(boxstyle="circle,pad=0.25",
                                                        facecolor="white", edgecolor="0.3"))

    def arrow(a, b):
        ax.add_patch(_Edge(a, b, arrowstyle="-|>", mutation_scale=8, color="0.35", lw=0.8,
                           zorder=2))

    for n in nodes:
        if n._op:
            arrow(circles[id(n)], boxes[id(n)])
            for p in n._prev:
                arrow(boxes[id(p)], circles[id(n)])
    ax.set_xlim(0, width)
    ax.set_ylim(-height / 2, height / 2)
    ax.set_axis_off()
    return ax.figure


def plot_backward_step(root, step, fontsize=7):
    """Draw the graph of a scalar `Value` after `step` local rules of its backward pass.

    Step 0 seeds grad 1 at the root; step k has applied the rules of the first k operation
    nodes in reverse topological order (the order of ``Value.backward``). A value that no
    rule has reached yet shows "grad ?"; the node whose rule just ran is outlined in red
    and the inputs it has just sent gradient to are filled orange. The grads stored in
    the graph are restored afterwards.
    """
    everything = _topological(root)
    rules = [n for n in reversed(everything) if n._prev]
    if not 0 <= step <= len(rules):
        raise ValueError(f"step must be in [0, {len(rules)}], got {step}")
    saved = [(n, n.grad) for n in everything]
    try:
        for n in everything:
            n.grad = 0.0
        root.grad = 1.0
        for n in rules[:step]:
            n._backward()
        reached = {id(root)} | {id(p) for n in rules[:step] for p in n._prev}
        for n in everything:
            if id(n) not in reached:
                n.grad = float("nan")
        fig = draw_graph(root, fontsize=fontsize)
        sent = rules[step - 1].grad if step else 1.0
    finally:
        for n, g in saved:
            n.grad = g
    ax = fig.axes[0]
    just = rules[step - 1] if step else root
    fed = {id(p) for p in just._prev} if step else set()
    texts = iter(ax.texts)
    for n in _graph(root)[0]:  # draw_graph writes each box, then its operation circle
        box = next(texts)
        box.set_text(box.get_text().replace("grad nan", "grad ?"))
        if id(n) in fed:
            box.get_bbox_patch().set_facecolor("#ffd8a8")
        if n is just:
            box.get_bbox_patch().set_edgecolor("C3")
            box.get_bbox_patch().set_linewidth(2)
        if n._op:
            next(texts)
    if step == 0:
        title = f"step 0 of {len(rules)}: seed d(output)/d(output) = 1"
    else:
        title = (f"step {step} of {len(rules)}: the '{just._op}' node passes its grad "
                 f"{sent:.2f} back to {len(just._prev)} input(s)")
    ax.set_title(title, fontsize=fontsize + 2)
    return fig
