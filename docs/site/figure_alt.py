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


def register() -> None:
    """Make describe() the plain-text form of every figure the running IPython shows.

    Turning on the inline backend (``%matplotlib inline``, or pyplot's first import)
    drops every formatter registered for Figure, so the printer is registered again
    before each cell runs and before the inline backend shows the cell's figures.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return

    def again(*_):
        shell.display_formatter.formatters["text/plain"].for_type(Figure, _plain)

    again()
    shell.events.register("pre_run_cell", again)
    shell.events.register("post_execute", again)


if __name__ == "__main__":  # run by the kernel through exec_files
    register()
