"""Median, quartiles and the Wilson interval computed from score histograms."""

from __future__ import annotations

import random
import statistics

import pytest

from medvault.governance._pilot_stats import Spread, fisher, quantile, wilson


def _counts(ratings: list[int]) -> list[int]:
    return [ratings.count(score) for score in range(11)]


def test_spread_by_hand() -> None:
    """Ratings 1, 4, 6, 9: median 5, Q1 3.25, Q3 6.75, IQR 3.5, range 1-9."""
    spread = Spread.of(_counts([9, 1, 6, 4]))
    assert spread is not None
    assert (spread.n, spread.median, spread.q1, spread.q3, spread.iqr) == (4, 5.0, 3.25, 6.75, 3.5)
    assert (spread.minimum, spread.maximum) == (1, 9)


def test_single_rating_and_empty() -> None:
    """One rating is its own median and quartiles; no ratings give no spread."""
    spread = Spread.of(_counts([7]))
    assert spread is not None and (spread.median, spread.q1, spread.q3) == (7.0, 7.0, 7.0)
    assert Spread.of([0] * 11) is None
    with pytest.raises(ValueError, match="no ratings"):
        quantile([0] * 11, 0.5)


@pytest.mark.parametrize("seed", range(20))
def test_quantiles_match_statistics_module(seed: int) -> None:
    """Histogram quartiles equal statistics.quantiles(method='inclusive') on the raw ratings."""
    rng = random.Random(seed)
    ratings = [rng.randint(0, 10) for _ in range(rng.randint(2, 300))]
    expected = statistics.quantiles(ratings, n=4, method="inclusive")
    counts = _counts(ratings)
    assert [quantile(counts, p) for p in (0.25, 0.5, 0.75)] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(1, 5, 0.0362, 0.6245), (3, 4, 0.3006, 0.9544), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0)],
)
def test_wilson_known_values(k: int, n: int, low: float, high: float) -> None:
    """The Wilson 95% interval matches published values, including k = 0 and k = n."""
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_rejects_nonsense() -> None:
    """No interval without trials or with more successes than trials."""
    for k, n in ((0, 0), (3, 2), (-1, 4)):
        with pytest.raises(ValueError):
            wilson(k, n)


@pytest.mark.parametrize(
    ("table", "note"),
    [
        ({"a": (0, 5), "b": (0, 6), "c": (0, 7)}, "no critical errors in any group"),
        ({"a": (0, 5), "b": (0, 6)}, "no critical errors in any group"),
        ({"a": (5, 0), "b": (6, 0), "c": (7, 0)}, "every rating flagged a critical error"),
    ],
)
def test_fisher_with_nothing_to_compare_gives_a_note(table: dict[str, tuple[int, int]], note: str) -> None:
    """A row of zeros (no critical errors anywhere, or nothing but) is a note, not a crash or a p-value."""
    result = fisher("critical errors", table, seed=1)
    assert (result.note, result.pvalue, result.statistic) == (note, None, None)
    assert result.groups == tuple(table)


def test_fisher_with_one_critical_error_is_tested() -> None:
    """Control: a single critical error anywhere gives a Monte Carlo p-value and no note."""
    result = fisher("critical errors", {"a": (1, 4), "b": (0, 6), "c": (0, 7)}, seed=1)
    assert result.note == ""
    assert result.pvalue is not None and 0 < result.pvalue <= 1
