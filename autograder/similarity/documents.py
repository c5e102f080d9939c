"""What the similarity report compares and finds: documents of code, pairs, the report.

Plain data shared by :mod:`.compare` (which makes them) and :mod:`.report` (which writes
them out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files

__all__ = ["SOLUTION", "COURSE", "SUBMISSION", "CLASSMATES", "Document", "Pair", "FlagRule",
           "Distribution", "Report"]

SOLUTION = "solution"  # kind of the instructor's solution document
COURSE = "course"  # kind of a course package module
SUBMISSION = "submission"
CLASSMATES = "classmates"  # the distribution of the pairs of two submissions


@dataclass(frozen=True)
class Document:
    """Code to compare: a student's solution code, a course module or the instructor's."""

    name: str
    kind: str  # submission | course | solution
    code: str
    parts: tuple[tuple[str, int], ...] = ()  # (file name, offset in code) of a joined source


@dataclass(eq=False)
class Pair:
    """Two documents and how much of each is found in the other."""

    a: Document
    b: Document
    share_a: float  # fraction of a's code (tokens) found in b
    share_b: float
    tokens: int  # matched tokens of a
    prints: tuple[CodeFingerprint, CodeFingerprint] = field(repr=False)
    z: float = math.nan  # robust z-score of the score in its distribution (nan: none)
    percentile: float = math.nan  # share of its distribution scoring at most as much, in %

    @cached_property
    def _slices(self) -> tuple[np.ndarray, np.ndarray]:
        return compare_files(*self.prints)[2]

    @property
    def slices_a(self) -> np.ndarray:
        """Where the matches lie in a's code: an array of [starts, ends] (characters)."""
        return self._slices[0]

    @property
    def slices_b(self) -> np.ndarray:
        return self._slices[1]

    @property
    def score(self) -> float:
        """The ranking score: for two submissions the larger share (a short answer copied
        into a long one still shows), against the course or the solution the share of the
        submission."""
        if self.b.kind == SUBMISSION:
            return max(self.share_a, self.share_b)
        return self.share_a

    @property
    def distribution(self) -> str:
        """The pairs it is measured against: its classmates' pairs, or every submission's
        pair with the same reference document."""
        return CLASSMATES if self.b.kind == SUBMISSION else self.b.name


@dataclass(frozen=True)
class FlagRule:
    """When a pair is flagged: c.Similarity's threshold, outlier and min_tokens."""

    threshold: float
    outlier: float
    min_tokens: int

    def flags(self, p: Pair) -> bool:
        unusual = math.isnan(p.z) or p.z >= self.outlier  # nan: too few pairs to compare
        return p.score >= self.threshold and p.tokens >= self.min_tokens and unusual


@dataclass
class Distribution:
    """The scores of one distribution's pairs sharing code, and its robust centre and spread."""

    name: str
    scores: np.ndarray
    median: float
    spread: float  # robust standard deviation (1.4826 MAD, see .distribution); nan: too few

    def score_at(self, z: float) -> float:
        """The score whose robust z-score is z."""
        return self.median + z * self.spread


@dataclass
class Report:
    assignment: str
    pairs: list[Pair]  # every pair sharing code, best first
    rule: FlagRule
    submissions: int
    references: list[str]
    problems: dict[str, str]  # student -> why their notebook was not read
    seconds: float
    distributions: dict[str, Distribution] = field(default_factory=dict)
    common_limit: float = math.inf  # a passage in more submissions than this is common
    common_passages: int = 0  # fingerprints set aside as common code
    html: Path | None = None
    csv: Path | None = None

    @cached_property
    def flagged(self) -> list[Pair]:
        """The flagged pairs, best first (computed once: the pairs do not change)."""
        return [p for p in self.pairs if self.rule.flags(p)]
