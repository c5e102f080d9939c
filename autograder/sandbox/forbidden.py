"""Where the right answers live: the modules a graded function may not use.

The course package's answer modules, the grader's reference, judge, audit and bug
library, automatic differentiation libraries and a ready-made network trainer. Two parts
of the grader read these lists: the sandbox
(:func:`autograder.sandbox.confinement.hidden_from_kernel`) takes them off the kernel's
file system, which is the guarantee; the checks' guard (:mod:`autograder.checks.guard`)
refuses calls into them in a student's own Jupyter, a courtesy that a determined student
can switch off, and that the guard leaves off where :func:`all_hidden` finds every one
of them replaced by the sandbox's stub.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

__all__ = ["ANSWER_MODULES", "AUTODIFF_PACKAGES", "OTHER_ANSWERS", "GRADER_MODULES",
           "FORBIDDEN_MODULES", "BLOCKED_MODULE", "locate", "all_hidden"]

# Modules of `course` with answers (the assignments' setup cells use course.data only).
ANSWER_MODULES = ("activations", "losses", "layers", "network", "optim", "gradcheck",
                  "autodiff")
AUTODIFF_PACKAGES = ("autograd", "torch", "jax", "jaxlib", "tensorflow", "keras",
                     "micrograd")
OTHER_ANSWERS = ("sklearn.neural_network",)  # a ready-made MLP trainer
GRADER_MODULES = ("autograder.reference", "autograder.judge", "autograder.audit",
                  "autograder.bugs")
# All of them by full name: a module is forbidden if it is one of these or inside one.
FORBIDDEN_MODULES = (tuple(f"course.{m}" for m in ANSWER_MODULES) + GRADER_MODULES
                     + AUTODIFF_PACKAGES + OTHER_ANSWERS)


BLOCKED_MODULE = '''"""Not available in the grading sandbox."""
raise ImportError(
    "{name} is not available in the grading sandbox: a graded function must be your own "
    "code, not the course package's answers, the grader's reference or judge, or an "
    "automatic differentiation library")
'''
_STUB_MARK = BLOCKED_MODULE.split("\n", 1)[0]


def locate(module: str) -> Path | None:
    """Return the file or package directory of a module, without importing any of it."""
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        if spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations))).resolve()
        return Path(spec.origin).resolve() if spec.origin else None
    if not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest[:-1])
    for path in (base / rest[-1], base / f"{rest[-1]}.py"):
        if path.exists():
            return path.resolve()
    return None


def _is_stub(path: Path) -> bool:
    try:
        with open(path / "__init__.py" if path.is_dir() else path, encoding="utf-8") as f:
            return f.readline().rstrip("\n") == _STUB_MARK
    except (OSError, UnicodeDecodeError):
        return False


@lru_cache(maxsize=1)
def all_hidden() -> bool:
    """Whether no module of the lists can be imported here: each is either not installed
    or replaced by the stub that refuses import (the grading sandbox lays it over them)."""
    return all(path is None or _is_stub(path)
               for path in map(locate, FORBIDDEN_MODULES))
