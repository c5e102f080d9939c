"""nbgrader's gradebook, opened many times for each notebook, on one engine per database.

nbgrader opens a :class:`nbgrader.api.Gradebook` about eight times for every notebook it
autogrades (the converter, then SaveCells, OverwriteCells, SaveAutoGrades, GetGrades and
the grader's own writes), and each opening creates a SQLAlchemy engine, lists the
database's tables, checks that every table exists and, when closed, disposes of the
engine together with its cache of compiled queries: about 40 ms of the grader's process
for each submission, a sixth of that process's share of a submission's cost.

Inside :func:`one_engine_per_database` (a grading run), the first opening of a database
keeps its engine (its pool of connections and its compiled queries) for the next ones;
each opening still gets a session of its own and checks the course, as nbgrader's does.
The engines are disposed of when the run ends, so that a gradebook file replaced between
two runs in one process is opened afresh.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

from nbgrader.api import Gradebook
from sqlalchemy.orm import scoped_session, sessionmaker

__all__ = ["one_engine_per_database"]

_LOCK = threading.Lock()
_ENGINES: dict = {}  # (db_url, working directory) -> engine, while a run lasts
_ACTIVE = [0]  # nesting depth of one_engine_per_database
_ORIGINAL = {"init": Gradebook.__init__, "close": Gradebook.close}


def _shared_init(self, db_url: str, course_id: str = "default_course",
                 authenticator=None) -> None:
    key = (db_url, os.getcwd())  # a relative sqlite:/// path depends on it
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:  # nbgrader's own opening: create the tables if need be
            _ORIGINAL["init"](self, db_url, course_id, authenticator)
            _ENGINES[key] = self.engine
            return
    self.engine = engine
    self.db = scoped_session(sessionmaker(autoflush=True, bind=engine, future=True))
    self.check_course(course_id=course_id)
    self.course_id = course_id
    self.authenticator = authenticator


def _shared_close(self) -> None:
    self.db.remove()  # the engine stays for the next opening


@contextmanager
def one_engine_per_database() -> Iterator[None]:
    """While this lasts, every Gradebook of this process reuses one engine per database."""
    with _LOCK:
        _ACTIVE[0] += 1
        if _ACTIVE[0] == 1:
            Gradebook.__init__ = _shared_init
            Gradebook.close = _shared_close
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE[0] -= 1
            if _ACTIVE[0] == 0:
                Gradebook.__init__ = _ORIGINAL["init"]
                Gradebook.close = _ORIGINAL["close"]
                engines = list(_ENGINES.values())
                _ENGINES.clear()
        for engine in engines if _ACTIVE[0] == 0 else ():
            engine.dispose()
