"""Batch grading on top of nbgrader: parallel, sandboxed, judged outside the sandbox.

``python -m autograder grade <assignment>`` grades a class; see :mod:`autograder.grade`.
"""
