"""How far a side word reaches inside its sentence:

- a side that opens the sentence speaks for its rest ("Links keine Herdbefunde, keine suspekten
  Verkalkungen": both denials are about the left);
- a part that only measures or says normal qualifies the part before it ("Lymphknoten links,
  morphologisch unauffällig");
- an umbrella word ("Beidseitige Embolien (re. ..., li. ...)") still says both sides of its findings and
  of its clause as a whole, though its list names each side apart;
- a side given as a heading ("Right breast:") carries to the lines below it, up to the next heading;
- a range belongs to the statement that holds all of it, a generic lay finding ("a spot") aligns by its
  side and place, and a side-only part does not join a clause that has its own side.

Every example is invented for this file; controls: the side of the opening part flipped, and a finding
moved to the other side of an umbrella list, are still side changes.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

_BREASTS = (
    "Right breast:\n6 mm spiculated mass in the upper outer quadrant.\nLeft breast:\nBenign calcification."
)

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
    # A side given as a heading carries to the lines below it.
    (
        "heading-en-swapped",
        _BREASTS,
        "In the left breast there is a 6 mm lump with spiky edges in the upper outer part.",
        "simplification",
        "en",
        None,
        "side_changed",
    ),
    (
        "heading-en-kept",
        _BREASTS,
        "In the right breast there is a 6 mm lump with spiky edges in the upper outer part.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "heading-de-inline-swapped",
        "Rechts: Erguss 2 cm.\nLinks: unauffällig.",
        "Erguss links 2 cm.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
    (
        "heading-de-ends-at-next-heading",
        "Rechts:\nErguss 2 cm.\n\nBeurteilung:\nErguss 2 cm.",
        "Rechts:\nErguss 2 cm.\n\nBeurteilung:\nErguss 2 cm.",
        "correction",
        "de",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_side_scope(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    # A range belongs to the statement that holds all of it.
    (
        "range-history-en",
        "Right ICA: stenosis 60-69%, up from 40-49% last year.\nLeft ICA: stenosis below 40%.",
        "- Right side: the main neck artery is narrowed by sixty to sixty-nine percent.\n"
        "- Last year the narrowing was forty to forty-nine percent, so it has become tighter.\n"
        "- Left side: a narrowing of less than forty percent.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "range-history-de",
        "A. carotis interna rechts: Stenose 70-79 %, zuvor 50-69 %.\n"
        "A. carotis interna links: Stenose unter 50 %.",
        "Rechte Halsschlagader: Die Engstelle beträgt jetzt 70 bis 79 Prozent.\n"
        "Rechts war die Einengung vorher 50 bis 69 Prozent.\nLinks ist die Engstelle kleiner als 50 Prozent.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "range-size-en",
        "Right kidney: cysts 10-15 mm, previously 8-12 mm.\nLeft kidney: cyst 8 mm.",
        "Right kidney: cysts of 10 to 15 mm.\nOn the right they were 8 to 12 mm before.\n"
        "Left kidney: one 8 mm cyst.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "range-control-swapped",
        "Right ICA: stenosis 60-69%.\nLeft ICA: stenosis 20-39%.",
        "- Right side: the neck artery is narrowed by twenty to thirty-nine percent.\n"
        "- Left side: it is narrowed by sixty to sixty-nine percent.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    # Generic lay findings align by their side and place.
    (
        "spot-upper-right",
        "Right upper lobe: part-solid nodule 18 mm, growing solid component.\n"
        "Left lower lobe: solid nodule 4 mm, stable, benign.",
        "The main finding is a spot in the upper part of your right lung that is growing.\n"
        "A second small spot of 4 millimetres in the lower part of your left lung has not changed.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "herd-oben-rechts",
        "Rechter Oberlappen: teilsolider Rundherd 15 mm, größenprogredient.\n"
        "Linker Unterlappen: solider Rundherd 6 mm, stabil.",
        "Im oberen Teil der rechten Lunge gibt es einen Herd, der gewachsen ist.\n"
        "Unten in der linken Lunge ist ein kleiner Herd von 6 Millimetern unverändert.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "spot-liver-right",
        "Right hepatic lobe: hypodense lesion 22 mm, increased.\nLeft hepatic lobe: cyst 7 mm, unchanged.",
        "The biggest change is a spot in the right part of your liver that has grown.\n"
        "In the left part there is a 7 mm fluid bubble (cyst) that is unchanged.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "spot-control-flipped",
        "Right upper lobe: part-solid nodule 18 mm, growing.\nLeft lower lobe: solid nodule 4 mm, stable.",
        "The main finding is a growing spot of 18 millimetres in your left lung.\n"
        "A second small spot of 4 millimetres in your right lung has not changed.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    # A side-only part does not join a clause that has its own side.
    (
        "sowie-linken",
        "Two new lesions: right frontal, 4 mm, and left cerebellar peduncle, 8 mm.",
        "Zwei neue Läsionen: rechts frontal, 4 mm, sowie im linken Kleinhirnstiel, 8 mm.",
        "translation",
        "en",
        "de",
        "laterality",
        "not review",
    ),
    (
        "und-links",
        "Zwei Zysten: rechts parapelvin, 12 mm, und links am Oberpol, 9 mm.",
        "Two cysts: on the right next to the pelvis, 12 mm, and on the left at the upper pole, 9 mm.",
        "translation",
        "de",
        "en",
        "laterality",
        "not review",
    ),
    (
        "and-left",
        "Two nodules: right apical, 6 mm, and left basal, 3 mm.",
        "Zwei Knoten: rechts apikal, 6 mm, und links basal, 3 mm.",
        "translation",
        "en",
        "de",
        "laterality",
        "not review",
    ),
    (
        "parts-control-swapped",
        "Two new lesions: right frontal, 4 mm, and left cerebellar peduncle, 8 mm.",
        "Zwei neue Läsionen: links frontal, 4 mm, sowie im rechten Kleinhirnstiel, 8 mm.",
        "translation",
        "en",
        "de",
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_side_scope_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)
