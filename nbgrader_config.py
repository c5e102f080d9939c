# nbgrader configuration of the course (read by `nbgrader ...` and `python -m autograder`).
# The course root is the directory of this file; nbgrader's standard layout lives here:
# source/, release/, submitted/<student>/<assignment>/, autograded/, feedback/, gradebook.db.
c = get_config()  # noqa: F821  (provided by traitlets when the file is loaded)

c.CourseDirectory.course_id = "dfnn"

# Student versions: solutions become a stub, hidden tests are removed; both only inside
# cells that carry nbgrader metadata.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.enforce_metadata = True

# Plain `nbgrader autograde`: seconds per cell, and put back deleted test cells.
c.Execute.timeout = 60
c.OverwriteCells.add_missing_cells = True

# `python -m autograder grade`: limits of each sandboxed kernel (see autograder/sandbox.py).
c.Autograder.cell_timeout = 60  # wall seconds per cell
c.Autograder.notebook_timeout = 900  # wall seconds per notebook
c.Autograder.memory_mb = 2048  # address space of the kernel
c.Autograder.nproc = 64  # processes + threads of the sandbox
c.Autograder.output_kb = 2048  # output kept per notebook
c.Autograder.disk_mb = 256  # bytes the notebook may write to its scratch directory

# Plain `nbgrader generate_feedback` too: strip hidden tests and their tracebacks from the
# feedback (nbgrader shows them otherwise, jupyter/nbgrader#917).
# `python -m autograder feedback` does the same and adds the judge's verdicts.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.feedback_filter.StripHiddenTests",
]

# `python -m autograder similarity`: flag a pair when this share of a submission's solution
# code (names, comments, blank lines and order ignored; code of the release not counted) is
# found in a classmate's, the course package or the instructor's solution. Flags never
# change a grade. noise: shortest match counted, in characters of code stripped of names
# and spaces (copydetect's noise threshold).
c.Similarity.threshold = 0.45
c.Similarity.noise = 25

# A submission's content is untrusted too: wherever nbgrader renders a notebook to HTML
# (formgrader's submission view, generate_feedback), markdown, raw cells, outputs and
# metadata go through the course's allow-list: no script, event handler, iframe, form or
# remote resource of a student's reaches a page, and math becomes MathML (see
# autograder/sanitize.py for the settings). Formgrader's pages also carry a
# Content-Security-Policy (autograder/formgrader_policy.py, a Jupyter server extension).
from autograder.sanitize import safe_rendering  # noqa: E402

c.merge(safe_rendering())
