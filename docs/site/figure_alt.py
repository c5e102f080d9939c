"""Kernel start-up file of the site build: a figure's plain-text form is its titles.

The site builder runs each chapter with this file in ``IPKernelApp.exec_files``. Every
matplotlib figure a cell displays then carries, next to its PNG, a ``text/plain`` line
naming it ("sigmoid and its derivative; tanh and its derivative"), which becomes the
image's alt text on the web page. A figure with no title and no axis labels gets "".
"""

from matplotlib.figure import Figure


def describe(fig) -> str:
    """Name a figure by its suptitle and axes titles, else by its axis labels."""
    parts = []
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        parts.append(suptitle.get_text())
    for ax in fig.axes:
        title = " ".join(t for t in (ax.get_title("left"), ax.get_title(),
                                     ax.get_title("right")) if t)
        if title:
            parts.append(title)
    if not parts:
        for ax in fig.axes:
            x, y = ax.get_xlabel(), ax.get_ylabel()
            if x and y:
                parts.append(f"{y} against {x}")
            elif x or y:
                parts.append(x or y)
    text = "; ".join(dict.fromkeys(p.strip() for p in parts))
    return text.replace("$", "").replace("\\", "").replace("\n", " ")


def _plain(fig, printer, cycle):
    printer.text(describe(fig))


try:  # in the kernel, get_ipython is in the namespace exec_files runs in
    get_ipython().display_formatter.formatters["text/plain"].for_type(Figure, _plain)  # noqa: F821
except NameError:  # imported as a module (tests): describe() only
    pass
