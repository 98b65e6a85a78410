"""Round 6 (issue 11): sides, directions and numbers, one table per class of mistake.

Every example is invented for this file (none comes from a pair batch). Each class has clean rows that
must not raise `review` and negative controls: the real error of the same class is still caught. Rows
run the check of their class only (`checks`), so that a finding word another check reads differently
cannot hide what this class is about; the full profile runs in `test_full_profile`.
"""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._quantities import extract_quantities, spelled_number

# (id, source, output, task, lang, target, check, expected) -- expected: "ok", "unchecked", "not review"
# (ok or unchecked) or the code of a major flag that makes the verdict "review".
Row = tuple[str, str, str, str, str, str | None, str, str]


def _run(row: Row) -> None:
    _, source, output, task, lang, target, name, expected = row
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=[name])
    majors = {f.stable_code for f in result.flags if f.severity == "major"}
    detail = (result.verdict, result.flags, result.unchecked)
    if expected == "not review":
        assert result.verdict != "review", detail
    elif expected in ("ok", "unchecked"):
        assert result.verdict == expected, detail
    else:
        assert result.verdict == "review" and expected in majors, detail


# --- numbers written as words -------------------------------------------------------------------------

SPELLED = [
    ("twenty twenty four", 2024.0),
    ("nineteen eighty", 1980.0),
    ("thirty-five", 35.0),
    ("two hundred forty", 240.0),
    ("einundvierzig", 41.0),
    ("siebzehn", 17.0),
    ("zweitausendfünfundzwanzig", 2025.0),
    ("dreihundert", 300.0),
]


@pytest.mark.parametrize(("words", "value"), SPELLED, ids=[s[0] for s in SPELLED])
def test_spelled_numbers(words: str, value: float) -> None:
    assert spelled_number(words) == value


@pytest.mark.parametrize("words", ["und", "ein", "one", "two three", "and"])
def test_words_that_are_no_single_number(words: str) -> None:
    """Articles, "und" and two numbers in a row make no number of their own."""
    value = spelled_number(words)
    assert value is None or value <= 1


def test_spelled_number_with_unit_and_neighbours() -> None:
    found = [
        (q.text, q.dim, q.base)
        for q in extract_quantities("Zyste achtzehn Millimeter, zwei und drei Herde", "de")
    ]
    assert found == [("achtzehn Millimeter", "length", 18.0), ("zwei", "count", 2.0), ("drei", "count", 3.0)]
    # Words that merely start like a number stay words.
    assert extract_quantities("Achtung, Elfenbein, tent, often", "en") == []


