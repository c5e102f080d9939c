"""The student configuration in docs/student-config/ is what Jupyter's own commands write."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "docs" / "student-config"
HIDDEN = ("create-assignment", "formgrader", "course-list")


@pytest.mark.slow
def test_page_config_is_what_labextension_disable_writes(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter"))
    for plugin in HIDDEN:
        subprocess.run([sys.executable, "-m", "jupyter", "labextension", "disable",
                        "--level=user", f"@jupyter/nbgrader:{plugin}"],
                       env=env, check=True, capture_output=True)
    written = json.loads((tmp_path / ".jupyter/labconfig/page_config.json").read_text())
    shipped = json.loads((CONFIG / "labconfig/page_config.json").read_text())
    assert shipped == written

