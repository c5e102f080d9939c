"""Frames per second of the playground in JupyterLab in Chromium, against matplotlib.

A frame is one epoch of training plus every picture redrawn. Both sides train the same
2-4-4-1 tanh network on the circle data with a 50 x 50 surface, in the same JupyterLab,
browser and run:

- playground: ``course.playground_widget.Playground`` (an anywidget: the browser asks for
  a frame, the kernel trains and sends RGBA bytes, canvases paint them);
- baseline ``matplotlib+interact``: ``ipywidgets.interact`` over an ``ipywidgets.Play``
  counter, redrawing a matplotlib figure of the same pictures (output surface with the
  training points, and the 8 hidden units) on every tick;
- if ipycanvas is installed (``pip install ipycanvas``, not a dependency of the course),
  another route: the same ``Play`` counter, with the same RGBA bytes put on 9 ipycanvas
  canvases by the kernel (frames = canvas draws / 9). It paints only those 9 pictures
  (no data points, weight links, loss curve or gradient bars), so it does less per frame
  than the playground, and has no flow control (ticks queue up in the kernel).

Frames are counted in the browser (canvases painted, or figure images inserted) over
``--seconds`` after a warm-up. The machine's load (``os.getloadavg``) is printed with
them, since the cores may be shared, and so is the kernel's share of a frame (one epoch
and the pictures, timed in this process). The last line is ``fps=<playground frames/s>``.

    python benchmarks/playground_fps.py [--seconds 15] [--warmup 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from lab import running_lab  # noqa: E402
from playground_page import LAB_ARGS, quiet_home, run_notebook  # noqa: E402

CONFIG = 'Config(data="circle", layers=(4, 4), activation="tanh", lr=0.03)'

PLAYGROUND = f"""from course.playground import Config
from course.playground_widget import Playground
Playground({CONFIG}, resolution=50)"""

BASELINE = f"""%matplotlib inline
import ipywidgets
import matplotlib.pyplot as plt
from course.playground import Config, Trainer

trainer = Trainer({CONFIG})

def draw(frame):
    if frame:
        trainer.step(1)
    f = trainer.frame(50)
    fig, axes = plt.subplot_mosaic([["out", "out", "a", "b", "c", "d"],
                                    ["out", "out", "e", "f", "g", "h"]], figsize=(9, 3))
    axes["out"].imshow(f["output"], extent=(-6, 6, -6, 6))
    X, y = trainer.X_train, trainer.y_train
    axes["out"].scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm_r", s=8, edgecolors="white")
    axes["out"].set_title(f"epoch {{trainer.epoch}}  test loss {{trainer.test_loss:.3f}}")
    units = [u for layer in f["units"] for u in layer]
    for key, picture in zip("abcdefgh", units):
        axes[key].imshow(picture)
        axes[key].axis("off")
    plt.show()

ipywidgets.interact(draw, frame=ipywidgets.Play(value=0, min=0, max=100000, interval=1))"""

IPYCANVAS = f"""import ipywidgets
from ipycanvas import Canvas, hold_canvas
from course.playground import Config, Trainer

trainer = Trainer({CONFIG})
big, small = ipywidgets.Layout(width="300px", height="300px"), ipywidgets.Layout(width="36px")
canvases = [Canvas(width=50, height=50, layout=big)]
canvases += [Canvas(width=50, height=50, layout=small) for _ in range(8)]
play = ipywidgets.Play(value=0, min=0, max=100000, interval=1)

def tick(change):
    trainer.step(1)
    f = trainer.frame(50)
    pictures = [f["output"]] + [u for layer in f["units"] for u in layer]
    with hold_canvas():
        for canvas, picture in zip(canvases, pictures):
            canvas.put_image_data(picture, 0, 0)

play.observe(tick, "value")
ipywidgets.VBox([play, canvases[0], ipywidgets.HBox(canvases[1:])])"""

# Counts what reaches the screen through a 2-D canvas, on every page (ipycanvas route).
COUNT_CANVAS_DRAWS = """
  window.__draws = 0;
  for (const name of ['putImageData', 'drawImage']) {
    const original = CanvasRenderingContext2D.prototype[name];
    CanvasRenderingContext2D.prototype[name] = function (...args) {
      if (this.canvas.width === 50 && this.canvas.isConnected) window.__draws++;
      return original.apply(this, args);
    };
  }
