"""Which words name a side: "right" as an adverb ("right through") and "left" as a verb ("left in place")
name none; side labels inside one dictated line ("right kidney ... left kidney ...") each start their own
statement; a label may say where rather than which side; "on either side" is both sides; "bilateral"
beside both sides named one by one is an umbrella word; a lay direction phrase ("pushed to the left")
carries its side; a side the source does not give is sure only where it contradicts every side of the
source.

Every example is invented for the guard's tests; controls show that a flipped side is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._sides import _side_words
from medvault.guard._text import Analysis
from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row


@pytest.mark.parametrize(
    ("text", "sides"),
    [
        ("The crack goes right through the bone.", []),
        ("Please come back right away if it hurts.", []),
        ("The pain started right after the fall.", []),
        ("Everything else looks all right.", []),
        ("The cyst sits right here, near the nipple.", []),
        ("It runs right into the joint.", []),
        ("The drain was left in place.", []),
        ("No clip was left behind.", []),
        # controls: sides stay sides
        ("A break of the right wrist.", ["right"]),
        ("Fluid on the right behind the lung.", ["right"]),
        ("A right above-knee amputation.", ["right"]),
        ("The mass is left-sided.", ["left"]),
        ("The lesion lies left of the midline.", ["left"]),
        ("All right ribs are intact.", ["right"]),
    ],
)
def test_side_words(text: str, sides: list[str]) -> None:
    doc = Analysis(text, "en")
    assert [text[sm.start : sm.end].lower() for sm in _side_words(doc)] == sides


ROWS: list[Row] = [
    # "Bilateral" beside both sides named one by one is an umbrella word.
    (
        "bilateral-umbrella",
        "Filling defects in the right main pulmonary artery extending into the right lower lobe "
        "segmental arteries, and in a left upper lobe segmental artery, consistent with pulmonary emboli.",
        "Acute bilateral pulmonary emboli (right main pulmonary artery into right lower lobe "
        "segmental branches; one left upper lobe segmental artery).",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "bilateral-dominant-kept",
        "Bilateral pleural effusions, right more than left.",
        "Bilateral pleural effusions, left more than right.",
        "summary",
        "en",
        None,
        "comparison_changed",
    ),
    # A side given where the source names none: sure only where it contradicts every side of the source.
    (
        "side-added-overlapping",
        "MRT Kniegelenk rechts. Innenmeniskus und Außenmeniskus intakt.",
        "MRT des rechten Knies. Die beiden Menisken sind intakt.",
        "simplification",
        "de",
        None,
        "unchecked",
    ),
    (
        "side-added-contradicting",
        "MRT Kniegelenk rechts. Innenmeniskus und Außenmeniskus intakt.",
        "MRT des linken Knies. Die Menisken links sind intakt.",
        "simplification",
        "de",
        None,
        "side_changed",
    ),
    # "on either side" is both sides.
    (
        "either-side-kept",
        "In der peripheren Zone beidseits keine fokalen Läsionen.",
        "No focal lesions in the peripheral zone on either side.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "either-side-lost",
        "In der peripheren Zone beidseits keine fokalen Läsionen.",
        "No focal lesions in the peripheral zone on the left.",
        "translation",
        "de",
        "en",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_side_word_rows(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    # "right" as an adverb names no side.
    (
        "adverb-through",
        "Left ankle, two views. Undisplaced fracture of the lateral malleolus.",
        "The X-ray of your left ankle shows a crack in the outer ankle bone that has not gone right through "
        "and has not moved out of place.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "adverb-away",
        "Left knee. Small joint effusion. No fracture.",
        "There is a little fluid in your left knee and no broken bone. If the swelling gets worse, see a "
        "doctor right away.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "adverb-all-right",
        "Left shoulder. Normal alignment. No fracture. No dislocation.",
        "Your left shoulder is all right: the bones are not broken and the joint sits right where it should.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "adverb-control-side",
        "Left wrist. Fracture of the distal radius.",
        "The X-ray shows a break in the right wrist, right above the joint.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "adverb-control-on-the-right",
        "Chest X-ray. Small pleural effusion on the left.",
        "There is a little fluid around the lung on the right.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    # Side labels inside one line start their own statements.
    (
        "inline-labels-breasts",
        "impression right breast new cluster of calcifications biopsy advised left breast simple cyst",
        "Impression: Right breast: new cluster of calcifications, biopsy advised. Left breast: simple cyst.",
        "correction",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "inline-labels-kidneys",
        "right kidney small simple cyst left kidney mild hydronephrosis",
        "Right kidney: small simple cyst. Left kidney: mild hydronephrosis.",
        "correction",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "inline-labels-ovaries",
        "conclusion right ovary dermoid cyst 3 cm left ovary normal follicles",
        "Conclusion: Right ovary: dermoid cyst, 3 cm. Left ovary: normal follicles.",
        "correction",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "inline-labels-control",
        "right kidney small simple cyst left kidney mild hydronephrosis",
        "Right kidney: small simple cyst, mild hydronephrosis. Left kidney: normal.",
        "correction",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    # A label that says where: its direction is compared.
    (
        "label-place-flip",
        "Left breast, upper outer quadrant, 2 o'clock: 12 x 8 mm oval mass, probably a fibroadenoma.",
        "In the upper inner part of your left breast there is an oval lump of 12 by 8 millimetres.",
        "simplification",
        "en",
        None,
        "laterality",
        "direction_changed",
    ),
    (
        "label-place-kept",
        "Left breast, upper outer quadrant, 2 o'clock: 12 x 8 mm oval mass, probably a fibroadenoma.",
        "In the upper outer part of your left breast there is an oval lump of 12 by 8 millimetres.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "label-place-de",
        "Rechte Mamma, oberer äußerer Quadrant: Zyste 9 mm.",
        "Im oberen inneren Teil der rechten Brust liegt eine 9 mm große Zyste.",
        "simplification",
        "de",
        None,
        "laterality",
        "direction_changed",
    ),
    # Lay halves of an organ name its sides.
    (
        "nodules-left-half",
        "Right lobe, lower pole: solid nodule 14 mm. Left lobe, upper pole: cyst 5 mm. Left lobe, mid: "
        "spongiform nodule 8 mm.",
        "In the lower part of the right half there is a solid lump of 14 millimetres. In the middle of the "
        "left half there is a small eight-millimetre nodule, and higher up a 5 mm cyst.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        "nodules-left-half-control",
        "Right lobe, lower pole: solid nodule 14 mm. Left lobe, mid: spongiform nodule 8 mm.",
        "In the middle of the right half there is a small eight-millimetre nodule.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    # Lay direction phrases carry the side.
    (
        "prolapse-kept",
        "Bandscheibenvorfall L4/5 links mit Kompression der Wurzel L5.",
        "Zwischen dem 4. und 5. Lendenwirbel ist Bandscheibengewebe nach links ausgetreten.",
        "simplification",
        "de",
        None,
        "laterality",
        "ok",
    ),
    (
        "shift-kept",
        "Herniation of the disc at C6/7 on the right.",
        "The disc between C6 and C7 bulges out to the right.",
        "simplification",
        "en",
        None,
        "laterality",
        "ok",
    ),
    (
        "no-side-in-source",
        "Lebersegment VII: Hämangiom 15 mm.",
        "Im hinteren rechten Teil der Leber liegt ein 15 mm großes Blutschwämmchen.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "no-side-en",
        "Segment 6 liver cyst, 12 mm.",
        "There is a 12 mm fluid bubble in the lower right part of the liver.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    # negative controls: the direction phrase names the other side
    (
        "prolapse-flipped",
        "Bandscheibenvorfall L4/5 links mit Kompression der Wurzel L5.",
        "Zwischen dem 4. und 5. Lendenwirbel ist Bandscheibengewebe nach rechts ausgetreten.",
        "simplification",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "shift-flipped",
        "Herniation of the disc at C6/7 on the right.",
        "The disc between C6 and C7 bulges out to the left.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "side-contradicts-report",
        "Kniegelenk rechts: Innenmeniskusriss.",
        "Im linken Knie ist der innere Meniskus gerissen.",
        "simplification",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_side_word_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)
