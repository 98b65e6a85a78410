"""A summary merges sentences: "PI-RADS-5-Läsion 15 mm ... mit extraprostatischer Ausdehnung" keeps the
lesion's measurement beside a finding from another source sentence. Where the output writes that
finding in the source's own term (up to an inflected ending), the comparison with the source's
statement of it is sure, so a hedge dropped there is a confident flag; a lay rewording or a generic word
("suspekt") beside another sentence's measurement stays unsure. Every example is invented for this
file; a control shows that a kept hedge is no flag.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "own-term-de",
        "Rundherd 15 mm im rechten Oberlappen. Pleuraerguss rechts nicht sicher auszuschließen.",
        "Rundherd 15 mm im rechten Oberlappen mit Pleuraerguss rechts.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "own-term-en",
        "Nodule of 15 mm in the right upper lobe. A small right pleural effusion cannot be excluded.",
        "15 mm right upper lobe nodule with a small right pleural effusion.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "own-term-de-epe",
        "PI-RADS-5-Läsion 15 mm rechts anterior. Extraprostatische Ausdehnung nicht sicher auszuschließen.",
        "PI-RADS-5-Läsion 15 mm rechts anterior mit extraprostatischer Ausdehnung.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "own-term-kept-de",
        "Rundherd 15 mm im rechten Oberlappen. Pleuraerguss rechts nicht sicher auszuschließen.",
        "Rundherd 15 mm im rechten Oberlappen, fraglich Pleuraerguss rechts.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "generic-word-unsure-de",
        "Axillär rechts ein Lymphknoten mit 4 mm Kortexverbreiterung, fraglich suspekt. Rechts 1 Uhr "
        "neuer Herd 13 mm.",
        "Rechts 1 Uhr neuer suspekter Herd von 13 mm.",
        "summary",
        "de",
        None,
        "not review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_merged_sentence_rows(row: Row) -> None:
    assert_row(row)
