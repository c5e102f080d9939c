"""The path ``nbgrader_config.py`` names (``autograder.feedback_filter.StripHiddenTests``);
the preprocessor lives in :mod:`autograder.feedback.hidden_tests`."""

from autograder.feedback.hidden_tests import StripHiddenTests

__all__ = ["StripHiddenTests"]
