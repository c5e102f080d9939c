"""Shared pytest settings.

Notebooks and helpers under ``tests/fixtures`` are data for tests, not tests. The helpers
are a package: a test imports them as ``from fixtures.grader import gradertools`` (pytest
puts this directory on ``sys.path``, as for every test module here). The list of
assignments comes from one place, :func:`autograder.paths.assignments`.
"""

collect_ignore_glob = ["fixtures/*", "fixtures/**/*"]
