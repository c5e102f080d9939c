"""Grading for the course, on top of nbgrader.

- ``checks``: the trusted checks the assignments' test cells call (cases, run, judge);
- ``judge``: recomputes every test cell's verdict outside the student's kernel;
- ``grade``, ``sandbox``: ``python -m autograder grade <assignment>``, a whole class in
  parallel bubblewrap sandboxes, results in nbgrader's gradebook;
- ``feedback``: feedback that shows verdicts and never the hidden tests;
- ``audit``: which known-bug variants of the reference solutions the hidden tests catch;
- ``build``, ``demo``: the main job, ``make course``.
"""
