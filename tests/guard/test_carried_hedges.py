"""A hedge reaches a finding across the segment boundary before it where a conjunction cut the hedge off ("DD
Artefakt, eher | jedoch echtes Defizit": the cue ends its segment) and where the finding is an example of what
the segment before it hedges ("most likely harmless, for example a fibroadenoma", "zum Beispiel ein
Fibroadenom"). A statement of its own after "and" keeps its level. A hedge in a sentence a semicolon joins to
its finding reaches it too. Every example is invented for this file; controls show that such a hedge made
definite is caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "conjunction-de",
        "Perfusionsausfall apikal, DD Artefakt, eher jedoch echtes Defizit.",
        "Perfusion defect at the apex, differential diagnosis artefact, but a true defect is considered "
        "more likely.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "conjunction-en",
        "Small focus in segment 6, likely however a cyst.",
        "Kleiner Herd in Segment 6, am ehesten jedoch eine Zyste.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "conjunction-de-to-en",
        "Flüssigkeitskollektion am Psoas, DD Hämatom, eher jedoch Abszess.",
        "Fluid collection at the psoas, differential diagnosis haematoma, but more likely an abscess.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "example-en",
        "Oval circumscribed mass, most likely a fibroadenoma.",
        "The lump looks most likely harmless, for example a fibroadenoma.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "example-de",
        "Glatt begrenzter Herd, am ehesten Fibroadenom.",
        "Der Knoten ist wahrscheinlich gutartig, zum Beispiel ein Fibroadenom.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "example-en-definite",
        "Oval circumscribed mass, most likely a fibroadenoma.",
        "The lump is a fibroadenoma.",
        "simplification",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "example-en-own-statement",
        "Oval circumscribed mass, most likely a fibroadenoma. Simple cyst in the left breast.",
        "The lump is most likely harmless, and there is a simple cyst in the left breast.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "conjunction-de-definite",
        "Flüssigkeitskollektion am Psoas, DD Hämatom, eher jedoch Abszess.",
        "Abszess am Psoas.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "conjunction-en-definite",
        "Small focus in segment 6, likely however a cyst.",
        "Zyste in Segment 6.",
        "translation",
        "en",
        "de",
        "certainty_changed",
    ),
    # A hedge in a sentence a semicolon joins to its finding.
    (
        "semicolon-en-lung",
        "Right lung: 9 mm nodule in the upper lobe, indeterminate; malignancy cannot be excluded.",
        "R lung: 9 mm malignant nodule in the upper lobe.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "semicolon-en-liver",
        "Liver: 14 mm lesion in segment VI with arterial enhancement; "
        "hepatocellular carcinoma cannot be excluded.",
        "Liver: 14 mm hepatocellular carcinoma in segment VI.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "semicolon-de-liver",
        "Leber: 14 mm Läsion in Segment VI; ein Karzinom ist nicht auszuschließen.",
        "Leber: 14 mm Karzinom in Segment VI.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_carried_hedge_rows(row: Row) -> None:
    assert_row(row)
