"""Table-driven tests of the fourth round's rules (issue 11): side headings, hedges through implied
findings, generic findings, dictation punctuation, compound fixes, scales, umbrella sides, directions
per organ, narrower denials and abstention where the vocabulary reads two texts differently.

Each rule has a row that must flag (or must be unsure) and a control row that must not.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_expected

BREASTS = (
    "Right breast:\n6 mm spiculated mass in the upper outer quadrant.\nLeft breast:\nBenign calcification."
)

# (name, source, output, task, lang, target_lang, expected): expected is "ok", "unchecked", or the
# stable code of a major flag that must be raised (verdict review).
CASES = [
    # A side given as a heading carries to the lines below it.
    (
        "heading-en-swapped",
        BREASTS,
        "In the left breast there is a 6 mm lump with spiky edges in the upper outer part.",
        "simplification",
        "en",
        None,
        "side_changed",
    ),
    (
        "heading-en-kept",
        BREASTS,
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
    # A hedged finding does not support a certain, more specific one ("DD" -> "sicher").
    (
        "dd-to-certain-specific",
        "Transparenzminderung rechts basal, DD Infiltrat, DD Atelektase.",
        "Rechts unten ist die Lunge schlechter belüftet, das ist sicher eine Lungenentzündung.",
        "simplification",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "dd-kept-hedged",
        "Transparenzminderung rechts basal, DD Infiltrat, DD Atelektase.",
        "Rechts unten ist die Lunge schlechter belüftet, möglicherweise eine Lungenentzündung.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # A generic "suspicious" is compared at its own organ only.
    (
        "generic-other-organ",
        "Keine suspekten Lymphknoten. Läsion in der Leber.",
        "Suspekte Läsion in der Leber.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "generic-same-organ",
        "Keine suspekten Lymphknoten.",
        "Suspekte Lymphknoten.",
        "summary",
        "de",
        None,
        "negation_changed",
    ),
    # The hedge inside a compound belongs to the finding it starts with, not to "verdächtig" itself.
    (
        "in-word-suspicion-translated",
        "Malignitätsverdächtiger Rundherd im rechten Oberlappen.",
        "Nodule in the right upper lobe, suspicious for malignancy.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    # "nicht gefunden", "nicht nach einem Tumor", "staut sich kein Urin" are denials.
    (
        "not-found-de",
        "Kein Appendikolith.",
        "Ein Kotstein im Wurmfortsatz wurde nicht gefunden.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "found-de",
        "Kein Appendikolith.",
        "Ein Kotstein im Wurmfortsatz wurde gefunden.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "not-after-preposition",
        "Entzündung, kein Tumor.",
        "Das sieht nach einer Entzündung aus, nicht nach einem Tumor.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "verb-before-kein",
        "Nieren bds. ohne Harnstau.",
        "In den Nieren staut sich kein Urin.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "verb-affirmed",
        "Nieren bds. ohne Harnstau.",
        "In den Nieren staut sich der Urin.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    # "fehlende X" denies X, not the finding before it.
    (
        "fehlende-is-local",
        "Vordere Kreuzbandruptur mit fehlender Kontinuität der Fasern.",
        "Vordere Kreuzbandruptur.",
        "summary",
        "de",
        None,
        "ok",
    ),
    # Dictated punctuation and split compounds are no edits; a swapped direction part is.
    (
        "dictation-punctuation",
        "Galea Hämatom rechts parietal von 12 mm Dicke Punkt Keine Mittellinien Verlagerung Punkt "
        "Keine Fraktur Punkt Keine Blutung Punkt",
        "Galeahämatom rechts parietal von 12 mm Dicke. Keine Mittellinienverlagerung. Keine Fraktur. "
        "Keine Blutung.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "split-compound-en",
        "No pseudo cyst period. The gall bladder contains small stones period.",
        "No pseudocyst. The gallbladder contains small stones.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "inflection-not-negation",
        "Fraglich kleine Hämangiom im Wirbelkörper.",
        "Fraglich kleines Hämangiom im Wirbelkörper.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "compound-direction-swapped",
        "Fraktur des Innenknöchels, nicht disloziert. Sprunggelenksgabel kongruent.",
        "Fraktur des Außenknöchels, nicht disloziert. Sprunggelenksgabel kongruent.",
        "correction",
        "de",
        None,
        "correction_changed_meaning",
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
    # Directions are compared per finding and organ.
    (
        "direction-per-organ",
        "Spiralfraktur der distalen Tibia. Fraktur der proximalen Fibula.",
        "Spiral fracture of the distal tibia. Fracture of the distal fibula.",
        "translation",
        "de",
        "en",
        "direction_changed",
    ),
    (
        "direction-per-organ-kept",
        "Spiralfraktur der distalen Tibia. Fraktur der proximalen Fibula.",
        "Spiral fracture of the distal tibia. Fracture of the proximal fibula.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    # A denied narrower compound says nothing about the broader finding.
    (
        "narrower-denial",
        "Pneumothorax rechts, deutlich regredient. Kein Spannungszeichen.",
        "Pneumothorax rechts rückläufig, kein Spannungspneumothorax.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "broader-denial",
        "Pneumothorax rechts, deutlich regredient.",
        "Kein Pneumothorax rechts.",
        "summary",
        "de",
        None,
        "negation_changed",
    ),
    # A hedge the source has in the same sentence, on another word: unsure, not a flag.
    (
        "hedge-moved",
        "Mildly enlarged left lymph node, likely reactive.",
        "The lymph node on the left is most likely swollen because it is reacting.",
        "simplification",
        "en",
        None,
        "unchecked",
    ),
    (
        "hedge-added",
        "Mildly enlarged left lymph node.",
        "The lymph node on the left is most likely swollen.",
        "simplification",
        "en",
        None,
        "certainty_changed",
    ),
]


@pytest.mark.parametrize(
    ("name", "source", "output", "task", "lang", "target", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_round4(
    name: str, source: str, output: str, task: str, lang: str, target: str | None, expected: str
) -> None:
    assert_expected(source, output, task, lang, target, expected)
