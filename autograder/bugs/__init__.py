"""Known-bug variants of each assignment's reference solution, graded by the audit.

``autograder/bugs/<assignment>.py`` holds ``VARIANTS``: dicts with a ``name``, a
``description`` and ``patches``, a list of ``(grade_id, old, new)`` text replacements in
the solution cells of ``source/<assignment>/<assignment>.ipynb``. Each ``old`` must occur
exactly once in its cell, so a variant cannot silently stop applying. ``CHEAT`` names the
variant that uses the course's answers (graded end to end through nbgrader) and
``CHEAT_LOSES`` the test cells it must lose.
"""
