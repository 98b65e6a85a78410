"""Counts and scales said in lay words are no measurements: "two knots", "on a scale of five", lay
numbering, "once ... the four chambers"; a lay text may explain a scale. A soft count ("both", "beide")
never stands in for a written 2. The count or score the source gives, changed, is still a changed number.

Every example is invented for the guard's tests; controls show each changed count or score caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

ROWS: list[Row] = [
    # Lay text may explain a scale; a changed score is still a changed number.
    (
        "scale-explained",
        "Läsion, PI-RADS 4.",
        "Ein Fleck, auf einer Skala von 1 bis 5 eine 4.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "score-changed",
        "Läsion, PI-RADS 4.",
        "Ein Fleck, auf einer Skala von 1 bis 5 eine 3.",
        "simplification",
        "de",
        None,
        "number_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_count_and_scale_rows(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    # Lay counts, numbering and explained scales are no measurements.
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
    # Soft counts ("both") never stand in for a written 2.
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


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_count_and_scale_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)
