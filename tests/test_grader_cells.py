"""The one reader of nbgrader cell text (autograder.cells) and of a course's folders
(autograder.layout), held against nbgrader's own code where nbgrader has one."""

from __future__ import annotations

import copy
import shutil

import nbformat
import pytest
from fixtures.similarity import classroom as cr
from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

from autograder import cells
from autograder.config import open_course
from autograder.layout import assignments, course_folder, course_notebooks, notebook
from autograder.similarity import compare as similarity


@pytest.mark.parametrize("name", assignments())
def test_hidden_regions_are_removed_as_nbgrader_generate_assignment_does(name):
    nb = nbformat.read(notebook(name), as_version=4)
    tested = 0
    for cell in cells.test_cells(nb):
        theirs = copy.deepcopy(cell)
        removed = ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(theirs)
        assert cells.remove_hidden_regions(cell.source) == theirs.source
        tested += removed
    assert tested >= 4  # every assignment hides tests in several cells


def test_hidden_lines_are_the_lines_between_the_markers():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "visible_call()\n### BEGIN HIDDEN TESTS\nsecret_call(1)\nx=1\n### END HIDDEN TESTS\n"
        "after_call()")])
    assert cells.hidden_lines(nb) == ["secret_call(1)"]  # "x=1" is too short to quote
    assert cells.remove_hidden_regions(nb.cells[0].source) == "visible_call()\nafter_call()"


def test_check_calls_are_read_in_order_past_magics():
    source = ("%matplotlib inline\n!ls\n"
              "checks.b(f, g)\nchecks.a(h, hidden=True)\nprint(checks)\nother.c(f)\n")
    sites = cells.check_calls_in(source)
    assert [(s.name, s.hidden, s.arguments) for s in sites] == [
        ("b", False, ("f", "g")), ("a", True, ("h",))]
    assert cells.python_only(source).splitlines()[:2] == ["", ""]


def test_grade_id_of_malformed_metadata_is_none():
    cell = nbformat.v4.new_code_cell("x", metadata={"nbgrader": "not a dict"})
    assert cells.grade_id(cell) is None


def test_similarity_reads_the_folders_the_course_directory_names(tmp_path):
    """A course whose submissions live elsewhere (``CourseDirectory.submitted_directory``)
    is compared from there; the default folder is not read."""
    course = cr.new_course(tmp_path / "course")
    written = cr.hand_written()
    for student in ("ana", "chloe"):
        cr.submit(course, student, written[student])
    shutil.move(course / "submitted", course / "inbox")
    with open(course / "nbgrader_config.py", "a") as config_file:
        config_file.write("\nc.CourseDirectory.submitted_directory = 'inbox'\n")
    config = open_course(course).config
    assert course_folder(config, "submitted", cr.ASSIGNMENT, "ana") == \
        course / "inbox" / "ana" / cr.ASSIGNMENT
    assert sorted(course_notebooks(config, "submitted", cr.ASSIGNMENT, "*")) == ["ana", "chloe"]
    report = similarity.run(cr.ASSIGNMENT, course)
    assert report.submissions == 2 and not report.problems
    assert not course_notebooks(Config({"CourseDirectory": {"root": str(course)}}),
                                "submitted", cr.ASSIGNMENT, "*")
