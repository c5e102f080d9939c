"""Diagnosis: when a wrong answer matches a known mistake, name the mistake.

:func:`diagnose` tries the alternatives a check supplies (the answers of known slips),
then the patterns any array can show: a transpose, a wrong sign, a stray factor N or 2.
:func:`wrong_derivatives` lists the known wrong answers for an activation's derivative.
"""

from __future__ import annotations

import numpy as np

__all__ = ["close", "diagnose", "wrong_derivatives", "ACTIVATION_CHECKS"]

# The activations the checks ask students to write, in the order the diagnoses try them.
ACTIVATION_CHECKS = ("sigmoid", "tanh", "relu", "leaky_relu")


def close(got, want, tol) -> bool:
    """Return whether got equals want to a tolerance relative to want's largest entry."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-3)
    return bool(np.all(np.abs(got - want) <= tol * (np.abs(want) + scale)))


def _ratio_mistake(r: float, n) -> str:
    """Name the mistake of an answer that is r times the right one."""
    if abs(r + 1) < 1e-3:
        return "wrong sign (ratio -1)"
    if n and abs(r - n) < 1e-3 * n:
        return f"ratio {r:.4g} = N: the 1/N of the mean over the batch is missing"
    if n and abs(r * n - 1) < 1e-3:
        return f"ratio {r:.4g} = 1/N: an extra 1/N (divided by N twice, or a mean " \
               "where a sum belongs)"
    if n and abs(r + n) < 1e-3 * n:
        return "ratio -N: wrong sign and a missing 1/N"
    if abs(r - 2) < 1e-3:
        return "twice too large (ratio 2)"
    if abs(r - 0.5) < 1e-3:
        return "half the right value (ratio 1/2)"
    return f"off by a constant factor {r:.4g}"


def diagnose(got, want, n=None, alts=()):
    """Return the likely mistake when got is wrong in a recognisable way, else ''."""
    for label, alt in alts:
        if alt is not None and np.shape(alt) == got.shape and close(got, alt, 1e-5):
            return label
    if got.ndim == 2 and got.shape[0] == got.shape[1] and close(got, want.T, 1e-5):
        return "it equals the transpose of the right answer: a missing or extra .T"
    ww = float(np.sum(want.astype(np.float64) ** 2))
    if ww > 0:
        r = float(np.sum(got.astype(np.float64) * want)) / ww
        if r != 0 and close(got, r * want, 1e-4):
            return _ratio_mistake(r, n)
    return ""


def wrong_derivatives(name, z, f, what="derivative"):
    """Known wrong answers for f'(z): the specific slips first, then other activations."""
    from course import activations as a

    alts = []
    if name == "sigmoid":
        alts.append(("returns s = sigmoid(z) itself; the derivative is s * (1 - s)", a.sigmoid(z)))
        alts.append(("uses z where the sigmoid output s belongs: s * (1 - s) needs s", z * (1 - z)))
    if name == "tanh":
        alts.append(("uses z where the tanh output t belongs: 1 - t**2 needs t", 1 - z * z))
        alts.append(("returns 1 - t; the derivative is 1 - t**2", 1 - np.tanh(z)))
    own = a.get(name)[1]
    alts.append((f"the {what} was evaluated at the output f(z) instead of the input z",
                 own(f(z))))
    alts.append((f"returns {name}(z) itself, not its derivative", f(z)))
    for other in ACTIVATION_CHECKS:
        if other != name:
            alts.append((f"matches the derivative of {other}, not of {name}",
                         a.get(other)[1](z)))
    return alts
