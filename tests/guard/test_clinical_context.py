"""The clinical context ("Indikation:", "Anamnese:", "Hx:") tells what was known before the study: a
disease named only there ("Indikation: Prostatakarzinom, Staging") may be there still or gone, so an
output calling it present ("Bei Ihnen ist ein Prostatakrebs bekannt", "Staging bei Mammakarzinom") or
past is not compared with it; an output's own context line is no finding either. The study's findings
are still compared. Every example is invented for this file; controls show that a flip or a hedge made
definite in the findings is still caught beside a context line.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "staging-de-summary",
        "Indikation: Mammakarzinom rechts, Staging.\nBefund: Keine Lebermetastasen. Leber sonst unauffällig.",
        "Staging bei Mammakarzinom rechts: keine Lebermetastasen.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "aftercare-de-simplification",
        "Anamnese: Z. n. Hemikolektomie rechts 2022 bei Kolonkarzinom, Nachsorge.\n"
        "Befund: Kein Hinweis auf ein Lokalrezidiv. Keine Lebermetastasen.",
        "Bei Ihnen wurde 2022 ein Darmkrebs operiert. Die Untersuchung dient der Nachsorge. Es gibt keinen "
        "Hinweis, dass der Krebs zurückgekommen ist, und keine Absiedlungen in der Leber.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "surveillance-en-simplification",
        "Hx: Prostate cancer, Gleason 3+3, on active surveillance.\n"
        "Findings: Stable 6 mm PI-RADS 3 lesion in the left peripheral zone. No extraprostatic extension.",
        "Your slow-growing prostate cancer (Gleason 3+3) is being watched closely. The 6 mm spot on the "
        "left is unchanged (PI-RADS 3). It has not grown outside the prostate.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "hx-en-translation",
        "Hx: Lung cancer, new headache.\nFindings: No intracranial metastases.",
        "Anamnese: Lungenkarzinom, neue Kopfschmerzen.\nBefund: Keine intrakraniellen Metastasen.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    # Controls: the findings of the study are compared as before.
    (
        "metastases-de-flip",
        "Anamnese: Z. n. Mammakarzinom rechts.\nBefund: Keine Lebermetastasen.",
        "Anamnese: Z. n. Mammakarzinom rechts.\nBefund: Lebermetastasen.",
        "summary",
        "de",
        None,
        "negation_changed",
    ),
    (
        "metastasis-en-made-definite",
        "History: breast cancer.\nFindings: Lytic lesion in T8, likely a metastasis.",
        "History: breast cancer. Findings: T8 metastasis.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "old-fracture-en-made-present",
        "Clinical history: fall.\nFindings: Old healed fracture of the left seventh rib.",
        "Clinical history: fall.\nFindings: Fracture of the left seventh rib.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_clinical_context_rows(row: Row) -> None:
    assert_row(row)


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Hx: Breast cancer, new back pain.", "en"), ("Indikation: Prostatakarzinom, Staging.", "de")],
)
def test_context_heading_is_history(text: str, lang: str) -> None:
    """ "Hx:" is a history heading like "Indikation:": its line is the clinical context."""
    doc = Analysis(text, lang)
    assert set(doc.context.values()) == {"history"}
