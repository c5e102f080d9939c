"""Grading for the course, on top of nbgrader (docs/architecture.md lists every module).

- ``checks``: the trusted checks the assignments' test cells call (cases, run, judge),
  one module per assignment; ``bugs``: each assignment's known mistakes;
- ``judge``: recomputes every test cell's verdict outside the student's kernel;
- ``grade``: ``python -m autograder grade <assignment>``, a whole class graded in
  parallel, results in nbgrader's gradebook; its parts are ``config``,
  ``course_assignment``, ``staging``, ``preprocessors``, ``workers`` (and ``cluster``,
  the workers of a Dask cluster), ``task`` (one notebook run and judged) and
  ``results``;
- ``sandbox``: the security boundary (confinement and limits, the kernel that runs a
  notebook in it, warm kernels, the modules a graded function may not use);
- ``feedback``: feedback that shows verdicts and never the hidden tests;
- ``similarity``: copied code flagged for the instructor;
- ``audit``: which known-bug variants of the reference solutions the hidden tests catch;
- ``layout``: where assignments and notebooks are; ``cells``: the one reader of nbgrader
  cell text; ``selfcheck``: the instructor's solution graded before anyone;
- ``course_build``: the course's main job (``make course``), apart from the grader;
  ``kernel_ready``: bounded waits for a kernel's first reply (nbclient, nbval).
"""

import sys as _sys

# nbformat imports jsonschema, which imports rfc3987_syntax when it is installed (a
# JupyterLab dependency); that module builds a grammar at import, about 2 s of CPU in
# every process of the grader (the main one and each worker). Notebook validation never
# checks IRI formats, so the grader's processes go without it.
_sys.modules.setdefault("rfc3987_syntax", None)
