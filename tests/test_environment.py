"""The conda environment and pyproject.toml declare the same dependencies; lint is clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_matches_pyproject():
    deps = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = set()
    for item in env["dependencies"]:
        if isinstance(item, dict):
            listed |= {p for p in item["pip"] if p != "-e ."}
        elif not item.startswith(("python", "pip")):
            listed.add(item)
    assert listed == deps, (
        f"only in environment.yml: {sorted(listed - deps)}; "
        f"only in pyproject: {sorted(deps - listed)}"
    )


def test_python_requirement_agrees():
    req = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    assert f"python{req}" in env


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a declared dependency and must be installed"
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
