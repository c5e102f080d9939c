"""The answer guard: how a check calls a student's function.

:func:`call` runs the function under a profiler hook that notices any call into the
course's answer modules, the grader's reference and judges, or an automatic
differentiation library (:mod:`autograder.sandbox.forbidden`), and refuses the result. That is a
courtesy in a student's own Jupyter (a profiler hook can be switched off). In the
sandboxed grader those modules are not on the kernel's file system at all, so there is
nothing for the hook to catch and :func:`call` sets none (it would make a training loop
three times slower): it checks, once per process, that each of them is absent or the
sandbox's stub that refuses import (:func:`autograder.sandbox.forbidden.all_hidden`). :func:`arr`
and :func:`unpack` turn what a student returned into plain arrays, or a
:class:`StudentError` saying what is wrong.
"""

from __future__ import annotations

import sys

import numpy as np

# Modules whose code a graded function may not run (in the sandbox they are absent).
from autograder.sandbox.forbidden import FORBIDDEN_MODULES, all_hidden

CHECKS_PACKAGE = "autograder.checks"
# Functions of the checks package that compute the right answers.
JUDGING_CODE = {"judge", "judge_all", "judge_case", "judge_call", "judge_notebook"}

__all__ = ["StudentError", "call", "watching", "arr", "unpack", "FORBIDDEN_MODULES",
           "JUDGING_CODE"]


class StudentError(Exception):
    """A student's function raised, or returned something of the wrong kind."""


def _under(module: str, packages) -> bool:
    return any(module == m or module.startswith(m + ".") for m in packages)


def _forbidden(module: str) -> bool:
    """Return whether a graded function may not run code of this module."""
    return _under(module, FORBIDDEN_MODULES)


def _offence(frame, event, arg) -> str | None:
    """Return ``module.function`` if this profiler event is a forbidden call, else None."""
    if event == "call":
        mod = frame.f_globals.get("__name__") or ""
        code = frame.f_code
        if _under(mod, (CHECKS_PACKAGE,)) and code.co_name in JUDGING_CODE:
            return f"{mod}.{getattr(code, 'co_qualname', code.co_name)}"
        name = code.co_name
    elif event == "c_call":
        mod = getattr(arg, "__module__", None) or ""
        name = getattr(arg, "__name__", "?")
    else:
        return None
    return f"{mod}.{name}" if mod and _forbidden(mod) else None


# _offence's answer for each code object (with the module it ran in) and each C function
# already seen: a training loop makes millions of calls to a few functions.
_SEEN: dict = {}


def _hook(seen: list):
    """The profiler hook of one call: appends the first forbidden call to seen."""
    cache = _SEEN

    def hook(frame, event, arg):
        if event == "call":
            key = (frame.f_code, frame.f_globals.get("__name__"))
        elif event == "c_call":
            key = arg
        else:
            return
        try:
            found = cache[key]
        except KeyError:
            found = cache[key] = _offence(frame, event, arg)
        except TypeError:  # an unhashable callable
            found = _offence(frame, event, arg)
        if found and not seen:
            seen.append(found)

    return hook


def watching() -> bool:
    """Whether :func:`call` watches for forbidden calls here (not in the sandbox)."""
    return not all_hidden()


def call(fn, *args, what=None, **kwargs):
    """Call a student's function, refusing help from the course's answers or autodiff."""
    what = what or getattr(fn, "__name__", "the function")
    if not callable(fn):
        raise StudentError(f"{what} is not a function (got {type(fn).__name__})")
    seen: list = []
    watch = watching()  # in the sandbox there is nothing to watch for
    previous = sys.getprofile()
    if watch:
        sys.setprofile(_hook(seen))
    try:
        result = fn(*args, **kwargs)
    except StudentError:
        raise
    except Exception as e:
        detail = f": {e}" if str(e) else ""  # raise NotImplementedError() says nothing
        raise StudentError(f"{what} raised {type(e).__name__}{detail}{_hint(e)}") from None
    finally:
        if watch:
            sys.setprofile(previous)
    if seen:
        mod, _, fname = seen[0].rpartition(".")
        did = f"imports {mod}" if fname == "<module>" else f"calls {seen[0]}"
        raise StudentError(
            f"{what} {did}: graded functions must be your own code, not the "
            "course package's implementation, the grader's reference or an automatic "
            "differentiation library")
    return result


def _hint(e: Exception) -> str:
    text = str(e)
    if isinstance(e, NotImplementedError):
        return " (not written yet)"
    if "matmul" in text or "not aligned" in text or "broadcast" in text:
        return " (a shape mismatch: check your transposes and which axis you sum over)"
    return ""


def arr(x, what: str) -> np.ndarray:
    """Return a student's value as a plain numeric array, or raise StudentError."""
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return np.asarray(x)
    if isinstance(x, (np.ndarray, list, tuple)):
        try:
            a = np.array(x, subok=False)
        except Exception:
            a = None
        if a is not None and a.dtype.kind in "biuf":
            return a
        if a is not None:
            raise StudentError(f"{what} holds {a.dtype} values, expected numbers")
    raise StudentError(f"{what} is a {type(x).__name__}, expected a numpy array")


def unpack(result, n: int, what: str, names: str):
    """Return a tuple of n values a student's function returned, or raise StudentError."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else \
            type(result).__name__
        raise StudentError(f"{what} must return {n} values ({names}), got {got}")
    return tuple(result)
