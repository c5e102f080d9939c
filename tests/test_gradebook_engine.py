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


def _class_gradebook(path):
    """A gradebook with one notebook (two tests, one solution cell) and one submission."""
    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("ps1")
        gb.add_notebook("p1", "ps1")
        for name in ("t1", "t2"):
            gb.add_grade_cell(name, "p1", "ps1", max_score=2, cell_type="code")
        gb.add_grade_cell("answer", "p1", "ps1", max_score=1, cell_type="code")
        gb.add_solution_cell("answer", "p1", "ps1")
        gb.add_student("s1")
        gb.add_submission("ps1", "s1")


def _submitted_notebook():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    def cell(gid, grade, solution, outputs=(), points=None):
        meta = {"grade_id": gid, "grade": grade, "solution": solution, "locked": False,
                "schema_version": 3}
        if points is not None:
            meta["points"] = points
        return new_code_cell("x = 1", metadata={"nbgrader": meta}, outputs=list(outputs))

    error = new_output("error", ename="AssertionError", evalue="", traceback=[])
    return new_notebook(cells=[cell("answer", True, True, points=1),
                               cell("t1", True, False, points=2),
                               cell("t2", True, False, [error], points=2)])


def _rows(path):
    with Gradebook(f"sqlite:///{path}") as gb:
        sub = gb.find_submission_notebook("p1", "ps1", "s1")
        return (sorted((g.name, g.auto_score, g.needs_manual_grade) for g in sub.grades),
                sorted((c.name, c.auto_comment) for c in sub.comments))


def test_save_auto_grades_at_once_writes_nbgraders_rows_in_one_commit(tmp_path):
    from nbgrader.preprocessors import SaveAutoGrades
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from autograder.preprocessors import SaveAutoGradesAtOnce

    commits = []

    def count(conn):
        commits.append(conn)

    event.listen(Engine, "commit", count)
    try:
        seen = {}
        for cls in (SaveAutoGrades, SaveAutoGradesAtOnce):
            path = tmp_path / f"{cls.__name__}.db"
            _class_gradebook(path)
            commits.clear()
            resources = {"nbgrader": {"notebook": "p1", "assignment": "ps1",
                                      "student": "s1", "db_url": f"sqlite:///{path}"}}
            cls().preprocess(_submitted_notebook(), resources)
            seen[cls] = (len(commits), _rows(path))
        commits.clear()
        Gradebook(f"sqlite:///{path}").close()
        opening = len(commits)  # what opening the gradebook commits, in both
    finally:
        event.remove(Engine, "commit", count)
    (plain_commits, plain), (once_commits, once) = seen.values()
    assert once == plain
    # nbgrader: a solution that is also graded waits for a person; a test with an error gets 0
    assert plain[0] == [("answer", None, True), ("t1", 2.0, False), ("t2", 0.0, False)]
    # nbgrader commits each of three grades and one comment; the grader, the notebook once
    assert (plain_commits, once_commits) == (opening + 4, opening + 1)
