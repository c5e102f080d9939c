"""The playground control: an anywidget that draws what ``course.playground.Trainer`` computes.

The browser asks for a frame when it is ready to draw one (so frames never pile up);
the kernel trains one epoch with ``course.optim``, colours the output and every unit
over the plane with ``course.playground`` and sends the pictures as RGBA bytes, which
the browser paints on canvases. Every change of a control comes back as a new
``config`` (checked by ``Config``: an impossible one is refused and the reason shown).
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import numpy as np
import traitlets

from course import playground as pg

__all__ = ["Playground"]

HERE = Path(__file__).resolve().parent


def _points(X, y):
    """Rows [x1, x2, value] rounded for drawing; value is the class or the target."""
    return np.round(np.c_[X, np.reshape(y, -1)], 3).tolist()


def _limits():
    """What the controls may offer: names, lists of rates, size limits, data thumbnails."""
    thumbs = {}
    for name in pg.DATASETS:
        X, y = pg.make_data(name, 0.0, seed=0)
        thumbs[name] = _points(X[:160], y[:160])
    return {
        "datasets": {k: v[0] for k, v in pg.DATASETS.items()}, "features": list(pg.FEATURES),
        "activations": list(pg.ACTIVATIONS), "optimizers": list(pg.OPTIMIZERS),
        "regularizations": list(pg.REGULARIZATIONS), "learning_rates": pg.LEARNING_RATES,
        "reg_rates": pg.REG_RATES, "max_layers": pg.MAX_LAYERS, "max_units": pg.MAX_UNITS,
        "max_batch": 30, "extent": pg.EXTENT, "thumbs": thumbs,
    }


class Playground(anywidget.AnyWidget):
    """TensorFlow Playground on ``course.MLP``: show it as the last line of a cell.

    ``Playground(config)`` takes a ``course.playground.Config`` or its string. The
    trainer (data, network, history) is ``.trainer``; ``.step(n)`` trains n epochs from
    Python, ``.load(text)`` restores a configuration string, ``.export(path)`` writes the
    code that rebuilds the trained network, and ``.to_cell()`` puts it in a new cell.
    """

    _esm = HERE / "playground.js"
    _css = HERE / "playground.css"

    config = traitlets.Dict().tag(sync=True)
    code = traitlets.Unicode("").tag(sync=True)
    limits = traitlets.Dict().tag(sync=True)
    playing = traitlets.Bool(False).tag(sync=True)
    resolution = traitlets.Int(50).tag(sync=True)
    show_test = traitlets.Bool(False).tag(sync=True)
    discretize = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def __init__(self, config=None, resolution=50, export_path="playground_network.py"):
        if isinstance(config, str):
            config = pg.Config.decode(config)
        self.trainer = pg.Trainer(config)
        self.export_path = Path(export_path)
        super().__init__(config=self.trainer.config.to_dict(), code=self.trainer.config.encode(),
                         limits=_limits(), resolution=resolution)
        self.observe(self._on_config, "config")
        self.observe(lambda change: self.send_frame(), ["discretize", "resolution"])
        self.on_msg(self._on_msg)

    # changes from the controls
    def _on_config(self, change):
        try:
            config = pg.Config(**change["new"])
        except (TypeError, ValueError) as err:
            self.config = change["old"]  # the controls snap back to the running network
            self.error = f"not applied: {err}"
            return
        self.error = ""
        changed = config != self.trainer.config
        if changed:
            self.trainer.apply(config)
        if self.config != config.to_dict():  # the controls show the checked values
            self.config = config.to_dict()
        self.code = config.encode()
        if changed:
            self.send_scene()
            self.send_frame()

    def load(self, text):
        """Restore a configuration string; an invalid one changes nothing and says why."""
        try:
            config = pg.Config.decode(text)
        except ValueError as err:
            self.error = f"not restored: {err}"
            return False
        self.config = config.to_dict()
        self.trainer.reset()
        self.send_frame()
        return True

    def step(self, epochs=1):
        """Train `epochs` epochs and redraw."""
        self.trainer.step(epochs)
        self.send_frame()

    def reset(self):
        """Restore the initial weights and redraw."""
        self.trainer.reset()
        self.send_frame()

    def regenerate(self):
        """Draw new data (next seed) and rebuild the network."""
        self.config = self.trainer.config.replace(seed=(self.trainer.config.seed + 1)
                                                  % 2**31).to_dict()

    def export(self, path=None):
        """Write the code that rebuilds the trained network to a file; return its path."""
        path = Path(path or self.export_path)
        path.write_text(self.trainer.export_code())
        self.status = f"wrote {path} (run %load {path} in a cell to see it)"
        return path

    def to_cell(self):
        """Put the code that rebuilds the trained network into a new cell below this one."""
        from IPython import get_ipython

        get_ipython().set_next_input(self.trainer.export_code(), replace=False)

    def _on_msg(self, widget, content, buffers):
        try:
            self._handle(content.get("type"), content)
        except Exception as err:  # shown in the control, then logged by the kernel
            self.error = f"{type(err).__name__}: {err}"
            raise

    def _handle(self, kind, content):
        if kind == "frame":
            if self.playing:
                self.trainer.step(1)
            self.send_frame(requested=True)
        elif kind == "step":
            self.step(1)
        elif kind == "reset":
            self.reset()
        elif kind == "regenerate":
            self.regenerate()
        elif kind == "load":
            self.load(content.get("text", ""))
        elif kind == "export":
            self.export()
        elif kind == "hello":
            self.send_scene()
            self.send_frame()

    # drawing
    def send_scene(self):
        """Send what changes only with the data or the architecture: points, feature pictures."""
        t, R = self.trainer, self.resolution
        c = t.config
        self.send({"type": "scene", "problem": c.problem, "classes": c.classes,
                   "features": list(c.features), "layers": list(c.layers), "R": R,
                   "train": _points(t.X_train, t.y_train), "test": _points(t.X_test, t.y_test),
                   "all_features": list(pg.FEATURES)},
                  buffers=[np.ascontiguousarray(t.feature_rgba(R)).tobytes()])

    def send_frame(self, requested=False):
        """Send one frame: losses, curves, weights, gradient norms, dead units, pictures."""
        t, R = self.trainer, self.resolution
        f = t.frame(R, discrete=self.discretize)
        meta = {k: f[k] for k in ("epoch", "frame", "train_loss", "test_loss", "weights",
                                  "grad_norms", "dead", "dead_mask")}
        meta.update(type="frame", R=R, requested=requested, layers=[u.shape[0] for u in f["units"]],
                    curve_train=pg.curve(t.history["train"]),
                    curve_test=pg.curve(t.history["test"]))
        self.send(meta, buffers=[f["output"].tobytes()] + [u.tobytes() for u in f["units"]])
        return f
