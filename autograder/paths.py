"""Where the course keeps its assignments: the one list every tool and test reads.

An assignment is a folder ``source/<name>/`` holding ``<name>.ipynb``; ``release/<name>``
is generated from it by ``nbgrader generate_assignment``. Its checks live in
``autograder/checks/<name>.py`` and its known bugs in ``autograder/bugs/<name>.py``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "assignments", "notebook"]


def assignments(root: Path = ROOT) -> list[str]:
    """Return the names of the assignments in ``source/``."""
    return sorted(p.name for p in (Path(root) / "source").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def notebook(assignment: str, kind: str = "source", root: Path = ROOT) -> Path:
    """Return the notebook of an assignment in ``source/`` or ``release/``."""
    return Path(root) / kind / assignment / f"{assignment}.ipynb"