"""

COUNT_IMAGES = """() => {
  window.__images = 0;
  let last = null;
  const poll = () => {
    const imgs = document.querySelectorAll('.jp-OutputArea img');
    const img = imgs[imgs.length - 1];
    if (img && img.src !== last) { last = img.src; window.__images++; }
    requestAnimationFrame(poll);
  };
  poll();
}"""


def write_notebook(path: Path, source: str):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def rate(page, count_js, warmup, seconds):
    """Frames per second counted by `count_js` over `seconds`, after `warmup` seconds."""
    page.wait_for_timeout(warmup * 1000)
    n0, t0 = page.evaluate(count_js), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    n1, t1 = page.evaluate(count_js), time.monotonic()
    return (n1 - n0) / (t1 - t0)


def has_ipycanvas():
    """Whether the optional ipycanvas route can be measured too."""
    import importlib.util

    return importlib.util.find_spec("ipycanvas") is not None


def kernel_ms(repeat=60):
    """Median milliseconds of the kernel's share of a frame (one epoch and the pictures)."""
    import statistics

    from course.playground import Config, Trainer

    trainer = Trainer(eval(CONFIG, {"Config": Config}))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        trainer.step(1)
        trainer.frame(50)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        write_notebook(root / "playground.ipynb", PLAYGROUND)
        write_notebook(root / "baseline.ipynb", BASELINE)
        write_notebook(root / "ipycanvas.ipynb", IPYCANVAS)
        with running_lab(root, quiet_home(Path(tmp) / "home"), args=LAB_ARGS) as lab, \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.add_init_script(COUNT_CANVAS_DRAWS)
            load_before = os.getloadavg()

            run_notebook(page, lab, "playground.ipynb")
            page.wait_for_function("() => document.querySelector('.pg')?.dataset.frame",
                                   timeout=120_000)
            page.locator(".pg-play").click()
            fps = rate(page, "() => +document.querySelector('.pg').dataset.frames",
                       args.warmup, args.seconds)
            (ROOT / "build").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "build" / "playground_fps_playground.png"))
            loss = float(page.evaluate("() => document.querySelector('.pg').dataset.testLoss"))
            draw = float(page.evaluate("() => document.querySelector('.pg').dataset.drawMs"))
            page.locator(".pg-play").click()
            load_mid = os.getloadavg()

            run_notebook(page, lab, "baseline.ipynb")
            try:
                page.wait_for_selector(".jp-OutputArea img", timeout=120_000)
            except Exception:
                page.screenshot(path="/tmp/bench_fail.png")
                raise
            page.evaluate(COUNT_IMAGES)
            page.locator(".widget-play button").first.click()  # the Play widget's play
            base = rate(page, "() => window.__images", args.warmup, args.seconds)
            page.screenshot(path=str(ROOT / "build" / "playground_fps_baseline.png"))
            page.locator(".widget-play button").nth(1).click()  # pause
            load_base = os.getloadavg()

            canvas = None
            if has_ipycanvas():
                run_notebook(page, lab, "ipycanvas.ipynb")
                page.wait_for_selector(".widget-play button", timeout=120_000)
                page.locator(".widget-play button").first.click()
                canvas = rate(page, "() => window.__draws / 9", args.warmup, args.seconds)
                page.screenshot(path=str(ROOT / "build" / "playground_fps_ipycanvas.png"))
            load_after = os.getloadavg()
            browser.close()

    work = kernel_ms()
    print(f"cores={os.cpu_count()}  load average (1, 5, 15 min): before "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after playground "
          f"{load_mid[0]:.2f}, after baseline {load_base[0]:.2f}, at the end {load_after[0]:.2f}")
    print(f"playground (anywidget, canvases)   {fps:6.1f} frames/s  "
          f"(test loss {loss:.3f} at the end)")
    print(f"baseline   (matplotlib + interact) {base:6.1f} frames/s")
    if canvas is None:
        print("ipycanvas  (Play + put_image_data)   not installed: pip install ipycanvas")
    else:
        print(f"ipycanvas  (Play + put_image_data) {canvas:6.1f} frames/s")
    print(f"kernel share of a playground frame, timed in this process: {work:.1f} ms "
          f"(at most {1000 / work:.0f} frames/s from the kernel alone); browser script "
          f"painting a frame: {draw:.1f} ms")
    print(f"ratio playground / baseline = {fps / base if base else float('inf'):.1f}")
    print(f"fps={fps:.1f}")


if __name__ == "__main__":
    main()
