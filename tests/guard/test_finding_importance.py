"""Whether a change of a finding matters: how far a finding reaches ("extension", "Ausdehnung", "involved")
is about another finding and important only where that finding is a tumour; a new finding that is not
actionable, under doubt, is shown as minor, while an actionable one is not checked.

Every example is invented for the guard's tests; controls show the tumour's extension and the
actionable new finding flagged.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    # How far a finding reaches ("extension", "Ausdehnung", "involved") is about another finding:
    # important only where that finding is a tumour.
    (
        "extension-de-thrombus-summary",
        "Thrombus in der V. femoralis mit Ausdehnung in die V. poplitea. Kein Erguss.",
        "Thrombose der Oberschenkelvene.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "extension-en-translation",
        "Thrombus in the popliteal vein extending into the calf veins.",
        "Thrombus in der V. poplitea bis in die Unterschenkelvenen reichend.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "extension-en-involved-loops",
        "Small bowel obstruction with reduced enhancement of the involved loops.",
        "Small bowel obstruction.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "extension-control-tumour",
        "Rectal tumour with extension into the mesorectal fat.",
        "Rectal tumour.",
        "summary",
        "en",
        None,
        "omission",
    ),
    (
        "extension-control-de-tumour",
        "Tumor der Niere mit Ausdehnung in die Nierenvene.",
        "Tumor der Niere.",
        "summary",
        "de",
        None,
        "omission",
    ),
    # A new finding that is not actionable, under doubt, is shown (minor); an actionable one is not checked.
    (
        "new-minor-finding-shown",
        "Right testis 4.2 cm with normal echotexture. Small left hydrocele.",
        "Der rechte Hoden misst 4,2 cm mit normaler Echotextur und Durchblutung. Kleine Hydrozele links.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "new-actionable-finding",
        "Right testis 4.2 cm with normal echotexture. Small left hydrocele.",
        "Rechter Hoden 4,2 cm, normale Echotextur. Kleine Hydrozele links. Abszess im linken Hoden.",
        "translation",
        "en",
        "de",
        "new_finding",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_finding_importance_rows(row: Row) -> None:
    assert_row(row)
