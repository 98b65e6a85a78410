"""What a text says of a finding on an earlier study: new since then ("not present on the radiograph of
2021", "auf der Voraufnahme noch nicht abgrenzbar") or there already ("was already visible on your X-ray
from 2021", "bereits auf der Voraufnahme sichtbar"). A new finding presented as long-standing, or the
reverse, is a negation flip about the earlier study; "not seen on the prior CT" does not deny the
finding now. A sentence starting with a pronoun ("It was already visible ...") speaks of the finding of
the sentence before it. Every example is invented for this file; controls keep the time and the place.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

LEVELS = [
    ("The nodule was not seen on the prior CT.", "nodule", "present"),
    ("The effusion was not present on the radiograph of 2021.", "effusion", "present"),
    ("The nodule is not visible on the previous study.", "nodule", "present"),
    # Controls: not seen now.
    ("The nodule was not seen.", "nodule", "absent"),
    ("The effusion is not present on this radiograph.", "effusion", "absent"),
]


@pytest.mark.parametrize(("text", "concept", "level"), LEVELS)
def test_not_seen_before_is_no_denial(text: str, concept: str, level: str) -> None:
    assert_level(text, "en", concept, level)


ROWS: list[Row] = [
    (
        "new-made-old-en",
        "New 2 cm nodule in the left upper lobe, not present on the CT of 2022.",
        "There is a 2 cm nodule in the left upper lung. It was already visible on your scan from 2022.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "new-made-old-de",
        "Rundherd 12 mm im rechten Oberlappen, auf der Voraufnahme noch nicht abgrenzbar.",
        "Im rechten Oberlappen gibt es einen 12 mm großen Rundherd. Er war bereits auf der Voraufnahme "
        "sichtbar.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "new-made-old-en-de",
        "Small left pleural effusion, not present on the prior radiograph.",
        "Kleiner Pleuraerguss links, bereits auf der Voraufnahme sichtbar.",
        "translation",
        "en",
        "de",
        "negation_changed",
    ),
    (
        "old-made-new-de",
        "Zyste der linken Niere 2 cm, bereits auf der Voruntersuchung von 2021 sichtbar.",
        "Zyste der linken Niere 2 cm, neu aufgetreten im Vergleich zur Voruntersuchung von 2021.",
        "summary",
        "de",
        None,
        "negation_changed",
    ),
    (
        "new-kept-en",
        "2.5 cm opacity in the right mid zone, not present on the radiograph of 2021.",
        "There is a 2.5 cm shadow in the right lung that was not there on your X-ray from 2021.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "new-kept-de",
        "Rundherd 12 mm im rechten Oberlappen, auf der Voraufnahme noch nicht abgrenzbar.",
        "Rundherd von 12 mm im rechten Oberlappen, auf der Voraufnahme noch nicht zu sehen.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "old-kept-en-de",
        "Small left pleural effusion, already present on the prior radiograph.",
        "Kleiner Pleuraerguss links, bereits auf der Voraufnahme sichtbar.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "two-places-en",
        "New nodule in the right upper lobe, not present on the prior CT. The nodule in the left lower "
        "lobe was already present on the prior CT.",
        "The nodule in the left lower lobe was already visible on the prior CT. The new nodule in the "
        "right upper lobe was not seen on the prior CT.",
        "summary",
        "en",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_earlier_study_rows(row: Row) -> None:
    assert_row(row)
