"""How far a side word reaches inside its sentence:

- a side that opens the sentence speaks for its rest ("Links keine Herdbefunde, keine suspekten
  Verkalkungen": both denials are about the left);
- a part that only measures or says normal qualifies the part before it ("Lymphknoten links,
  morphologisch unauffällig");
- an umbrella word ("Beidseitige Embolien (re. ..., li. ...)") still says both sides of its findings and
  of its clause as a whole, though its list names each side apart.

Every example is invented for this file; controls: the side of the opening part flipped, and a finding
moved to the other side of an umbrella list, are still side changes.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "opening-side-de",
        "Mammographie beidseits.\nRechts gruppierter Mikrokalk, 6 mm, suspekt. Links keine Herdbefunde, "
        "keine suspekten Verkalkungen. Axilla beidseits kein suspekter Befund.",
        "In der rechten Brust gibt es eine kleine verdächtige Gruppe von Kalkablagerungen (6 mm). "
        "In der linken Brust gibt es keine Knoten und keinen verdächtigen Kalk. "
        "Die Lymphknoten in beiden Achseln sind unauffällig.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
    (
        "opening-side-en",
        "Bilateral breast US.\nRight: 8 mm simple cyst at 2 o'clock. On the left, no solid mass, no "
        "suspicious calcification. Both axillae: no suspicious nodes.",
        "There is a harmless 8 mm cyst in your right breast. In the left breast there are no lumps and no "
        "worrying calcium spots. The lymph nodes in both armpits look normal.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "qualifier-part-de",
        "Sonographie Hals.\nEinzelne Lymphknoten links zervikal, 9 mm, morphologisch unauffällig. Rechts "
        "o. B.",
        "Ultrasound of the neck.\nSome lymph nodes on the left side of the neck, 9 mm, normal in appearance. "
        "The right side is unremarkable.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "umbrella-both-lay-de",
        "CT-Angiographie.\nBeurteilung: Beidseitige Lungenarterienembolien (Unterlappenarterie re., "
        "segmental li. Oberlappen).",
        "In beiden Lungen stecken Blutgerinnsel in den Lungenschlagadern (Lungenembolie): rechts in der "
        "Schlagader des Unterlappens, links in kleinen Ästen des Oberlappens.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
    (
        "umbrella-both-en",
        "CTPA.\nImpression: Bilateral pulmonary emboli (right lower lobe artery, left upper lobe segmental "
        "branch).",
        "Blood clots in the lung arteries of both lungs: right lower lobe artery and a segmental branch on "
        "the left upper lobe.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    # Controls.
    (
        "control-opening-side-flipped",
        "Mammographie beidseits.\nRechts gruppierter Mikrokalk, 6 mm, suspekt. Links keine Herdbefunde.",
        "In der linken Brust gibt es eine kleine verdächtige Gruppe von Kalkablagerungen (6 mm). Rechts gibt "
        "es keine Knoten.",
        "simplification",
        "de",
        "de",
        "side_changed",
    ),
    (
        "control-umbrella-list-side-moved",
        "Befund: Embolien beidseits: Unterlappenarterie re., Oberlappensegment li.\nKein Pleuraerguss.",
        "Findings: bilateral emboli: left lower lobe artery, right upper lobe segment.\nNo pleural effusion.",
        "translation",
        "de",
        "en",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_side_scope(row: Row) -> None:
    assert_row(row)
