"""What a student reads after grading: nbgrader's feedback with hidden tests withheld.

- :mod:`.generate`: ``python -m autograder feedback``, nbgrader's ``GenerateFeedback`` with
  the preprocessors below, and ``grading_report.txt`` beside each page;
- :mod:`.hidden_tests`: ``StripHiddenTests``, no hidden test code or traceback reaches a
  student;
- :mod:`.math_ml`: TeX turned into MathML, so the page needs no script.
"""
