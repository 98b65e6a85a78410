"""Numbers written in other forms are the same numbers: a 12-hour clock time ("2:20 pm" is 14:20, "12:30
am" is 0:30), a Roman numeral inside a German compound ("Grad-II-Chondropathie" is grade II), a dictated
spinal level ("el one" is L1), a set of views named by its size ("Kahnbeinquartett" is a four-view
series), and a hedged rounding of a measurement that is not the nearest left-over one in the text
("about 4 cm" for a 4.2 x 1.8 cm collection). Every example is invented for this file; controls show
that a changed value is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._quantities import extract_quantities
from tests.guard.rule_rows import Row, assert_row

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
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_number_form_rows(row: Row) -> None:
    assert_row(row)