SPELLED_ROWS: list[Row] = [
    (
        "year-spoken",
        "Known nodule since twenty nineteen, stable.",
        "Known nodule since 2019, stable.",
        "correction",
        "en",
        None,
        "numbers",
        "ok",
    ),
    ("teen-mm", "Zyste dreizehn Millimeter.", "Zyste 13 mm.", "correction", "de", None, "numbers", "ok"),
    (
        "compound-de",
        "Abstand zweiundzwanzig mm.",
        "Abstand 22 mm.",
        "correction",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "tens-en",
        "Stenosis of seventy percent.",
        "Stenosis of 70 %.",
        "correction",
        "en",
        None,
        "numbers",
        "ok",
    ),
    # negative controls: a spelled number that the correction changes
    (
        "year-changed",
        "Prior study from twenty twenty two.",
        "Prior study from 2021.",
        "correction",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "teen-vs-ty",
        "Herd sechzehn Millimeter.",
        "Herd 60 mm.",
        "correction",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "compound-changed",
        "Lymph node thirty-one mm.",
        "Lymph node 13 mm.",
        "correction",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
]

# --- lay counts, numbering and explained scales are no measurements -----------------------------------

LAY_COUNT_ROWS: list[Row] = [
    (
        "two-lay-knots",
        "Schilddrüse: Knoten rechts 9 mm, Knoten links 6 mm, TIRADS 3.",
        "In der Schilddrüse gibt es zwei kleine Knoten: rechts 9 mm, links 6 mm. "
        "Beide sind nach TIRADS 3 eingestuft.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "scale-of-five",
        "Lesion 2: transition zone, 9 mm, PI-RADS 2.",
        "A 9 mm spot in the inner part was given PI-RADS 2 out of 5, which means cancer is unlikely.",
        "simplification",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "both-ends-scale",
        "Befund: BI-RADS 2.",
        "Auf einer Skala von 0 bis 6 (BI-RADS) ist das Ergebnis 2: gutartig.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "lay-numbering",
        "Zyste Niere links 14 mm. Leber unauffällig.",
        "Es gibt zwei Punkte zu Ihrer Untersuchung. Erstens: an der linken Niere eine 14 mm große Zyste.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "once-the-four-chambers",
        "Echo: LVEF 60 %.",
        "Your heart pumps normally (60 %). All four chambers of the heart look normal.",
        "simplification",
        "en",
        None,
        "numbers",
        "ok",
    ),
    # negative controls: the count or score the source gives is changed
    (
        "score-changed",
        "Impression: PI-RADS 5 lesion, right apex.",
        "The spot was rated PI-RADS 4 out of 5.",
        "simplification",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "count-of-listed",
        "Frakturen der 5. und 6. Rippe rechts.",
        "Vier Rippen rechts sind gebrochen.",
        "simplification",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "count-of-nodules",
        "Three pulmonary nodules, the largest 5 mm.",
        "There are two small nodules in the lungs, the largest 5 mm.",
        "simplification",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "level-changed",
        "Protrusion L5/S1 ohne Wurzelkontakt.",
        "Zwischen L5 und S2 wölbt sich die Bandscheibe leicht vor.",
        "simplification",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "ratio-changed",
        "RV/LV ratio 1.3.",
        "The right heart chamber is larger than the left one (ratio 1.5).",
        "simplification",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
]

# --- dates and vertebral levels written another way ------------------------------------------------------

REFORMAT_ROWS: list[Row] = [
    (
        "level-in-words",
        "Protrusion LWK 4/5 ohne Wurzelkontakt.",
        "Zwischen dem 4. und 5. Lendenwirbel wölbt sich die Bandscheibe leicht vor.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "level-spelled-out",
        "Disc bulge at C5-C6.",
        "The disc between the fifth and sixth neck vertebrae bulges.",
        "simplification",
        "en",
        None,
        "numbers",
        "not review",
    ),
    (
        "month-only",
        "Vergleich mit der Voruntersuchung vom 03.02.2025: größenkonstant.",
        "Im Vergleich zur Untersuchung vom Februar 2025 unverändert.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "date-named",
        "Compared with 07/11/2024.",
        "Verglichen mit der Voruntersuchung vom 7. November 2024.",
        "translation",
        "en",
        "de",
        "numbers",
        "ok",
    ),
    # negative controls
    (
        "level-shifted",
        "Bandscheibenvorfall LWK 4/5 links.",
        "Disc herniation L3/4 on the left.",
        "translation",
        "de",
        "en",
        "numbers",
        "number_changed",
    ),
    (
        "date-shifted",
        "Compared with 07/11/2024.",
        "Verglichen mit der Voruntersuchung vom 7. November 2023.",
        "translation",
        "en",
        "de",
        "numbers",
        "number_changed",
    ),
]

# --- rounding in lay texts -----------------------------------------------------------------------------

ROUNDING_ROWS: list[Row] = [
    (
        "about-2cm",
        "Zyste 18 mm.",
        "Eine etwa 2 cm große Zyste.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "roughly-4cm",
        "Aneurysm 41 mm.",
        "The widening measures roughly 4 cm.",
        "simplification",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "knapp-1l",
        "Pleuraerguss ca. 950 ml.",
        "Es hat sich knapp 1 l Flüssigkeit angesammelt.",
        "simplification",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "no-hedge-other-unit",
        "Gallbladder stone 19 mm.",
        "A gallstone of 2 cm.",
        "simplification",
        "en",
        None,
        "numbers",
        "unchecked",
    ),
    # negative controls: a hedge does not cover a different value, nor a correction's rounding
    (
        "about-but-far",
        "Zyste 12 mm.",
        "Eine etwa 2 cm große Zyste.",
        "simplification",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "same-unit-changed",
        "Aneurysm 41 mm.",
        "The widening measures 44 mm.",
        "simplification",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
    (
        "correction-rounds",
        "Zyste 18 mm.",
        "Zyste etwa 2 cm.",
        "correction",
        "de",
        None,
        "numbers",
        "number_changed",
    ),
]

# --- volume units ---------------------------------------------------------------------------------------

UNIT_ROWS: list[Row] = [
    ("ml-as-cl", "Residual urine 250 mL.", "Restharn 25 cl.", "translation", "en", "de", "numbers", "ok"),
    ("dl-as-ml", "Erguss 3 dl.", "Effusion 300 ml.", "translation", "de", "en", "numbers", "ok"),
    (
        "milliliter-word",
        "Hämatom 40 Milliliter.",
        "Haematoma 40 mL.",
        "translation",
        "de",
        "en",
        "numbers",
        "ok",
    ),
    (
        "ml-to-cl",
        "Ascites about 600 mL.",
        "Aszites etwa 600 cl.",
        "translation",
        "en",
        "de",
        "numbers",
        "unit_changed",
    ),
    (
        "ml-to-dl",
        "Harnblase 450 ml.",
        "Bladder 450 dl.",
        "translation",
        "de",
        "en",
        "numbers",
        "unit_changed",
    ),
    ("cl-to-l", "Erguss 80 cl.", "Erguss 80 l.", "correction", "de", None, "numbers", "unit_changed"),
]

# --- soft counts ("both") never stand in for a written 2 --------------------------------------------------

SOFT_ROWS: list[Row] = [
    (
        "both-and-two",
        "Nieren beidseits 11 cm. Bosniak 2.",
        "Both kidneys 11 cm. Bosniak 2.",
        "translation",
        "de",
        "en",
        "numbers",
        "ok",
    ),
    (
        "beide-and-two",
        "Ovaries normal on both sides. Follicles 2.",
        "Beide Ovarien unauffällig. Follikel 2.",
        "translation",
        "en",
        "de",
        "numbers",
        "ok",
    ),
    (
        "two-dropped",
        "Grade 2 on both sides.",
        "Grad 3 auf beiden Seiten.",
        "translation",
        "en",
        "de",
        "numbers",
        "number_changed",
    ),
]

# --- a typo fix must be the nearest plausible reading --------------------------------------------------

NEAREST_ROWS: list[Row] = [
    (
        "medial-fixed",
        "Riss des Innenmeniskus, Ruptur nach mitial verlagert.",
        "Riss des Innenmeniskus, Ruptur nach medial verlagert.",
        "correction",
        "de",
        None,
        "edit_budget",
        "ok",
    ),
    (
        "posterior-fixed",
        "Fragment displaced posteriro.",
        "Fragment displaced posterior.",
        "correction",
        "en",
        None,
        "edit_budget",
        "ok",
    ),
    (
        "distal-fixed",
        "Fraktur des dostalen Radius.",
        "Fraktur des distalen Radius.",
        "correction",
        "de",
        None,
        "edit_budget",
        "ok",
    ),
    # negative controls: the "fix" chose another direction than the dictated word's nearest reading
    (
        "medial-to-lateral",
        "Sehne nach mitial luxiert.",
        "Sehne nach lateral luxiert.",
        "correction",
        "de",
        None,
        "edit_budget",
        "correction_changed_meaning",
    ),
    (
        "posterior-to-anterior",
        "Fragment displaced posteriro.",
        "Fragment displaced anterior.",
        "correction",
        "en",
        None,
        "edit_budget",
        "correction_changed_meaning",
    ),
    (
        "distal-to-proximal",
        "Fraktur des dostalen Radius.",
        "Fraktur des proximalen Radius.",
        "correction",
        "de",
        None,
        "edit_budget",
        "correction_changed_meaning",
    ),
]

# --- directions: inflected adjectives and sentences aligned by their anchors ---------------------------

DIRECTION_ROWS: list[Row] = [
    (
        "inflected-kept",
        "12 mm lesion in the posterior frontal lobe.",
        "12 mm große Läsion im posterioren Frontallappen.",
        "translation",
        "en",
        "de",
        "laterality",
        "ok",
    ),
    (
        "endplate-kept",
        "Compression of the inferior endplate of L2, 20 %.",
        "Impression der kaudalen Grundplatte von LWK 2, 20 %.",
        "translation",
        "en",
        "de",
        "laterality",
        "ok",
    ),
    (
        "pole-kept",
        "Cyst 25 mm at the upper pole of the left kidney.",
        "Zyste 25 mm am oberen Pol der linken Niere.",
        "translation",
        "en",
        "de",
        "laterality",
        "ok",
    ),
    (
        "lay-kept",
        "Asymmetry in the lower outer quadrant of the right breast, 8 mm.",
        "An 8 mm area in the lower outer part of your right breast looks different.",
        "simplification",
        "en",
        None,
        "laterality",
        "ok",
    ),
    # negative controls
    (
        "inflected-flipped",
        "12 mm lesion in the posterior frontal lobe.",
        "12 mm große Läsion im anterioren Frontallappen.",
        "translation",
        "en",
        "de",
        "laterality",
        "direction_changed",
    ),
    (
        "endplate-flipped",
        "Impression der kranialen Deckplatte von BWK 7, 15 %.",
        "Compression of the caudal endplate of T7, 15 %.",
        "translation",
        "de",
        "en",
        "laterality",
        "direction_changed",
    ),
    (
        "pole-flipped",
        "Cyst 25 mm at the upper pole of the left kidney.",
        "Zyste 25 mm am unteren Pol der linken Niere.",
        "translation",
        "en",
        "de",
        "laterality",
        "direction_changed",
    ),
    (
        "lay-flipped",
        "Asymmetry in the lower outer quadrant of the right breast, 8 mm.",
        "An 8 mm area in the upper outer part of your right breast looks different.",
        "simplification",
        "en",
        None,
        "laterality",
        "direction_changed",
    ),
]

# --- lay direction phrases carry the side --------------------------------------------------------------

LAY_SIDE_ROWS: list[Row] = [
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

ROWS = [
    *SPELLED_ROWS,
    *LAY_COUNT_ROWS,
    *REFORMAT_ROWS,
    *ROUNDING_ROWS,
    *UNIT_ROWS,
    *SOFT_ROWS,
    *NEAREST_ROWS,
    *DIRECTION_ROWS,
    *LAY_SIDE_ROWS,
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_class(row: Row) -> None:
    _run(row)


def test_full_profile() -> None:
    """The whole default profile agrees on a clean correction with spelled numbers and on its error."""
    source = "Stable 6 mm nodule at nine o clock since twenty twenty one. Bi rads two."
    clean = "Stable 6 mm nodule at 9 o'clock since 2021. BI-RADS 2."
    assert check(source, clean, task="correction", lang="en").verdict == "ok"
    wrong = "Stable 6 mm nodule at 9 o'clock since 2012. BI-RADS 2."
    result = check(source, wrong, task="correction", lang="en")
    assert result.verdict == "review" and "number_changed" in {f.stable_code for f in result.flags}
