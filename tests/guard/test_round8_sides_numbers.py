"""Round 8 (issue 11): side words that are no side, side labels inside one line, labels that say where,
numbers joined to their unit by a hyphen, dimension pairs with "by", scores in Roman numerals.

Every example is invented for this file (none comes from a pair batch). Clean rows must not raise
`review`; each class has a control that the real error of the class is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._quantities import extract_quantities
from medvault.guard._sides import _side_words
from medvault.guard._text import Analysis
from tests.guard.conftest import assert_expected
from tests.guard.test_round6_sides_numbers import Row, _run

# --- "right" as an adverb, "left" as a verb ----------------------------------------------------------


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


ADVERBS: list[Row] = [
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
]

# --- side labels inside one unpunctuated line -----------------------------------------------------------

LABELS: list[Row] = [
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
]

# --- a label before a finding on its line says where it is ---------------------------------------------

PLACES: list[Row] = [
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
]

# --- numbers: hyphenated units, "by" pairs, Roman numeral scores ------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "found"),
    [
        ("a small nine-millimetre nodule", "en", [("length", 9.0)]),
        ("a 9-mm nodule", "en", [("length", 9.0)]),
        ("a 3-month follow-up", "en", [("duration", 91.3125)]),
        ("ein 12-Millimeter-Knoten", "de", [("length", 12.0)]),
        ("1.7 by 1.1 centimetres", "en", [("length", 17.0), ("length", 11.0)]),
        ("3 mal 4 cm", "de", [("length", 30.0), ("length", 40.0)]),
        ("Bosniak III", "de", [("count", 3.0)]),
        ("Bosniak IIF", "de", [("count", 2.5)]),
        ("Fraktur Salter-Harris II", "de", [("count", 2.0)]),
        ("liver segment VII", "en", [("count", 7.0)]),
        ("stage iv", "en", [("count", 4.0)]),
        # controls: levels and bare letters are no numbers with units, a pronoun is no numeral
        ("L4-L5 and C5-6", "en", [("count", 4.0), ("count", 5.0), ("count", 5.0), ("count", 6.0)]),
        ("I saw type A", "en", []),
        ("Bosniak IIIx", "de", []),
    ],
)
def test_quantities(text: str, lang: str, found: list[tuple[str, float]]) -> None:
    assert [(q.dim, round(q.base, 4)) for q in extract_quantities(text, lang)] == found


NUMBERS: list[Row] = [
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
    (
        "by-pair-converted",
        "Right breast: 23 x 14 mm oval mass.",
        "There is an oval lump of about 2.3 by 1.4 centimetres in your right breast.",
        "simplification",
        "en",
        None,
        "numbers",
        "not review",
    ),
    (
        "by-pair-control",
        "Right breast: 23 x 14 mm oval mass.",
        "There is an oval lump of about 2.8 by 1.4 centimetres in your right breast.",
        "simplification",
        "en",
        None,
        "numbers",
        "review",
    ),
    (
        "roman-kept-de",
        "Linke Niere: komplexe Zyste 30 mm, Bosniak III. Rechte Niere: einfache Zyste, Bosniak I.",
        "Komplexe Zyste der linken Niere (30 mm), Bosniak III; rechts einfache Zyste (Bosniak I).",
        "summary",
        "de",
        None,
        "numbers",
        "not review",
    ),
    (
        "roman-arabic-en",
        "Chondrosarcoma, grade II, of the left femur.",
        "A grade 2 chondrosarcoma of the left thigh bone.",
        "simplification",
        "en",
        None,
        "numbers",
        "not review",
    ),
    (
        "roman-changed-de",
        "Linke Niere: komplexe Zyste 30 mm, Bosniak III.",
        "Komplexe Zyste der linken Niere (30 mm), Bosniak IV.",
        "summary",
        "de",
        None,
        "numbers",
        "review",
    ),
    (
        "roman-changed-en",
        "Distal radius fracture, Salter-Harris II.",
        "Salter-Harris IV fracture of the distal radius.",
        "summary",
        "en",
        None,
        "numbers",
        "review",
    ),
]

ROWS = ADVERBS + LABELS + PLACES + NUMBERS


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_row(row: Row) -> None:
    if row[-1] == "review":
        _review(row)
    else:
        _run(row)


def _review(row: Row) -> None:
    """A control whose flag code varies by check ("numbers", "number_added"): any major flag will do."""
    _, source, output, task, lang, target, name, _ = row
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=[name])
    assert result.verdict == "review", (result.verdict, result.flags)


# -- a respelling never makes or unmakes a negation ------------------------------------------------------

RESPELL_NEGATION = [
    # A real word beside a negation word is no typo of it: the output's "kleinen" stays "kleinen".
    (
        "respell-de-kleinen",
        "Keine Fraktur. Facettengelenkarthrose beidseits.",
        "Es gibt keinen Bruch. Die kleinen Wirbelgelenke zeigen beidseits Verschleiß.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "respell-de-kleine-zyste",
        "Kleine Zyste der linken Niere.",
        "Keine Zyste der linken Niere.",
        "correction",
        "de",
        None,
        "negation_changed",
    ),
    ("respell-en-know", "Know pleural effusion.", "No pleural effusion.", "correction", "en", None, "ok"),
    # Slips of the negation itself are still read as it: transposed or doubled letters.
    (
        "respell-de-kien",
        "Kien Pleuraerguss rechts.",
        "Kein Pleuraerguss rechts.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "respell-de-keeine",
        "Keeine freie Flüssigkeit.",
        "Keine freie Flüssigkeit.",
        "correction",
        "de",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize(
    ("source", "output", "task", "lang", "target", "expected"),
    [c[1:] for c in RESPELL_NEGATION],
    ids=[c[0] for c in RESPELL_NEGATION],
)
def test_a_respelling_never_makes_or_unmakes_a_negation(
    source: str, output: str, task: str, lang: str, target: str | None, expected: str
) -> None:
    assert_expected(source, output, task, lang, target, expected)
