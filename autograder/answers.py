"""Where the right answers live: the modules a graded function may not use.

The course package's answer modules, the grader's reference, judge, audit and bug
library, automatic differentiation libraries and a ready-made network trainer. Two parts
of the grader read these lists: the sandbox (:func:`autograder.sandbox.hidden_from_kernel`)
takes them off the kernel's file system, which is the guarantee; the checks' guard
(:mod:`autograder.checks.guard`) refuses calls into them in a student's own Jupyter, a
courtesy that a determined student can switch off.
"""

from __future__ import annotations

__all__ = ["ANSWER_MODULES", "AUTODIFF_PACKAGES", "OTHER_ANSWERS", "GRADER_MODULES"]

# Modules of `course` with answers (the assignments' setup cells use course.data only).
ANSWER_MODULES = ("activations", "losses", "layers", "network", "optim", "gradcheck",
                  "autodiff")
AUTODIFF_PACKAGES = ("autograd", "torch", "jax", "jaxlib", "tensorflow", "keras",
                     "micrograd")
OTHER_ANSWERS = ("sklearn.neural_network",)  # a ready-made MLP trainer
GRADER_MODULES = ("autograder.reference", "autograder.judge", "autograder.audit",
                  "autograder.bugs")
