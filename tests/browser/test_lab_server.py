"""The JupyterLab launcher: a server starts, opens JupyterLab in Chromium, and stops."""

from lab import running_lab


def test_lab_starts_serves_and_stops(watched_page, tmp_path):
    (tmp_path / "root").mkdir()
    with running_lab(tmp_path / "root", tmp_path / "home") as lab:
        assert "started" in lab.api("status")
        watched_page.goto(lab.url("lab"))
        watched_page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
        proc = lab.process
    assert proc.poll() is not None, "the server must be stopped when the block ends"
