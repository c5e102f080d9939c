"""Where a pair's score sits among its class's: robust z-scores and percentiles.

On short functions independent solutions converge, so a score alone says little; how far
it lies above the scores of the same class for the same assignment says more. A pair is
measured against its distribution (:attr:`Pair.distribution`): the pairs of two
submissions that share code, or every submission's pair with one reference document.

The centre is the median, the spread the median absolute deviation scaled to a standard
deviation (``scipy.stats.median_abs_deviation(scale="normal")``, 1.4826 MAD), and a
pair's robust z-score is ``(score - median) / spread``: Iglewicz and Hoaglin's modified
z-score (0.6745 (x - median) / MAD), whose outlier cut-off is 3.5. When more than half the
scores are equal (MAD 0) the spread is their fallback, the mean absolute deviation from
the median times sqrt(pi / 2); when every score is equal a higher one has z = inf. A
distribution of fewer than ``min_pairs`` pairs gives no z-score (nan).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.stats import median_abs_deviation

from autograder.similarity.documents import Distribution, Pair

__all__ = ["describe", "place"]


def describe(name: str, scores: np.ndarray, min_pairs: int) -> Distribution:
    """The median and robust spread of these scores (spread nan below min_pairs scores)."""
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    if not len(scores):
        return Distribution(name, scores, math.nan, math.nan)
    median = float(np.median(scores))
    if len(scores) < min_pairs:
        return Distribution(name, scores, median, math.nan)
    spread = float(median_abs_deviation(scores, scale="normal"))
    if spread == 0:
        spread = float(np.mean(np.abs(scores - median))) * math.sqrt(math.pi / 2)
    return Distribution(name, scores, median, spread)


def robust_z(dist: Distribution, scores: np.ndarray) -> np.ndarray:
    """The robust z-scores of these scores in the distribution."""
    scores = np.asarray(scores, dtype=np.float64)
    if math.isnan(dist.spread):
        return np.full(scores.shape, math.nan)
    if dist.spread == 0:  # every score equal: a higher one is infinitely unusual
        return np.where(scores > dist.median, math.inf, 0.0)
    return (scores - dist.median) / dist.spread


def percentiles(dist: Distribution, scores: np.ndarray) -> np.ndarray:
    """The share of the distribution scoring at most each score, in percent (as
    ``scipy.stats.percentileofscore(kind="weak")``, in n log n)."""
    return np.searchsorted(dist.scores, scores, side="right") * (100.0 / len(dist.scores))


def place(pairs: list[Pair], min_pairs: int) -> dict[str, Distribution]:
    """Set each pair's z-score and percentile in its distribution; return the distributions."""
    groups: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        groups[p.distribution].append(p)
    out = {}
    for name, members in groups.items():
        scores = np.array([p.score for p in members])
        dist = out[name] = describe(name, scores, min_pairs)
        for p, z, pct in zip(members, robust_z(dist, scores), percentiles(dist, scores)):
            p.z, p.percentile = float(z), float(pct)
    return out
