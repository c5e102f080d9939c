"""Configuration of a grading run: the course directory, nbgrader's config, the limits.

The grader reads the course's ``nbgrader_config.py`` like nbgrader does; the sandbox's
limits (:class:`autograder.sandbox.Limits`) are set there as ``c.Autograder.<limit>``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.sandbox import Limits

STATE_DIR = ".autograder"

__all__ = ["STATE_DIR", "GradingError", "find_course_root", "load_config", "normalize_db_url",
           "safe_url", "limits_from_config"]


class GradingError(Exception):
    """Bad input (unknown assignment or student, missing gradebook...): stop, say why."""


def find_course_root(start: Path | None = None) -> Path:
    """The directory holding ``nbgrader_config.py``: cwd or a parent, else the repository."""
    here = (start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "nbgrader_config.py").is_file():
            return d
    return Path(__file__).resolve().parent.parent


def load_config(root: Path) -> Config:
    cfg = Config()
    if (root / "nbgrader_config.py").is_file():
        cfg.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    cfg.CourseDirectory.root = str(root)
    return cfg


def normalize_db_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 to SQLAlchemy >= 2.1; use psycopg2 if that is
    what is installed (the project depends on psycopg2-binary)."""
    if url.startswith("postgresql://"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and \
                importlib.util.find_spec("psycopg2") is not None:
            return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def limits_from_config(cfg: Config) -> Limits:
    """Return the limits set in ``c.Autograder`` (and ``c.Execute.timeout``), else defaults."""
    lim = Limits()
    section = cfg.get("Autograder", {})
    for name in asdict(lim):
        if name in section:
            setattr(lim, name, type(getattr(lim, name))(section[name]))
    if "timeout" in cfg.get("Execute", {}) and "cell_timeout" not in section:
        lim.cell_timeout = int(cfg.Execute.timeout)
    return lim

