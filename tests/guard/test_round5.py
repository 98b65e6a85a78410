"""Table-driven tests of the fifth round's rules (issue 11): a change is sure only where the two
statements are anchored to each other (organ, side, direction, numbers); doubts about what is not
actionable are shown, not withheld; dictation homophones and spoken decimals; directions inside German
compounds; history in a word ("postthrombotisch") and in an indication ("nach Luxation.").

Each rule has a row that must flag (or must be unsure) and a control row that must not.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.conftest import assert_expected

KNEE = "MRI right knee. Tear of the lateral meniscus. The medial meniscus is intact. No fracture."

# (name, source, output, task, lang, target_lang, expected): expected is "ok", "unchecked", or the
# stable code of a major flag that must be raised (verdict review).
CASES = [
    # Statements about different organs, found through the concept alone, are about different things.
    (
        "other-organ-denial",
        "Gallbladder distended, wall 5 mm. CBD 4 mm.",
        "Distended gallbladder. No bile duct dilatation.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "same-organ-denial",
        "Gallbladder distended, wall 5 mm. CBD 4 mm.",
        "The gallbladder is not distended.",
        "summary",
        "en",
        None,
        "negation_changed",
    ),
    # A statement about the opposite direction is not compared ("medial" vs "lateral meniscus").
    (
        "opposite-direction-kept",
        KNEE,
        "The outer meniscus of your right knee is torn. The inner meniscus is not torn. No bone is broken.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "same-direction-flipped",
        KNEE,
        "The outer meniscus of your right knee is not torn. The inner meniscus is intact. No bone is broken.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    # Found through the concept alone, with an organ or side on one side only and none shared: unsure.
    (
        "unanchored-unsure",
        "MRT Kniegelenk rechts. Ruptur des vorderen Kreuzbandes.",
        "Das vordere Kreuzband ist gerissen. Links ist nichts verletzt.",
        "simplification",
        "de",
        None,
        "unchecked",
    ),
    (
        "global-denial-flipped",
        "CT chest. No pneumothorax.",
        "There is a pneumothorax.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    # Output statements that keep the source's, one for one, answer it; a further one is something else.
    (
        "answered-one-for-one",
        "Left ethmoid sinusitis. No intracranial extension.",
        "The left sinusitis has spread into the eye socket. It has not spread into the skull.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "repeated-denial-one-flipped",
        "Akuter Infarkt links. Keine Einblutung.\nBeurteilung: Akuter Infarkt links ohne Einblutung.",
        "Frischer Schlaganfall links. Es hat hineingeblutet.\nErgebnis: Schlaganfall links ohne Blutung.",
        "simplification",
        "de",
        None,
        "negation_changed",
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
    # A measurement that keeps its side aligns the sentence: the organ word is vocabulary, not a change.
    (
        "side-held-by-measurement",
        "A 15 mm lesion in the right parietal lobe. A 6 mm lesion in the left cerebellar hemisphere.",
        "A 15 mm spot in the right side of the brain. A 6 mm spot in the left side of the brain.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "side-against-measurement",
        "A 15 mm lesion in the right parietal lobe. A 6 mm lesion in the left cerebellar hemisphere.",
        "A 15 mm spot in the left side of the brain. A 6 mm spot in the left side of the brain.",
        "simplification",
        "en",
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
    # A new finding that is not actionable, under doubt, is shown (minor); an actionable one is not checked.
    (
        "new-minor-finding-shown",
        "Right testis 4.2 cm with normal echotexture. Small left hydrocele.",
        "Der rechte Hoden misst 4,2 cm mit normaler Echotextur und Durchblutung. Kleine Hydrozele links.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "new-actionable-finding",
        "Right testis 4.2 cm with normal echotexture. Small left hydrocele.",
        "Rechter Hoden 4,2 cm, normale Echotextur. Kleine Hydrozele links. Abszess im linken Hoden.",
        "translation",
        "en",
        "de",
        "new_finding",
    ),
    # Dictation: "know" for "no" where the correction writes "no"; a dropped "no" is still a flip.
    (
        "homophone-know",
        "Know abnormal enhancement period.",
        "No abnormal enhancement.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "negation-dropped",
        "No abnormal enhancement period.",
        "Abnormal enhancement.",
        "correction",
        "en",
        None,
        "negation_changed",
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
    # Directions inside German compounds ("Außen|meniskus", "Deck|platte").
    (
        "compound-direction-swapped",
        "Radial tear of the posterior horn of the medial meniscus.",
        "Radiärriss des Hinterhorns des Außenmeniskus.",
        "translation",
        "en",
        "de",
        "direction_changed",
    ),
    (
        "compound-direction-kept",
        "Radial tear of the posterior horn of the medial meniscus.",
        "Radiärriss des Hinterhorns des Innenmeniskus.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "endplate-lay-swapped",
        "Frische Deckplattenimpressionsfraktur von BWK 12.",
        "Der 12. Brustwirbel ist frisch gebrochen: seine untere Platte ist eingedrückt.",
        "simplification",
        "de",
        None,
        "direction_changed",
    ),
    (
        "endplate-lay-kept",
        "Frische Deckplattenimpressionsfraktur von BWK 12.",
        "Der 12. Brustwirbel ist frisch gebrochen: seine obere Platte ist eingedrückt.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # History: a dropped "Z. n." is caught although the source also says "postthrombotisch".
    (
        "z-n-dropped",
        "Z. n. Beinvenenthrombose (2024), jetzt rekanalisiert mit postthrombotischen Wandverdickungen.",
        "Deep vein thrombosis (2024), now recanalised with post-thrombotic wall thickening.",
        "translation",
        "de",
        "en",
        "certainty_changed",
    ),
    (
        "z-n-kept",
        "Z. n. Beinvenenthrombose (2024), jetzt rekanalisiert mit postthrombotischen Wandverdickungen.",
        "History of deep vein thrombosis (2024), now recanalised with post-thrombotic wall thickening.",
        "translation",
        "de",
        "en",
        "ok",
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


@pytest.mark.parametrize(
    ("name", "source", "output", "task", "lang", "target", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_round5(
    name: str, source: str, output: str, task: str, lang: str, target: str | None, expected: str
) -> None:
    assert_expected(source, output, task, lang, target, expected)


# (text, lang, word, level): certainty levels read from a word's head or an indication.
LEVELS = [
    ("Wandverdickung, postthrombotisch.", "de", "postthrombotisch", "historical"),
    ("Posterolaterale Fraktur.", "de", "fraktur", "present"),
    ("Post-thrombotic changes.", "en", "thrombotic", "historical"),
    ("MRT der Schulter nach Luxation.", "de", "luxation", "historical"),
    ("Fragment 3 mm nach dorsal disloziert.", "de", "disloziert", "present"),
    ("MRI of the knee following a twisting injury.", "en", "injury", "historical"),
    ("Pneumothorax after biopsy.", "en", "pneumothorax", "present"),
]


@pytest.mark.parametrize(
    ("text", "lang", "word", "level"), LEVELS, ids=[row[2] + "-" + row[3] for row in LEVELS]
)
def test_levels_from_word_heads_and_indications(text: str, lang: str, word: str, level: str) -> None:
    doc = Analysis(text, lang)
    found = [
        m for m in doc.mentions if m.kind == "F" and word in doc.lower[max(0, m.start - 10) : m.end + 12]
    ]
    assert found, [m.word for m in doc.mentions]
    assert doc.level(found[0]) == level
