"""A finding said to be gone ("resolved", "verschwunden", "nicht mehr nachweisbar") is denied now: an output
that states it again flips its negation, one that says it is gone in other words keeps it. Gone and past
("history of") agree that the finding is not there now, so a difference between them is no verdict.

Every example is invented for the guard's tests; controls show that an affirmed resolved finding is caught.
"""

from __future__ import annotations

import pytest

from medvault.guard import check
from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "resolved-forward-kept",
        "Resolved right pneumothorax.",
        "The air around the right lung is gone.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "resolved-backward-affirmed",
        "The right pneumothorax has resolved.",
        "Right pneumothorax.",
        "correction",
        "en",
        None,
        "negation_changed",
    ),
    (
        "resolved-translated",
        "The right pneumothorax has resolved.",
        "Pneumothorax rechts nicht mehr nachweisbar.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "verschwunden",
        "Der Erguss links ist verschwunden.",
        "Erguss links.",
        "correction",
        "de",
        None,
        "negation_changed",
    ),
    # Resolved and past agree that a finding is not there now.
    (
        "resolved-vs-history-en",
        "The previously seen left pneumothorax is no longer visible.",
        "The left pneumothorax has resolved.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "resolved-vs-history-de",
        "Der vorbeschriebene Erguss rechts ist nicht mehr nachweisbar.",
        "Zustand nach Erguss rechts.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "resolved-vs-history-en-2",
        "No residual abscess in the right lower quadrant.",
        "History of an abscess in the right lower quadrant.",
        "summary",
        "en",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_resolution_rows(row: Row) -> None:
    assert_row(row)


def test_resolved_vs_history_is_shown_as_minor() -> None:
    """Gone and past agree on "not there now": any difference is shown as minor, never a verdict."""
    result = check(
        "No residual abscess in the right lower quadrant.",
        "History of an abscess in the right lower quadrant.",
        task="summary",
        lang="en",
    )
    assert result.verdict == "ok"
    assert all(f.severity == "minor" for f in result.flags)
