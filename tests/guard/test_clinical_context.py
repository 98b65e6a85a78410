"""The clinical context ("Indikation:", "Anamnese:", "Hx:") tells what was known before the study: a disease
named only there ("Indikation: Prostatakarzinom, Staging") may be there still or gone, so an output calling it
present ("Bei Ihnen ist ein Prostatakrebs bekannt", "Staging bei Mammakarzinom") or past is not compared with
it; an output's own context line is no finding either. The study's findings are still compared. A question (a
lay heading "Is it bleeding?", "Fragestellung:", "?pneumonia") asks and states no finding; a reason for the
study in the output ("done because of") states no level of its own; an indication "nach Luxation" is history a
summary may leave out. Every example is invented for this file; controls show that a flip or a hedge made
definite in the findings is still caught beside a context line.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.conftest import assert_asked, assert_level
from tests.guard.rule_rows import Row, assert_confident_change, assert_row

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
    # A question ("Is it bleeding?", a clinical question) states no finding.
    (
        "question-en-lay-heading",
        "Small renal cyst. No haemorrhage.",
        "Is it bleeding? No, there is no bleeding. There is a small harmless cyst in the kidney.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "question-de-lay-heading",
        "Kleine Nierenzyste. Kein Abszess.",
        "Ist es ein Krebs? Nein. In der Niere liegt eine kleine harmlose Zyste.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "question-de-indication",
        "Fragestellung: Pneumothorax? Befund: Kein Pneumothorax. Lunge frei.",
        "Kein Pneumothorax.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "question-en-control",
        "No pneumothorax.",
        "Is there a pneumothorax? Yes, there is a pneumothorax.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    # Clinical context lines: a question is not compared, history is historical.
    (
        "context-de-question",
        "Klinik: Husten, Frage nach Pneumonie.\nBefund: Kein Infiltrat. Kein Erguss.",
        "Clinical information: cough, ?pneumonia.\nFindings: No consolidation. No effusion.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "context-en-indication",
        "Indication: follow-up after right nephrectomy for renal cell carcinoma 2019.\n"
        "Findings: No mass in the renal bed. No lymphadenopathy.",
        "Indikation: Nachsorge nach Nephrektomie rechts bei Nierenzellkarzinom 2019.\n"
        "Befund: Keine Raumforderung in der Nierenloge. Keine Lymphadenopathie.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "context-en-rule-out",
        "Clinical details: fall, r/o fracture.\nFindings: No fracture of the wrist.",
        "Summary: no fracture of the wrist.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "context-de-fragestellung",
        "Fragestellung: Lungenembolie.\nBefund: Keine Lungenembolie. Kein Erguss.",
        "Es gibt kein Blutgerinnsel in den Lungengefäßen und keine Flüssigkeit um die Lunge.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # Control: a finding of this study that the output flips is still caught beside a context line.
    (
        "context-control-finding",
        "Clinical information: cough, ?pneumonia.\nFindings: Consolidation in the right lower lobe.",
        "Klinische Angaben: Husten, Frage nach Pneumonie.\nBefund: Kein Infiltrat im rechten Unterlappen.",
        "translation",
        "en",
        "de",
        "negation_changed",
    ),
    # An indication "nach Luxation." is history: a summary may leave it out, not a current dislocation.
    (
        "indication-history-dropped",
        "MRT der Schulter links nach Luxation. Hill-Sachs-Delle. Keine Luxation.",
        "Beurteilung: Hill-Sachs-Delle links, Schulter aktuell reponiert.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "current-dislocation-dropped",
        "MRT der Schulter links. Luxation des Humeruskopfes nach anterior. Hill-Sachs-Delle.",
        "Beurteilung: Hill-Sachs-Delle links.",
        "summary",
        "de",
        None,
        "omission",
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


LEVELS = [
    ("Indikation: Nachsorge nach Mammakarzinom links.", "de", "carcinoma", "historical"),
    (
        "Clinical history:\npulmonary embolism in 2020.\n\nFindings: normal.",
        "en",
        "pulmonary_embolism",
        "historical",
    ),
    ("Anamnese:\nLungenembolie 2020.\n\nBefund: unauffällig.", "de", "pulmonary_embolism", "historical"),
    ("Befund: Infiltrat rechts.", "de", "infiltrate", "present"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_context_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)


QUESTIONS = [
    # Only a finding inside a question is "asked"; the answer after it is stated.
    ("Is it leaking? No.", "en", True),
    ("Fragestellung: Fraktur?", "de", True),
    ("Was wurde gefunden? Eine Fraktur.", "de", False),
    ("The fracture is healed.", "en", False),
    # A finding under a question heading is asked; the first one found is tested.
    ("Klinik: Fieber, Frage nach Pneumonie.", "de", True),
    ("Clinical information: fever, ?pneumonia.", "en", True),
    ("Clinical question: fracture.", "en", True),
    ("Fragestellung:\nFraktur.\n\nBefund: Keine Fraktur.", "de", True),
    ("Befund: Pneumonie im Unterlappen.", "de", False),
    ("Findings: fracture of the radius.", "en", False),
]


@pytest.mark.parametrize(("text", "lang", "asked"), QUESTIONS)
def test_questions(text: str, lang: str, asked: bool) -> None:
    assert_asked(text, lang, asked)


REASONS = [
    # A reason for the study in the output ("done because of") states no level of its own.
    (
        "Clinical: recurrent pneumonia.\nNo consolidation.",
        "The X-ray was done because of your repeated pneumonia. The lungs are clear.",
        "en",
        "simplification",
        False,
    ),
    (
        "History: prior stroke.\nNo acute infarct.",
        "This scan was performed because of your earlier stroke. There is no new stroke.",
        "en",
        "simplification",
        False,
    ),
    (
        "Klinik: rezidivierende Harnwegsinfekte.\nKein Harnstau.",
        "Die Untersuchung wurde wegen Ihrer wiederholten Harnwegsinfekte gemacht. Kein Harnstau.",
        "de",
        "simplification",
        False,
    ),
    # Control: outside a reason, a history stated as present is still caught.
    (
        "Clinical: prior pneumonia.\nNo consolidation.",
        "You have pneumonia now.",
        "en",
        "simplification",
        True,
    ),
]


@pytest.mark.parametrize(("source", "output", "lang", "task", "flagged"), REASONS)
def test_reason_states_no_level(source: str, output: str, lang: str, task: str, flagged: bool) -> None:
    assert_confident_change(source, output, lang, task, flagged)
