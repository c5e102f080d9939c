"""The playground in JupyterLab: it runs, learns the circle live, and survives changes.

(Named apart from tests/test_playground.py, the unit tests: pytest needs unique basenames.)
"""

import time
from typing import NamedTuple

import pytest
from lab import running_lab
from playground_page import (
    LAB_ARGS,
    copy_notebook,
    frames,
    open_and_run,
    quiet_home,
    shown_test_loss,
)

ERROR_OUTPUT = (".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")


class Playground(NamedTuple):
    page: object  # the watched Playwright page showing the notebook
    lab: object  # the running JupyterLab


# A screenshot of the playground while it trains waits for a still frame: on a busy
# machine that takes longer than Playwright's default 30 s.
SHOT_TIMEOUT = 120_000


@pytest.fixture
def playground(watched_page, tmp_path):
    """JupyterLab with the playground notebook opened and run."""
    name = copy_notebook(tmp_path / "root")
    with running_lab(tmp_path / "root", quiet_home(tmp_path / "home"), args=LAB_ARGS) as lab:
        open_and_run(watched_page, lab, name)
        yield Playground(watched_page, lab)


def wait_frames(page, more, timeout=20_000):
    start = frames(page)
    page.wait_for_function(f"() => +document.querySelector('.pg').dataset.frames >= {start + more}",
                           timeout=timeout)


def test_play_learns_the_circle_and_survives_changes(playground, screens_dir):
    page = playground.page
    shots = screens_dir("playground")
    root = page.locator(".pg")
    root.scroll_into_view_if_needed()
    root.screenshot(path=shots / "1-opened.png", timeout=SHOT_TIMEOUT)
    assert root.locator(".pg-thumb.pg-selected").get_attribute("data-name") == "circle"
    first = frames(page)

    root.get_by_role("button", name="play", exact=True).click()
    start = time.monotonic()
    page.wait_for_function("() => +document.querySelector('.pg').dataset.testLoss < 0.1",
                           timeout=20_000)
    elapsed = time.monotonic() - start
    assert frames(page) > first + 5, "the frame counter must advance while playing"
    assert shown_test_loss(page) < 0.1
    root.screenshot(path=shots / "2-learned-circle.png", timeout=SHOT_TIMEOUT)
    root.get_by_label("Show test data").check()
    root.get_by_label("Discretize output").check()
    wait_frames(page, 2)
    root.screenshot(path=shots / "2b-test-points-discretized.png", timeout=SHOT_TIMEOUT)
    root.locator(".pg-unit[title='layer 2, unit 3']").hover()  # its picture fills the output
    assert root.locator(".pg-surface-label").inner_text() == "unit 3 of layer 2"
    root.screenshot(path=shots / "2c-hover-unit.png", timeout=SHOT_TIMEOUT)
    page.mouse.move(5, 5)

    # change the activation and the layers while it plays
    root.get_by_label("Activation", exact=True).select_option("relu")
    wait_frames(page, 3)
    root.get_by_role("button", name="add layer", exact=True).click()
    wait_frames(page, 3)
    root.get_by_role("button", name="add unit to layer 3", exact=True).click()
    wait_frames(page, 3)
    root.get_by_role("button", name="remove layer", exact=True).click()
    wait_frames(page, 10)
    assert root.locator(".pg-layercount").inner_text().lower() == "2 hidden layers"
    assert root.locator(".pg-unit").count() == 4 + 4 + 1  # 2-4-4-1 again, output unit too
    assert root.locator(".pg-error").inner_text() == ""
    assert page.locator(ERROR_OUTPUT).count() == 0
    assert page.log.problems() == []
    assert "Traceback" not in playground.lab.log.read_text(errors="replace")
    root.screenshot(path=shots / "3-relu-while-playing.png", timeout=SHOT_TIMEOUT)
    print(f"test loss below 0.1 after {elapsed:.1f} s")


FIRST_WIDTH = "() => document.querySelector('.pg-unitctl .pg-small').textContent"


def click_and_wait_for_new_width(page, button):
    """Click a button that changes the first hidden layer's width; wait until it shows."""
    before = page.evaluate(FIRST_WIDTH)
    button.click()
    page.wait_for_function(f"before => ({FIRST_WIDTH})() !== before", arg=before)


