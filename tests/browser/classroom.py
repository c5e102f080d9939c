"""A class on one machine: an instructor, a student and nbgrader's file-system exchange.

Everything lives in one temporary folder, so the repository is never written to:

    exchange/               c.Exchange.root, shared by both users
    instructor/course/      a copy of the course (nbgrader_config.py, source/): the
                            instructor's JupyterLab root and nbgrader's course root
    instructor/home/        the instructor's HOME and Jupyter config (exchange settings)
    student/work/           the student's JupyterLab root (the chapters, fetched assignments)
    student/home/           the student's HOME; its Jupyter config is docs/student-config/
                            plus the exchange settings

The course id is the one of the repository's ``nbgrader_config.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[2]
STUDENT_CONFIG = ROOT / "docs" / "student-config"
BIN = Path(sys.executable).parent

# The assignment the tests hand in, and two answers to its affine layer.
ASSIGNMENT = "a3_backprop"

GOOD_AFFINE = '''def affine_forward(x, W, b):
    out = x @ W + b
    cache = (x, W, b)
    return out, cache


def affine_backward(dout, cache):
    x, W, b = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db
'''
# The classic slip: the transpose lands on the wrong factor of dW.
WRONG_AFFINE = GOOD_AFFINE.replace("dW = x.T @ dout", "dW = dout.T @ x")


def course_id(root: Path = ROOT) -> str:
    """The course id set in ``nbgrader_config.py``."""
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return cfg.CourseDirectory.course_id


@dataclass
class Classroom:
    base: Path
    student_id: str = "ada"

    @property
    def exchange(self) -> Path:
        return self.base / "exchange"

    @property
    def course(self) -> Path:
        return self.base / "instructor" / "course"

    @property
    def instructor_home(self) -> Path:
        return self.base / "instructor" / "home"

    @property
    def student_work(self) -> Path:
        return self.base / "student" / "work"

    @property
    def student_home(self) -> Path:
        return self.base / "student" / "home"

    @property
    def course_id(self) -> str:
        return course_id(self.course)

    def env(self) -> dict[str, str]:
        """Extra environment of the servers and commands: nbgrader runs tools from PATH."""
        path = os.environ.get("PATH", "")
        if str(BIN) not in path.split(os.pathsep):
            path = f"{BIN}{os.pathsep}{path}"
        return {"PATH": path}

    def instructor(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a command as the instructor, in the course root; fail loudly on error."""
        from lab import lab_env

        proc = subprocess.run(list(args), cwd=self.course, capture_output=True, text=True,
                              env=lab_env(self.instructor_home,
                                             {**self.env(), "MPLBACKEND": "Agg"}),
                              timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def api(self):
        """nbgrader's API with the instructor's configuration (course and exchange)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        os.environ["PATH"] = self.env()["PATH"]  # nbgrader runs `alembic`
        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.course)).load_config()
        cfg.merge(PyFileConfigLoader("nbgrader_config.py",
                                     path=str(self.instructor_home / ".jupyter")).load_config())
        return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        return self.instructor(str(BIN / "nbgrader"), *args)


def _exchange_config(exchange: Path, cache: Path) -> str:
    return (f"c = get_config()  # noqa: F821\n"
            f"c.Exchange.root = {str(exchange)!r}\n"
            f"c.Exchange.cache = {str(cache)!r}\n")


def make_classroom(base: Path, assignments: tuple[str, ...] = ("a3_backprop",)) -> Classroom:
    """Lay out the class under ``base`` and release ``assignments`` to the exchange."""
    room = Classroom(base)
    room.exchange.mkdir(parents=True)
    room.exchange.chmod(0o777)  # nbgrader's exchange is world-writable (students submit)

    room.course.mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", room.course)
    shutil.copytree(ROOT / "source", room.course / "source")
    jupyter = room.instructor_home / ".jupyter"
    jupyter.mkdir(parents=True)
    (jupyter / "nbgrader_config.py").write_text(
        _exchange_config(room.exchange, room.instructor_home / "cache")
        + f"c.CourseDirectory.root = {str(room.course)!r}\n")

    room.student_work.mkdir(parents=True)
    shutil.copytree(ROOT / "course" / "chapters", room.student_work / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(STUDENT_CONFIG, room.student_home / ".jupyter",
                    ignore=shutil.ignore_patterns("README.md"))
    # nbgrader names a student by their login name; every process here runs as one user.
    (room.student_home / ".jupyter" / "nbgrader_config.py").write_text(
        _exchange_config(room.exchange, room.student_home / "cache")
        + f"c.CourseDirectory.student_id = {room.student_id!r}\n")

    api = room.api()
    with api.gradebook as gb:
        gb.update_or_create_student(room.student_id, first_name="Ada", last_name="Lovelace")
    for a in assignments:
        for step in (api.generate_assignment, api.release_assignment):
            result = step(a)
            assert result["success"], f"{step.__name__} {a}: {result.get('error')}"
    return room
