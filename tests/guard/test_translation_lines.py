"""A translation keeps the lines of its report: where source and output have as many lines, each output
line may only name sides its source line names, whatever words carry them. This catches a side changed
on an organ the rest of the report names on both sides ("Recall ... ultrasound of the right breast" ->
"Sonographie der linken Brust"), where the anchors cannot.

Every example is invented for this file; controls: a faithful translation with both sides in one line, a
bound side ("Rechtsherzbelastung"), and a restructured translation (other line count) are not flagged.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "recall-side-en-de",
        "Mammogram, bilateral.\nRight breast: 9 mm irregular mass at 10 o'clock.\nLeft breast: benign "
        "calcifications.\nImpression: BI-RADS 0. Recall for ultrasound of the right breast.",
        "Mammographie beidseits.\nRechte Brust: 9 mm unregelmäßiger Herd bei 10 Uhr.\nLinke Brust: benigne "
        "Verkalkungen.\nBeurteilung: BI-RADS 0. Wiedereinbestellung zur Sonographie der linken Brust.",
        "translation",
        "en",
        "de",
        "side_changed",
    ),
    (
        "knee-side-de-en",
        "MRT beider Kniegelenke.\nRechts: Innenmeniskushinterhornriss.\nLinks: Meniskus intakt.\n"
        "Beurteilung: Arthroskopie rechts empfohlen.",
        "MRI of both knees.\nRight: tear of the posterior horn of the medial meniscus.\nLeft: meniscus "
        "intact.\nImpression: arthroscopy of the left knee recommended.",
        "translation",
        "de",
        "en",
        "side_changed",
    ),
    (
        "hip-side-en-de",
        "Pelvis XR.\nBoth hips: joint spaces preserved.\nPlan: follow-up of the left hip in 6 months.",
        "Röntgen Becken.\nBeide Hüften: Gelenkspalt erhalten.\nProcedere: Verlaufskontrolle der "
        "rechten Hüfte in 6 Monaten.",
        "translation",
        "en",
        "de",
        "side_changed",
    ),
    # Controls: faithful translations.
    (
        "control-both-sides-line",
        "Mammogram, bilateral.\nRight breast: 9 mm mass; left breast: benign calcifications.\nImpression: "
        "recall for ultrasound of the right breast.",
        "Mammographie beidseits.\nRechte Brust: 9 mm Herd; linke Brust: benigne Verkalkungen.\n"
        "Beurteilung: Wiedereinbestellung zur Sonographie der rechten Brust.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "control-bound-side",
        "CT-Angiographie.\nLungenarterienembolie rechts.\nKeine Rechtsherzbelastung.",
        "CT angiography.\nRight pulmonary embolism.\nNo right heart strain.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "control-restructured",
        "Mammographie beidseits. Rechte Brust: 9 mm Herd.\nLinke Brust: unauffällig.",
        "Bilateral mammogram.\nRight breast: 9 mm mass.\nLeft breast: unremarkable.",
        "translation",
        "de",
        "en",
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_translation_lines(row: Row) -> None:
    assert_row(row)
