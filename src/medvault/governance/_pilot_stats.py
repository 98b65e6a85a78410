"""The statistics of the pilot report, computed from score histograms.

Ratings are whole numbers 0-10, so the database hands back at most eleven counts per template and
question however many rows there are; median and quartiles come from those counts. Quartiles use
linear interpolation between closest ranks (the "inclusive" method of `statistics.quantiles`,
Excel's QUARTILE.INC, numpy's default), so they can be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SCORES = range(11)  # 0..10
_Z95 = 1.959963984540054  # two-sided 95% normal quantile


def _value_at(counts: Sequence[int], rank: int) -> int:
    """The score at 0-based position `rank` of the sorted ratings the histogram stands for."""
    seen = 0
    for score, count in enumerate(counts):
        seen += count
        if rank < seen:
            return score
    raise IndexError(f"rank {rank} beyond {seen} ratings")


def quantile(counts: Sequence[int], p: float) -> float:
    """The p-quantile (0 <= p <= 1) of the ratings in `counts` (index = score), inclusive method."""
    n = sum(counts)
    if n == 0:
        raise ValueError("no ratings")
    position = (n - 1) * p
    low = math.floor(position)
    lower = _value_at(counts, low)
    if position == low:
        return float(lower)
    upper = _value_at(counts, low + 1)
    return lower + (upper - lower) * (position - low)


@dataclass(frozen=True)
class Spread:
    """Median, quartiles and range of a set of 0-10 ratings."""

    n: int
    median: float
    q1: float
    q3: float
    minimum: int
    maximum: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @classmethod
    def of(cls, counts: Sequence[int]) -> Spread | None:
        """None when there are no ratings."""
        n = sum(counts)
        if n == 0:
            return None
        present = [score for score, count in enumerate(counts) if count]
        return cls(
            n, quantile(counts, 0.5), quantile(counts, 0.25), quantile(counts, 0.75), present[0], present[-1]
        )


def wilson(k: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95% by default); sane at k = 0 and k = n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
