"""Configuration of the grader: its settings, and the one way a command opens a course.

Every setting is a trait of a traitlets ``Configurable``, as in nbgrader, with its default
and its help declared once:

- :class:`Autograder`: the sandbox's limits, one trait per field of
  :class:`autograder.sandbox.confinement.Limits` (where each limit's default and help are written);
- :class:`Similarity`: the common code and the flag rule of ``python -m autograder
  similarity``.

A course sets them in its ``nbgrader_config.py`` (``c.Autograder.memory_mb = 4096``), a
command line with ``--Autograder.memory_mb=4096`` (its short flags, such as
``--cell-timeout``, are aliases of the same settings); ``python -m autograder grade
--help-all`` lists them with their defaults. :func:`open_course` reads the course's root,
its merged configuration and gradebook URL for every command, and stops with a
:class:`GradingError` naming a misspelt setting or a value of the wrong type before
anything is graded.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from pathlib import Path

from traitlets import Float, Int, TraitError
from traitlets.config import Config, Configurable
from traitlets.config.loader import DeferredConfigString, PyFileConfigLoader

from autograder.layout import ROOT
from autograder.sandbox.confinement import Limits

STATE_DIR = ".autograder"

__all__ = ["STATE_DIR", "GradingError", "Autograder", "Similarity", "CONFIGURABLES", "Course",
           "open_course", "find_course_root", "load_config", "check_settings",
           "command_line_settings", "normalize_db_url", "safe_url", "limits_from_config"]


class GradingError(Exception):
    """Bad input (unknown assignment or student, missing gradebook...): stop, say why."""


Autograder = type("Autograder", (Configurable,), {
    "__doc__": "Limits of each sandboxed kernel of ``python -m autograder grade`` "
               "(the fields of autograder.sandbox.confinement.Limits).",
    "__module__": __name__,
    **{f.name: Int(f.default, help=f.metadata.get("help", "")).tag(config=True)
       for f in fields(Limits)},
})


class Similarity(Configurable):
    """``python -m autograder similarity``: what counts toward a pair, when a pair is flagged.

    A pair is flagged when its score reaches ``threshold``, it matches at least
    ``min_tokens`` tokens, and its score is unusual for the class (a robust z-score of at
    least ``outlier``). Flags never change a grade; they are for the instructor to look at.
    """

    threshold = Float(0.45, min=0.0, max=1.0, help=(
        "Flag a pair only when at least this share of a submission's solution code (names, "
        "comments, blank lines and order ignored; the release's code and common code not "
        "counted) is found in a classmate's, the course package or the instructor's "
        "solution.")).tag(config=True)
    outlier = Float(3.5, min=0.0, help=(
        "Flag a pair only when its score is unusual for this class and assignment: a robust "
        "z-score, 0.6745 (score - median) / MAD, of at least this much (Iglewicz and "
        "Hoaglin's outlier cut-off is 3.5). The median and MAD are those of the pairs of "
        "submissions sharing code, or, for a pair with the course package or the "
        "instructor's solution, of every submission sharing code with it. With fewer than "
        "min_pairs such pairs there is no distribution to stand out of, and only the other "
        "two conditions hold.")).tag(config=True)
    min_pairs = Int(10, min=1, help=(
        "Fewest pairs in a distribution for the outlier condition to apply.")).tag(config=True)
    min_tokens = Int(60, min=0, help=(
        "Flag a pair only when at least this many tokens of the submission's code are "
        "matched (copydetect's tokens: characters of code with every name replaced by one "
        "letter; `dx = dout @ W.T` is 7 of them).")).tag(config=True)
    common_share = Float(0.2, min=0.0, max=1.0, help=(
        "Common code, as MOSS's -m option: a passage found in more than this share of the "
        "submissions (and more than common_min of them) counts toward no pair, like the "
        "release's own code.")).tag(config=True)
    common_min = Int(10, min=1, help=(
        "A passage is common code only when more than this many submissions hold it (MOSS's "
        "-m default), whatever common_share says: in a small class a few copies of one "
        "solution stay visible.")).tag(config=True)
    noise = Int(25, min=1, help=(
        "Shortest match counted, in characters of code stripped of names and spaces "
        "(copydetect's noise threshold k).")).tag(config=True)
    guarantee = Int(25, min=1, help=(
        "copydetect's guarantee threshold t, at least the noise; equal to it, every k-gram "
        "is kept (a class's solutions are short).")).tag(config=True)


CONFIGURABLES = (Autograder, Similarity)


def find_course_root(start: Path | None = None) -> Path:
    """The directory holding ``nbgrader_config.py``: cwd or a parent, else the repository."""
    here = (start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "nbgrader_config.py").is_file():
            return d
    return ROOT


def load_config(root: Path) -> Config:
    """The course's ``nbgrader_config.py`` as it is written, unchecked."""
    cfg = Config()
    if (root / "nbgrader_config.py").is_file():
        cfg.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    return cfg


