"""The path of ``autograder.feedback_math.MathToMathML`` for configurations that name it;
the preprocessor lives in :mod:`autograder.feedback.math_ml`."""

from autograder.feedback.math_ml import MathToMathML

__all__ = ["MathToMathML"]
