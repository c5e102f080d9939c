"""autograder.gradebook: one SQLAlchemy engine per database while a grading run lasts."""

from __future__ import annotations

import threading

from nbgrader.api import Gradebook

from autograder.gradebook import one_engine_per_database


def test_openings_share_an_engine_only_while_the_run_lasts(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with Gradebook(url) as a, Gradebook(url) as b:
        assert a.engine is not b.engine  # nbgrader's own behaviour
    with one_engine_per_database():
        with Gradebook(url, "c1") as a:
            a.add_student("s1")
            engine = a.engine
        with Gradebook(url, "c1") as b:
            assert b.engine is engine
            assert [s.id for s in b.students] == ["s1"]  # the first opening's write
        with Gradebook(other) as c:
            assert c.engine is not engine
        seen = []
        t = threading.Thread(target=lambda: seen.append(Gradebook(url, "c1").engine))
        t.start()
        t.join()
        assert seen == [engine]  # the grader's threads, one per student
    with Gradebook(url, "c1") as d:  # afterwards: nbgrader's own, a new engine
        assert d.engine is not engine
        assert [s.id for s in d.students] == ["s1"]


def test_a_gradebook_file_replaced_between_two_runs_is_opened_afresh(tmp_path):
    path = tmp_path / "gradebook.db"
    url = f"sqlite:///{path}"
    with one_engine_per_database():
        with Gradebook(url) as gb:
            gb.add_student("old")
    path.unlink()
    with one_engine_per_database():
        with Gradebook(url) as gb:
            assert [s.id for s in gb.students] == []
            gb.add_student("new")
    with Gradebook(url) as gb:
        assert [s.id for s in gb.students] == ["new"]


def test_nested_runs_keep_the_engine_until_the_outer_one_ends(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with one_engine_per_database():
        with Gradebook(url) as gb:
            engine = gb.engine
        with one_engine_per_database():
            with Gradebook(url) as gb:
                assert gb.engine is engine
        with Gradebook(url) as gb:
            assert gb.engine is engine