def test_controls_refuse_impossible_networks_and_bad_strings(playground, screens_dir, tmp_path):
    page = playground.page
    root = page.locator(".pg")
    root.get_by_role("button", name="Export network", exact=True).click()
    page.wait_for_function("() => document.querySelector('.pg-status').textContent !== ''")
    assert "playground_network.py" in root.locator(".pg-status").inner_text()
    namespace = {}
    exec((tmp_path / "root" / "playground_network.py").read_text(), namespace)
    assert namespace["model"].sizes == [2, 4, 4, 1]
    add_layer = root.get_by_role("button", name="add layer", exact=True)
    for _ in range(8):  # a disabled button ignores the extra clicks
        if add_layer.is_enabled():
            layers = root.locator(".pg-unitctl").count()
            add_layer.click()
            page.wait_for_function("n => document.querySelectorAll('.pg-unitctl').length > n",
                                   arg=layers)
    page.wait_for_function("() => document.querySelectorAll('.pg-unitctl').length === 6")
    assert add_layer.is_disabled()
    assert root.locator(".pg-layercount").inner_text().lower() == "6 hidden layers"

    remove_unit = root.get_by_role("button", name="remove unit from layer 1", exact=True)
    for _ in range(5):
        if remove_unit.is_enabled():
            click_and_wait_for_new_width(page, remove_unit)
    page.wait_for_function("() => /^1( neuron)?$/.test("
                           "document.querySelector('.pg-unitctl .pg-small').textContent)")
    assert remove_unit.is_disabled()

    code = root.locator(".pg-code")
    code.fill("data=circle&h=4,0")
    root.get_by_role("button", name="Load", exact=True).click()
    page.wait_for_function("() => document.querySelector('.pg-error').textContent !== ''")
    assert "1 to 8 units" in root.locator(".pg-error").inner_text()
    assert root.locator(".pg-unitctl").count() == 6  # the network is unchanged
    assert root.locator(".pg-unit").count() == 1 + 4 + 2 + 2 + 2 + 2 + 1
    root.screenshot(path=screens_dir("playground") / "4-refused.png", timeout=SHOT_TIMEOUT)
    assert page.log.problems() == []


def test_regression_and_three_classes(playground, screens_dir):
    page = playground.page
    root = page.locator(".pg")
    shots = screens_dir("playground")
    root.get_by_label("Problem type", exact=True).select_option("regression")
    page.wait_for_function("() => document.querySelector('.pg-thumb.pg-selected')"
                           ".dataset.name === 'plane'")
    root.locator(".pg-thumb[data-name='multigauss']").click()
    page.wait_for_function("() => document.querySelector('.pg-thumb.pg-selected')"
                           ".dataset.name === 'multigauss'")
    root.get_by_label("Activation", exact=True).select_option("relu")
    for _ in range(2):
        click_and_wait_for_new_width(
            page, root.get_by_role("button", name="add unit to layer 1", exact=True))
    root.get_by_role("button", name="play", exact=True).click()
    wait_frames(page, 30, timeout=60_000)
    root.screenshot(path=shots / "5-regression.png", timeout=SHOT_TIMEOUT)
    root.get_by_role("button", name="play", exact=True).click()
    assert shown_test_loss(page) < 0.1  # mean squared error of targets in [-1, 1]

    root.get_by_label("Problem type", exact=True).select_option("classification")
    page.wait_for_function("() => document.querySelector('.pg-thumb.pg-selected')"
                           ".dataset.name === 'circle'")
    root.locator(".pg-thumb[data-name='spiral3']").click()
    for feature in ("sin(x1)", "sin(x2)"):
        root.locator(f".pg-feature[title='{feature}']").click()
        page.wait_for_function(
            f"() => !document.querySelector(\".pg-feature[title='{feature}']\")"
            ".classList.contains('pg-off')")
    root.get_by_label("Optimizer", exact=True).select_option("adam")
    root.get_by_label("Learning rate", exact=True).select_option("0.03")
    root.get_by_role("button", name="play", exact=True).click()
    wait_frames(page, 40, timeout=60_000)
    root.screenshot(path=shots / "6-three-arm-spiral.png", timeout=SHOT_TIMEOUT)
    assert root.locator(".pg-error").inner_text() == ""
    assert page.log.problems() == []