def _unknown(name: str, known, where: str, what: str) -> GradingError:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return GradingError(f"unknown {what} {name} {where}{hint} (`python -m autograder grade "
                        "--help-all` lists every setting)")


def check_settings(cfg: Config, where: str) -> None:
    """Raise :class:`GradingError` naming the first unknown or mistyped grader setting.

    ``where`` ends the message: ``in /course/nbgrader_config.py``, ``on the command line``.

    A section whose name is close to one of the grader's (``c.Autograde``) counts as a
    misspelling; other sections belong to nbgrader and are its to check.
    """
    names = {cls.__name__ for cls in CONFIGURABLES}
    for section in cfg:
        if section not in names and difflib.get_close_matches(section, names, cutoff=0.8):
            raise _unknown(section, names, where, "section")
    for cls in CONFIGURABLES:
        if cls.__name__ not in cfg:
            continue
        known = cls.class_trait_names(config=True)
        for key in cfg[cls.__name__]:
            if key not in known:
                raise _unknown(f"{cls.__name__}.{key}",
                               [f"{cls.__name__}.{k}" for k in known], where, "setting")
        try:
            cls(config=cfg)
        except (TraitError, ValueError) as e:
            raise GradingError(f"wrong value {where}: {e}") from None


def command_line_settings(argv: list[str], aliases: dict[str, str] | None = None
                          ) -> tuple[list[str], Config]:
    """Split ``--Class.name=value`` (or ``--Class.name value``) settings from other arguments.

    ``aliases`` maps a short flag (``--cell-timeout``) to the setting it stands for
    (``Autograder.cell_timeout``). The values stay strings until the setting's trait reads
    them (as traitlets does).
    """
    aliases = aliases or {}
    rest, cfg = [], Config()
    args = iter(argv)
    for arg in args:
        flag, eq, value = arg.partition("=")
        head = aliases.get(flag) or (flag[2:] if flag.startswith("--") else "")
        if "." not in head or not head[:1].isupper():
            rest.append(arg)
            continue
        section, name = head.split(".", 1)
        cfg[section][name] = DeferredConfigString(value if eq else next(args, ""))
    return rest, cfg


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
    settings = Autograder(config=cfg)
    limits = Limits(**{f.name: getattr(settings, f.name) for f in fields(Limits)})
    if "timeout" in cfg.get("Execute", {}) and "cell_timeout" not in cfg.get("Autograder", {}):
        limits.cell_timeout = int(cfg.Execute.timeout)
    return limits


@dataclass
class Course:
    """An opened course directory: its root and its configuration, checked."""

    root: Path
    config: Config

    @property
    def db_url(self) -> str:
        """The gradebook's URL (nbgrader's ``CourseDirectory.db_url``)."""
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config).db_url

    @property
    def limits(self) -> Limits:
        return limits_from_config(self.config)

    @property
    def similarity(self) -> Similarity:
        return Similarity(config=self.config)


def open_course(root: Path | str | None = None, *, config: Config | None = None,
                db_url: str | None = None) -> Course:
    """Open the course at ``root`` (default: :func:`find_course_root`) for a command.

    ``config`` (settings of the command line) goes over ``nbgrader_config.py``, ``db_url``
    over both. Raises :class:`GradingError` when the directory does not exist or a grader
    setting is unknown or of the wrong type.
    """
    root = Path(root).resolve() if root else find_course_root()
    if not root.is_dir():
        raise GradingError(f"course directory {root} does not exist")
    cfg = load_config(root)
    check_settings(cfg, f"in {root / 'nbgrader_config.py'}")
    if config is not None:
        check_settings(config, "on the command line")
        cfg.merge(config)
    cfg.CourseDirectory.root = str(root)
    if db_url:
        cfg.CourseDirectory.db_url = db_url
    if "db_url" in cfg.CourseDirectory:
        cfg.CourseDirectory.db_url = normalize_db_url(cfg.CourseDirectory.db_url)
    return Course(root, cfg)
