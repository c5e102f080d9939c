"""What the similarity report compares and finds: documents of code, pairs, the report.

Plain data shared by :mod:`.compare` (which makes them) and :mod:`.report` (which writes
them out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files

__all__ = ["SOLUTION", "COURSE", "SUBMISSION", "Document", "Pair", "Report"]

SOLUTION = "solution"  # kind of the instructor's solution document
COURSE = "course"  # kind of a course package module
SUBMISSION = "submission"


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


@dataclass
class Report:
    assignment: str
    pairs: list[Pair]  # every pair sharing code, best first
    threshold: float
    submissions: int
    references: list[str]
    problems: dict[str, str]  # student -> why their notebook was not read
    seconds: float
    html: Path | None = None
    csv: Path | None = None

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.score >= self.threshold]
