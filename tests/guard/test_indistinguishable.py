"""A finding the report "cannot tell apart" is a differential diagnosis, not a denial: "ein papilläres
Karzinom ist nicht sicher abzugrenzen", "nicht sicher von einem Hämangiom zu unterscheiden", "a
carcinoma cannot be reliably distinguished / confidently differentiated" say the finding is possible.
"nicht abgrenzbar" alone (not visible) stays a denial. Every example is invented for this file;
controls show that such a possibility made definite is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

LEVELS = [
    ("Ein papilläres Karzinom ist nicht sicher abzugrenzen.", "de", "carcinoma", "possible"),
    ("Eine Metastase ist nicht sicher von einer Zyste zu unterscheiden.", "de", "metastasis", "possible"),
    ("Ein Abszess ist nicht eindeutig abgrenzbar von einem Hämatom.", "de", "abscess", "possible"),
    ("A papillary carcinoma cannot be reliably distinguished.", "en", "carcinoma", "possible"),
    ("A metastasis cannot be confidently differentiated from a haemangioma.", "en", "metastasis", "possible"),
    ("An abscess is not clearly separable from the haematoma.", "en", "abscess", "possible"),
    # Controls: not seen at all is a denial.
    ("Ein Erguss ist nicht abgrenzbar.", "de", "effusion", "absent"),
    ("No carcinoma is seen.", "en", "carcinoma", "absent"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_indistinguishable_is_possible(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)


PAPILLOMA_DE = (
    "Intraduktale Raumforderung rechts, am ehesten Papillom; ein papilläres Karzinom ist nicht sicher "
    "abzugrenzen."
)

ROWS: list[Row] = [
    (
        "dd-de-to-en",
        PAPILLOMA_DE,
        "Intraductal mass on the right, most likely a papilloma; a papillary carcinoma cannot be reliably "
        "distinguished.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "dd-en-to-de",
        "Complex cyst in the left kidney; a cystic carcinoma cannot be confidently differentiated.",
        "Komplexe Zyste der linken Niere; ein zystisches Karzinom ist nicht sicher zu differenzieren.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "dd-de-summary",
        "Leberläsion Segment 7, eine Metastase ist nicht sicher von einem Hämangiom zu unterscheiden.",
        "Leberläsion Segment 7, DD Metastase oder Hämangiom.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "dd-de-to-en-definite",
        PAPILLOMA_DE,
        "Intraductal mass on the right with a papillary carcinoma.",
        "translation",
        "de",
        "en",
        "certainty_changed",
    ),
    (
        "dd-en-summary-definite",
        "Complex cyst in the left kidney; a cystic carcinoma cannot be confidently differentiated.",
        "Cystic carcinoma of the left kidney.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_indistinguishable_rows(row: Row) -> None:
    assert_row(row)
