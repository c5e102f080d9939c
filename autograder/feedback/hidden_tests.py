"""Keep hidden tests out of student feedback (nbgrader issue #917).

nbgrader's ``generate_feedback`` renders the autograded notebook, whose test cells hold
the hidden tests (``autograde`` restores them from the gradebook) and whose tracebacks
quote them. :func:`strip_hidden_tests` returns a copy of a notebook in which

* every autograded test cell shows only its visible part, taken from the instructor's
  source notebook with the hidden regions removed (what the student's release shows);
* an error in a test cell keeps its message (the check's diagnosis) but loses its
  traceback, which quotes the code around the failing line;
* any other output that quotes a line of hidden test code is withheld.

:class:`StripHiddenTests` is the same as an nbconvert preprocessor, for
``c.GenerateFeedback.preprocessors`` in ``nbgrader_config.py``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from autograder.cells import grade_id, hidden_lines, is_test, remove_hidden_regions

WITHHELD = "[output withheld: it quotes hidden test code]\n"

__all__ = ["strip_hidden_tests", "StripHiddenTests"]


def _output_text(output) -> str:
    parts = [output.get("text", ""), output.get("evalue", "")]
    parts += output.get("traceback", [])
    for value in output.get("data", {}).values():
        parts.append(value if isinstance(value, str) else "")
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def strip_hidden_tests(nb, source_nb=None):
    """Return a copy of an autograded notebook with no hidden test code in it.

    ``source_nb`` is the instructor's source notebook; without it the hidden regions of
    the autograded notebook's own test cells are removed.
    """
    nb = copy.deepcopy(nb)
    reference = source_nb if source_nb is not None else nb
    visible = {grade_id(c): remove_hidden_regions(c.source) for c in reference.cells
               if is_test(c)}
    secret = hidden_lines(reference) + (hidden_lines(nb) if source_nb is not None else [])
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if is_test(cell):
            cell.source = visible.get(grade_id(cell), remove_hidden_regions(cell.source))
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out = copy.deepcopy(out)
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
            text = _output_text(out)
            if any(line in text for line in secret):
                out = nbformat.v4.new_output("stream", name="stdout", text=WITHHELD)
            outputs.append(out)
        cell.outputs = outputs
    return nb


class StripHiddenTests(Preprocessor):
    """nbconvert preprocessor applying :func:`strip_hidden_tests` during generate_feedback.

    The source notebook is ``<source_root>/<assignment>/<notebook>.ipynb`` with the names
    nbgrader puts in ``resources["nbgrader"]``; ``source_root`` defaults to ``source`` in
    the working directory (the course root, where nbgrader runs).
    """

    enabled = Bool(True).tag(config=True)
    source_root = Unicode("", help="directory of the source assignments").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        root = Path(self.source_root or os.path.join(os.getcwd(), "source"))
        path = root / str(info.get("assignment", "")) / f"{info.get('notebook', '')}.ipynb"
        source_nb = nbformat.read(str(path), as_version=4) if path.is_file() else None
        return strip_hidden_tests(nb, source_nb), resources
