"""Where the course keeps its assignments and notebooks: the one list every tool reads.

An assignment is a folder ``source/<name>/`` holding ``<name>.ipynb``; ``release/<name>``
is generated from it by ``nbgrader generate_assignment``. Its checks live in
``autograder/checks/<name>.py`` and its known bugs in ``autograder/bugs/<name>.py``.

:func:`assignments` and :func:`notebook` read this repository's (or a copy's) folders;
:func:`course_notebooks` reads a graded course's, with nbgrader's ``CourseDirectory``
(``directory_structure``, ``submitted_directory``, ...) as its configuration sets them.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "assignments", "notebook", "course_folder", "course_notebooks"]


def assignments(root: Path = ROOT) -> list[str]:
    """Return the names of the assignments in ``source/``."""
    return sorted(p.name for p in (Path(root) / "source").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def notebook(assignment: str, kind: str = "source", root: Path = ROOT) -> Path:
    """Return the notebook of an assignment in ``source/`` or ``release/``."""
    return Path(root) / kind / assignment / f"{assignment}.ipynb"


def _coursedir(config: Config):
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=config)


def course_folder(config: Config, step: str, assignment: str, student: str = ".") -> Path:
    """Return the folder of an assignment at an nbgrader step (``source``, ``release``,
    ``submitted``, ``autograded``, ``feedback``) of a course, for one student (or ``.``)."""
    coursedir = _coursedir(config)
    return Path(os.path.normpath(coursedir.format_path(
        getattr(coursedir, f"{step}_directory"), student, assignment)))


def course_notebooks(config: Config, step: str, assignment: str,
                     student: str = ".") -> dict[str, list[Path]]:
    """Return ``{student: [notebooks]}`` of an assignment at an nbgrader step of a course.

    ``step`` is ``source``, ``release``, ``submitted``, ``autograded`` or ``feedback``;
    ``config`` is the course's (``CourseDirectory.root`` set, as
    :func:`autograder.config.open_course` does). ``student`` may be ``*`` (every student
    with a folder for the assignment; an empty list for a folder without notebooks);
    source and release have no students (``.``).
    """
    coursedir = _coursedir(config)
    pattern = course_folder(config, step, assignment, student)
    found: dict[str, list[Path]] = {}
    root = Path(coursedir.root)
    for folder in sorted(root.glob(str(pattern.relative_to(root)))):  # dot folders too
        if folder.is_dir():
            name = student if student != "*" else _student_of(coursedir, folder, assignment)
            found[name] = sorted(p for p in Path(folder).glob("*.ipynb") if p.is_file())
    return found


def _student_of(coursedir, folder: Path, assignment: str) -> str:
    """The student id in a folder matched by ``format_path(step, "*", assignment)``."""
    parts = folder.relative_to(coursedir.root).parts
    layout = Path(coursedir.directory_structure).parts
    return parts[layout.index("{student_id}")]
