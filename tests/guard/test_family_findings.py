"""A finding of the patient's family is no finding of the patient.

"Wegen Brustkrebsfällen in Ihrer Familie", "family history of breast cancer", "your mother had colon
cancer": what stands there is asked like a clinical question and states no level. Every example is
invented for this file; a control shows that the patient's own invented finding is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "family-de",
        "Mammographie bds. (familiäre Belastung). Keine suspekten Herdbefunde. BI-RADS 1.",
        "Wegen Brustkrebsfällen in Ihrer Familie wurden beide Brüste geröntgt. Es gibt keinen "
        "verdächtigen Knoten.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "family-en",
        "Screening MRI (family history of breast cancer). No suspicious enhancement. BI-RADS 1.",
        "Because of breast cancer in your family, an MRI was done. Nothing suspicious was seen.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "family-mother",
        "Colonoscopy CT. No polyps, no mass.",
        "Your mother had colon cancer, so the bowel was checked. No polyps or growths were found.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "family-control",
        "Mammographie bds. Keine suspekten Herdbefunde. Kein Karzinom.",
        "In Ihrer Brust zeigt sich ein Karzinom.",
        "simplification",
        "de",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_family_rows(row: Row) -> None:
    assert_row(row)
