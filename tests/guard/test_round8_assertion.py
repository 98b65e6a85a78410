"""Table-driven tests of the eighth round's assertion rules (issue 11): structures, not words.

Each class of false alarm or miss seen on batch12 has at least three sentences written for these tests
(not taken from the batches), in German and English where the class applies, and a control row showing
that the real error of that class is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard._statements import _findings
from medvault.guard._text import Analysis
from tests.guard.conftest import assert_expected, assert_reading

# (name, source, output, task, lang, target_lang, expected): expected is "ok", "unchecked", or the
# stable code of a major flag that must be raised (verdict review).
CASES = [
    # --- A procedure word before a hyphen names a treatment, not a finding ("Thrombektomie-Kandidat").
    (
        "procedure-hyphen-de",
        "Verschluss der A. cerebri media rechts. Kandidat für eine Thrombektomie.",
        "Verschluss der A. cerebri media rechts. Thrombektomie-Kandidat.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "procedure-hyphen-en-de",
        "Occlusion of the right middle cerebral artery. Candidate for thrombectomy.",
        "Verschluss der rechten A. cerebri media. Thrombektomie-Kandidat.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "procedure-hyphen-control",
        "Occlusion of the right middle cerebral artery. Candidate for thrombectomy.",
        "Verschluss der rechten A. cerebri media durch einen Thrombus. Thrombektomie-Kandidat.",
        "translation",
        "en",
        "de",
        "new_finding",
    ),
    # --- A joint's Greek or Latin name before "arthrose" says where, not what kind: the denial of the
    # main joint's wear is the source's denial of the joint's arthrosis, not a flip of another joint's.
    (
        "joint-name-de-shoulder",
        "AC-Gelenksarthrose mit Osteophyten. Keine Omarthrose.",
        "Das Hauptgelenk zeigt keinen Verschleiß. Am Schultereckgelenk gibt es Verschleiß.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "joint-name-de-knee",
        "Retropatellararthrose. Keine Gonarthrose.",
        "Hinter der Kniescheibe gibt es Verschleiß. Das Gelenk selbst zeigt keinen Verschleiß.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "joint-name-en-shoulder",
        "Acromioclavicular joint osteoarthritis. No omarthrosis.",
        "The small shoulder joint at the collarbone shows wear and tear. The main joint shows no arthrosis.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "joint-name-de-control",
        "Ausgeprägte Omarthrose.",
        "Das Hauptgelenk zeigt keinen Verschleiß.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    # --- Narrowing written as the noun "Enge" is a stenosis: "eingeengt" rewords it.
    (
        "narrowing-de-subacromial",
        "Subakromiale Enge mit Bursitis.",
        "Der Raum unter dem Schulterdach ist eingeengt, der Schleimbeutel ist entzündet.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "narrowing-de-canal",
        "LWK 4/5: relative Enge des Spinalkanals durch Protrusion.",
        "Zwischen dem vierten und fünften Lendenwirbel ist der Wirbelkanal durch eine Vorwölbung eingeengt.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "narrowing-de-foramen",
        "Foraminale Enge C5/6 links.",
        "Bei C5/6 ist das Nervenaustrittsloch links eingeengt.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # --- Growth as a change in size ("slight growth") is progression, not a new mass.
    (
        "growth-en-slight",
        "Fibroadenoma 17 mm, compared with 15 mm: slight growth.",
        "The fibroadenoma measures 17 mm; it has grown a little since it measured 15 mm.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "growth-en-interval",
        "Hepatic cyst 3 cm with interval growth.",
        "The cyst in the liver is 3 cm and has grown.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "growth-de",
        "Zyste der linken Niere, 25 mm, geringes Größenwachstum.",
        "In der linken Niere ist eine Zyste von 25 mm, die etwas gewachsen ist.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # --- Anchors of different kinds cannot disagree: a side on one statement, an organ on the other.
    (
        "anchor-kinds-de-certainty",
        "MRT Prostata.\nBeurteilung: Läsion links peripher, ein Karzinom ist wahrscheinlich.",
        "Links ist ein Herd. Es handelt sich um einen Prostatakrebs.",
        "simplification",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "anchor-kinds-en-certainty",
        "Breast ultrasound.\nImpression: spiculated mass on the left, probably a carcinoma.",
        "There is a spiculated lump on the left. This is a breast cancer.",
        "simplification",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "anchor-kinds-en-negation",
        "Wrist radiograph.\nImpression: no fracture on the left.",
        "Left wrist: no problem. The wrist bone is broken.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "anchor-kinds-de-kept",
        "MRT Prostata.\nBeurteilung: Läsion links peripher, ein Karzinom ist wahrscheinlich.",
        "Links ist ein Herd. Es handelt sich wahrscheinlich um einen Prostatakrebs.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "anchor-kinds-en-other-side",
        "MRI right knee.\nRupture of the anterior cruciate ligament.",
        "The anterior cruciate ligament is torn. On the left nothing is injured.",
        "simplification",
        "en",
        None,
        "unchecked",
    ),
    (
        "anchor-kinds-de-other-side",
        "MRT Schulter links.\nRuptur der Supraspinatussehne.",
        "Die Supraspinatussehne ist gerissen. Rechts ist nichts verletzt.",
        "simplification",
        "de",
        None,
        "unchecked",
    ),
]


@pytest.mark.parametrize(
    ("source", "output", "task", "lang", "target", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_round8(source: str, output: str, task: str, lang: str, target: str | None, expected: str) -> None:
    assert_expected(source, output, task, lang, target, expected)


# (text, lang, word, concept or None): the concept a word is read as, or no finding at all.
WORDS = [
    ("Thrombektomie-Kandidat.", "de", "thrombektomie", None),
    ("Polypektomie-Termin in 3 Monaten.", "de", "polypektomie", None),
    ("Thrombose-Verdacht.", "de", "thrombose", "thrombus"),
    ("Subakromiale Enge.", "de", "enge", "stenosis"),
    ("Eine geringe Menge freier Flüssigkeit.", "de", "menge", None),
    ("Keine Omarthrose.", "de", "omarthrose", "osteoarthritis"),
    ("Slight growth since 2024.", "en", "slight", "progression"),
    ("A harmless growth of breast tissue.", "en", "growth", "mass"),
]


@pytest.mark.parametrize(("text", "lang", "word", "concept"), WORDS)
def test_words(text: str, lang: str, word: str, concept: str | None) -> None:
    assert_reading(text, lang, word, concept)


def test_omarthrosis_is_no_narrower_kind() -> None:
    """A denied "Omarthrose" is unqualified: it denies arthrosis at its joint, like "keine Arthrose"."""
    found = _findings(Analysis("Keine Omarthrose.", "de"), with_implied=False)
    assert [(f.concept, f.mention.negated, f.qualifier) for f in found] == [("osteoarthritis", True, None)]


# (text, lang, [(word, negated)]): unpunctuated dictation; a new side label ends a negation's scope
# once the negation has covered a finding, and only then.
LABELS = [
    (
        "right kidney small simple cyst no hydronephrosis left kidney mild hydronephrosis",
        "en",
        [("cyst", False), ("hydronephrosis", True), ("hydronephrosis", False)],
    ),
    (
        "Rechte Niere kleine Zyste keine Stauung linke Niere leichte Stauung",
        "de",
        [("zyste", False), ("stauung", True), ("stauung", False)],
    ),
    (
        "right lung clear no effusion left lung small effusion",
        "en",
        [("effusion", True), ("effusion", False)],
    ),
    # Controls: a side joined to the words before it, or before the first finding, stays in scope.
    ("No hydronephrosis in the left kidney or stones.", "en", [("hydronephrosis", True), ("stones", True)]),
    ("without moderate right foraminal stenosis", "en", [("stenosis", True)]),
    ("Keine Stauung der linken Niere, kein Stein.", "de", [("stauung", True), ("stein", True)]),
]


@pytest.mark.parametrize(("text", "lang", "expected"), LABELS)
def test_label_ends_negation(text: str, lang: str, expected: list[tuple[str, bool]]) -> None:
    doc = Analysis(text, lang)
    assert [(m.word, m.negated) for m in doc.mentions if m.kind == "F"] == expected
