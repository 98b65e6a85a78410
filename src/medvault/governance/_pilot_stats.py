"""The statistics of the pilot report, computed from score histograms.

Ratings are whole numbers 0-10, so the database hands back at most eleven counts per template and
question however many rows there are; median and quartiles come from those counts. Quartiles use
linear interpolation between closest ranks (the "inclusive" method of `statistics.quantiles`,
Excel's QUARTILE.INC, numpy's default), so they can be checked by hand. Rater-level statistics,
the cluster bootstrap and the tests between groups use numpy and scipy.stats.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

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


# -- raters as clusters -------------------------------------------------------------------------------
#
# A heavy user rates many runs; pooled ratings are not independent draws. The rater is the unit here:
# each rater's ratings of a group give one rater-level median, and intervals come from resampling raters
# (with all their ratings) rather than single ratings.

BOOTSTRAP_RESAMPLES = 2000
MONTE_CARLO_RESAMPLES = 9999


@dataclass(frozen=True)
class Interval:
    """A two-sided 95% interval."""

    low: float
    high: float


@dataclass(frozen=True)
class ClusterBootstrap:
    """Percentile 95% intervals from resampling raters with replacement, `resamples` times."""

    rater_median: Interval
    critical_rate: Interval
    resamples: int


def rater_median(counts: Sequence[int]) -> float:
    """One rater's median utility in a group, from their score histogram."""
    return quantile(counts, 0.5)


def _rng(seed: int, key: str) -> np.random.Generator:
    """A generator per (seed, group): a group's interval does not depend on which other groups exist."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def cluster_bootstrap(
    medians: Sequence[float],
    critical: Sequence[int],
    ratings: Sequence[int],
    *,
    seed: int,
    key: str,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> ClusterBootstrap | None:
    """Resample raters: the median of rater-level medians and the pooled critical-error rate
    (errors / ratings of the drawn raters). None with fewer than two raters (nothing to resample)."""
    if len(medians) < 2:
        return None
    m, c, n = (np.asarray(values, dtype=float) for values in (medians, critical, ratings))
    draws = _rng(seed, key).integers(0, len(m), size=(resamples, len(m)))
    boot_medians = np.median(m[draws], axis=1)
    boot_rates = c[draws].sum(axis=1) / n[draws].sum(axis=1)
    (m_low, m_high), (r_low, r_high) = (np.percentile(v, [2.5, 97.5]) for v in (boot_medians, boot_rates))
    return ClusterBootstrap(
        Interval(float(m_low), float(m_high)), Interval(float(r_low), float(r_high)), resamples
    )


# -- tests between groups -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupTest:
    """One test between groups; `note` says why there is no result (statistic and p are then None)."""

    name: str
    data: str
    method: str
    groups: tuple[str, ...]
    statistic: float | None = None
    df: int | None = None
    pvalue: float | None = None
    note: str = ""


def expand(counts: Sequence[int]) -> np.ndarray:
    """The ratings a histogram stands for, as an array (index = score)."""
    return np.repeat(np.arange(len(counts)), counts)


def kruskal_wallis(data: str, samples: dict[str, np.ndarray]) -> GroupTest:
    """Kruskal–Wallis H test (scipy.stats.kruskal, tie-corrected) over the groups that have values."""
    present = {name: values for name, values in samples.items() if len(values)}
    names = tuple(present)
    method = "scipy.stats.kruskal (H, tie-corrected; chi-squared p)"
    if len(present) < 2:
        return GroupTest("Kruskal–Wallis", data, method, names, note="fewer than two groups with ratings")
    pooled = np.concatenate(list(present.values()))
    if np.all(pooled == pooled[0]):
        return GroupTest("Kruskal–Wallis", data, method, names, note="all values identical")
    result = stats.kruskal(*present.values())
    return GroupTest(
        "Kruskal–Wallis", data, method, names, float(result.statistic), len(present) - 1,
        float(result.pvalue),
    )  # fmt: skip


def fisher(data: str, table: dict[str, tuple[int, int]], seed: int) -> GroupTest:
    """Fisher's exact test on (critical errors, ratings without) per group.

    Two groups: the exact two-sided 2x2 test. More: scipy's R x C Fisher test (tables with the observed
    margins, more extreme = less probable), whose p is estimated by seeded Monte Carlo sampling of such
    tables, as scipy does for R x C."""
    present = {name: cells for name, cells in table.items() if sum(cells)}
    names = tuple(present)
    if len(present) < 2:
        return GroupTest("Fisher", data, "scipy.stats.fisher_exact", names, note="fewer than two groups")
    matrix = np.array([list(cells) for cells in present.values()]).T  # 2 x k
    # A row of zeros leaves nothing to compare (and scipy's R x C sampler refuses it): say so instead.
    for row, note in ((0, "no critical errors in any group"), (1, "every rating flagged a critical error")):
        if not matrix[row].any():
            return GroupTest("Fisher", data, "scipy.stats.fisher_exact", names, note=note)
    if len(present) == 2:
        result = stats.fisher_exact(matrix)
        return GroupTest(
            "Fisher", data, "scipy.stats.fisher_exact, exact two-sided 2x2", names,
            float(result.statistic), None, float(result.pvalue),
        )  # fmt: skip
    # scipy mistakes a batch of sampled tables for one table when the total count reaches the batch's
    # size; more resamples than total / cells keep them apart.
    resamples = max(MONTE_CARLO_RESAMPLES, int(matrix.sum()) // matrix.size + 1)
    mc = stats.MonteCarloMethod(n_resamples=resamples, rng=_rng(seed, f"fisher:{data}"))
    result = stats.fisher_exact(matrix, method=mc)
    return GroupTest(
        "Fisher", data, f"scipy.stats.fisher_exact, 2x{len(present)}, Monte Carlo p ({resamples} tables)",
        names, None, len(present) - 1, float(result.pvalue),
    )  # fmt: skip
