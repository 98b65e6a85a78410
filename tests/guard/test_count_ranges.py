"""Counts of numbered ranges and of number-headed compounds.

"Rippen 5 bis 8" are four ribs, "ribs 4 to 6" three; "Dreigefäß" is "three-vessel", "Zweikammer-"
"two-chamber". Every example is invented for this file; controls show that a wrong count is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "range-de",
        "Serienrippenfraktur der Rippen 5 bis 8 rechts.",
        "Auf der rechten Seite sind vier Rippen gebrochen (die 5. bis 8. Rippe).",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "range-en",
        "Fractures of ribs 4 to 6 on the left.",
        "Three ribs on the left are broken (ribs 4 to 6).",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "range-de2",
        "Frakturen der Rippen 9–11 links.",
        "Links sind drei Rippen gebrochen (9. bis 11. Rippe).",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "range-en2",
        "Fractures of the left ribs 3 through 5.",
        "Three ribs on the left side are broken.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "range-dash",
        "Spondylodese LWK 3–5.",
        "Drei Wirbel sind verschraubt (LWK 3 bis 5).",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "range-control",
        "Fraktur der Rippen 5 und 8 rechts.",
        "Auf der rechten Seite sind vier Rippen gebrochen.",
        "simplification",
        "de",
        None,
        "review",
    ),
    (
        "compound-de-en",
        "Koronarsklerose (Dreigefäß).",
        "Coronary artery calcification (three-vessel).",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "compound-zwei",
        "Zweietagige Bandscheibendegeneration.",
        "Two-level disc degeneration.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "compound-pm",
        "Zweikammerschrittmacher links pektoral.",
        "Two-chamber pacemaker in the left pectoral region.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "compound-control",
        "Koronarsklerose (Dreigefäß).",
        "Coronary artery calcification (four-vessel).",
        "translation",
        "de",
        "en",
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_count_rows(row: Row) -> None:
    assert_row(row)
