"""Copied code flagged for the instructor (``python -m autograder similarity``).

:mod:`.compare` reads the solution code of every submission and compares it with every
other and with the course's code; :mod:`.report` writes the HTML report and the CSV.
"""
