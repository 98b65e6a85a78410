"""Numbers written in other forms are the same numbers: a 12-hour clock time ("2:20 pm" is 14:20, "12:30 am"
is 0:30), a Roman numeral inside a German compound ("Grad-II-Chondropathie" is grade II), a dictated spinal
level ("el one" is L1), a set of views named by its size ("Kahnbeinquartett" is a four-view series), and a
hedged rounding of a measurement that is not the nearest left-over one in the text ("about 4 cm" for a 4.2 x
1.8 cm collection). So are numbers written as words ("twenty twenty four", "einundvierzig", a score's "one"),
spoken decimals, dates and vertebral levels written another way, sizes by pair ("23 x 14 mm" as "2.3 by 1.4
cm"), Roman numerals and grades with the grade sign ("II°"). Every example is invented for this file; controls
show that a changed value is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._quantities import extract_quantities, spelled_number
from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

READ = [
    ("at 2:20 pm", ("time", 860.0)),
    ("at 9:30 PM", ("time", 1290.0)),
    ("at 12:05 a.m.", ("time", 5.0)),
    ("um 14:20 Uhr", ("time", 860.0)),
    ("Grad-II-Chondropathie", ("count", 2.0)),
    ("Typ-IV-Läsion", ("count", 4.0)),
    ("compression of el one", ("count", 1.0)),
    ("mit Kahnbeinquartett", ("count", 4.0)),
]


@pytest.mark.parametrize(("text", "key"), READ)
def test_number_form_reading(text: str, key: tuple[str, float]) -> None:
    assert [q.keys[0] for q in extract_quantities(text, "de")] == [key]


@pytest.mark.parametrize("text", ["Segment V-VI", "Segment V-VIII", "Grad II-III"])
def test_roman_range_is_no_compound(text: str) -> None:
    """A range of numerals names no compound: the hyphen rule needs a word after the hyphen."""
    assert extract_quantities(text, "de") == []


ROWS: list[Row] = [
    (
        "clock-en-to-de",
        "Discussed with the on-call surgeon at 2:20 pm.",
        "Mit dem diensthabenden Chirurgen um 14:20 Uhr besprochen.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "clock-de-to-en",
        "Telefonisch mitgeteilt um 9:05 Uhr.",
        "Communicated by phone at 9:05 a.m.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "clock-en-midnight",
        "Scan performed at 12:30 am.",
        "Untersuchung um 0:30 Uhr.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "clock-en-changed",
        "Discussed with the on-call surgeon at 2:20 pm.",
        "Mit dem diensthabenden Chirurgen um 2:20 Uhr besprochen.",
        "translation",
        "en",
        "de",
        "number_changed",
    ),
    (
        "roman-de-compound",
        "Knorpel medial: Grad-II-Chondropathie.",
        "Medial cartilage: grade II chondropathy.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "roman-de-type",
        "Typ-III-Fraktur nach Neer.",
        "Neer type III fracture.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "roman-de-stage",
        "Stadium-IV-Erkrankung.",
        "Stage IV disease.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "roman-de-changed",
        "Knorpel medial: Grad-II-Chondropathie.",
        "Medial cartilage: grade III chondropathy.",
        "translation",
        "de",
        "en",
        "number_changed",
    ),
    (
        "level-en-dictated",
        "Wedge compression of el one.",
        "Wedge compression of L1.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "level-en-dictated-c",
        "Fracture of the arch of see one.",
        "Fracture of the arch of C1.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "level-en-dictated-t",
        "Compression of tee one.",
        "Compression of T1.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "level-en-changed",
        "Wedge compression of el one.",
        "Wedge compression of L2.",
        "correction",
        "en",
        None,
        "review",
    ),
    (
        "rounding-en-far",
        "4.2 x 1.8 cm collection in the calf. Incidental 1.5 cm lymph node.",
        "A pocket of fluid about 4 cm long in the calf. A small 1.5 cm lymph node.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "rounding-de-far",
        "Erguss 3,8 x 2,1 cm. Zusätzlich Lymphknoten 9 mm.",
        "Flüssigkeit von etwa 4 cm. Zusätzlich ein Lymphknoten von 9 mm.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "rounding-en-too-far",
        "4.2 x 1.8 cm collection in the calf. Incidental 1.5 cm lymph node.",
        "A pocket of fluid about 6 cm long in the calf. A small 1.5 cm lymph node.",
        "simplification",
        "en",
        None,
        "number_changed",
    ),
    # A set of views named by its size ("Kahnbeinquartett") is the count of the views.
    (
        "series-de-en",
        "Röntgen Handgelenk rechts mit Kahnbeinquartett. Keine Fraktur.",
        "Radiographs of the right wrist with a four-view scaphoid series. No fracture.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "series-en-de",
        "Right wrist radiographs, four-view scaphoid series. No fracture.",
        "Röntgen Handgelenk rechts, Skaphoidquartett. Keine Fraktur.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "series-de-simplification",
        "Handgelenk links mit Kahnbeinquartett: keine Fraktur.",
        "Ihr linkes Handgelenk wurde in vier Ansichten geröntgt. Es ist nichts gebrochen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "series-de-en-changed",
        "Röntgen Handgelenk rechts mit Kahnbeinquartett. Keine Fraktur.",
        "Radiographs of the right wrist with a six-view scaphoid series. No fracture.",
        "translation",
        "de",
        "en",
        "number_added",
    ),
    # A changed date is a changed number, not a changed unit.
    (
        "date-changed",
        "Vergleich mit der Voruntersuchung vom 20.03.2026. Läsion 14 mm.",
        "Vergleich mit der Voruntersuchung vom 20.08.2026. Läsion 14 mm.",
        "correction",
        "de",
        None,
        "number_changed",
    ),
    # Dictation: spoken decimals written as numbers; another number is still a change.
    (
        "spoken-decimal-en",
        "There is a 2 point 3 centimeter lesion in the right kidney period.",
        "There is a 2.3 cm lesion in the right kidney.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "spoken-decimal-de",
        "Läsion von 2 Komma 3 Zentimeter in der rechten Niere Punkt",
        "Läsion von 2,3 cm in der rechten Niere.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "spoken-decimal-changed",
        "There is a 2 point 3 centimeter lesion in the right kidney period.",
        "There is a 3.2 cm lesion in the right kidney.",
        "correction",
        "en",
        None,
        "number_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_number_form_rows(row: Row) -> None:
    assert_row(row)


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


QUANTITIES = [
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
    # Grades with the grade sign.
    ("Harnstau II°", "de", [("count", 2.0)]),
    ("vesikoureteraler Reflux IV° links", "de", [("count", 4.0)]),
    ("hydronephrosis III°", "en", [("count", 3.0)]),
    ("Grad II°", "de", [("count", 2.0)]),
    # controls: an angle stays an angle, words ending in a numeral letter are no numerals
    ("Winkel 30°", "de", [("angle", 30.0)]),
    ("Die Niere ist i. O.", "de", []),
    ("taxi°", "en", []),
    # "one" after a score name.
    ("Simple cyst of the right kidney (Bosniak one).", "en", [("count", 1.0)]),
    ("Zyste Bosniak eins", "de", [("count", 1.0)]),
    ("Kellgren-Lawrence grade one", "en", [("count", 1.0)]),
    ("Tanner-Stadium eins", "de", [("count", 1.0)]),
    ("stage two", "en", [("count", 2.0)]),
    # controls: "one"/"eins" without a score name is an article or pronoun
    ("one small cyst in the left kidney", "en", []),
    ("the larger one is 12 mm", "en", [("length", 12.0)]),
    ("eins der Gefäße", "de", []),
]


@pytest.mark.parametrize(("text", "lang", "found"), QUANTITIES)
def test_quantities(text: str, lang: str, found: list[tuple[str, float]]) -> None:
    assert [(q.dim, round(q.base, 4)) for q in extract_quantities(text, lang)] == found


CHECKED: list[CheckedRow] = [
    # Numbers written as words.
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
    # Dates and vertebral levels written another way.
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
    # Measurements by pair and Roman numerals.
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
    # Grades with the grade sign.
    (
        "grade-sign-twice",
        "Niere links: Harnstau Grad II. Beurteilung: Urolithiasis links mit Harnstau II°.",
        "Left kidney: grade II hydronephrosis. Impression: left urolithiasis with grade II hydronephrosis.",
        "translation",
        "de",
        "en",
        "numbers",
        "not review",
    ),
    (
        "grade-sign-en",
        "Left kidney: hydronephrosis grade III. Impression: hydronephrosis III°.",
        "Niere links: Harnstau Grad III. Beurteilung: Harnstau Grad III.",
        "translation",
        "en",
        "de",
        "numbers",
        "not review",
    ),
    (
        "grade-sign-control",
        "Niere links: Harnstau II°.",
        "Left kidney: grade III hydronephrosis.",
        "translation",
        "de",
        "en",
        "numbers",
        "number_changed",
    ),
    # A score's number in words.
    (
        "word-to-roman-en",
        "Left kidney: simple cyst 22 mm (Bosniak one). No hydronephrosis.",
        "Left kidney: simple cyst 22 mm (Bosniak I). No hydronephrosis.",
        "correction",
        "en",
        None,
        "numbers",
        "ok",
    ),
    (
        "roman-to-word-de",
        "Rechte Niere: Zyste 15 mm, Bosniak I.",
        "Rechte Niere: Zyste 15 mm, Bosniak eins.",
        "correction",
        "de",
        None,
        "numbers",
        "ok",
    ),
    (
        "word-translated",
        "Gonarthrose rechts, Kellgren-Lawrence Grad eins.",
        "Right knee osteoarthritis, Kellgren-Lawrence grade I.",
        "translation",
        "de",
        "en",
        "numbers",
        "not review",
    ),
    (
        "word-one-control",
        "Left kidney: simple cyst 22 mm (Bosniak one).",
        "Left kidney: simple cyst 22 mm (Bosniak II).",
        "correction",
        "en",
        None,
        "numbers",
        "number_changed",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_number_form_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)


def test_full_profile() -> None:
    """The whole default profile agrees on a clean correction with spelled numbers and on its error."""
    source = "Stable 6 mm nodule at nine o clock since twenty twenty one. Bi rads two."
    clean = "Stable 6 mm nodule at 9 o'clock since 2021. BI-RADS 2."
    assert check(source, clean, task="correction", lang="en").verdict == "ok"
    wrong = "Stable 6 mm nodule at 9 o'clock since 2012. BI-RADS 2."
    result = check(source, wrong, task="correction", lang="en")
    assert result.verdict == "review" and "number_changed" in {f.stable_code for f in result.flags}
