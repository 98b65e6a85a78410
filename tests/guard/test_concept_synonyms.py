"""Words that name one finding in both languages read as one concept (data/lexicon.txt v7, v8): a perfusion
deficit is also written "defect" / "Perfusionsdefekt", "Defizit" is a defect, "EPE" is extraprostatic
extension, "PTX" a pneumothorax; "Abriss" is an avulsion (not the "Riss" inside it), "postentzündlich"
a past inflammation that may have scarred, "engen ... ein" the separable verb of "Einengung", "grenzt an"
what "abuts" says, "hineinreichend" what "extending into" says, a "burst fracture" a fracture. Otherwise
a faithful translation reads as a new finding or a dropped one.

Every example is invented for this file; controls: the concept added where the source has none is still
a new finding (an avulsion), a denied narrowing restated as present is caught, a dropped extraprostatic
extension is major, and a burst hollow organ stays a perforation.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_reading
from tests.guard.rule_rows import Row, assert_row


@pytest.mark.parametrize(
    ("text", "lang", "word", "concept"),
    [
        ("Perfusionsdefizit inferolateral.", "de", "perfusionsdefizit", "perfusion_deficit"),
        ("Perfusion defect of the inferior wall.", "en", "perfusion defect", "perfusion_deficit"),
        ("Minderperfusion im Mediastromgebiet.", "de", "minderperfusion", "perfusion_deficit"),
        ("eher echtes Defizit", "de", "defizit", "defect"),
        ("Focal EPE at the right base.", "en", "epe", "extraprostatic_extension"),
        (
            "Extraprostatische Ausbreitung rechts dorsolateral.",
            "de",
            "extraprostatische",
            "extraprostatic_extension",
        ),
        ("Left apical PTX with drain, down to 0.5 cm.", "en", "ptx", "pneumothorax"),
        ("Kleiner Mantel-PTX rechts.", "de", "ptx", "pneumothorax"),
        ("Abriss des Proc. styloideus ulnae.", "de", "abriss", "avulsion"),
        ("Avulsion of the ulnar styloid.", "en", "avulsion", "avulsion"),
        ("i. S. v. postentzündlichen Residuen.", "de", "postentzündlichen", "post_inflammatory"),
        ("Post-inflammatory changes of the peripheral zone.", "en", "post-inflammatory", "post_inflammatory"),
        ("Osteophyten engen das Neuroforamen ein.", "de", "engen", "stenosis"),
        ("Die Läsion grenzt an das Stroma.", "de", "grenzt an", "contact"),
        ("The mass abuts the portal vein.", "en", "abuts", "contact"),
        ("Links keine Herdbefunde.", "de", "herdbefunde", "mass"),
        ("Noduläre BPH.", "de", "bph", "bph"),
        ("Läsion in BWK 8, in die linke Bogenwurzel hineinreichend.", "de", "hineinreichend", "extension"),
        ("Stroke-Alarm, Aphasie seit 1 h.", "de", "stroke", "infarct"),
        ("Incomplete burst fracture of L2.", "en", "burst fracture", "fracture"),
        # control: a burst hollow organ is a perforation
        ("Burst appendix with free fluid.", "en", "burst", "perforation"),
        # control: "epe" inside a word is nothing
        ("Epithel intakt.", "de", "epithel", None),
    ],
)
def test_reading(text: str, lang: str, word: str, concept: str | None) -> None:
    assert_reading(text, lang, word, concept)


ROWS: list[Row] = [
    (
        "perfusion-de-en",
        "Adenosin-Stressperfusion: Perfusionsdefizit inferoseptal, eher echtes Defizit als Artefakt.",
        "Adenosine stress perfusion: perfusion defect inferoseptal, "
        "more likely a true defect than an artefact.",
        "translation",
        "de",
        "en",
        "not review",
    ),
    (
        "perfusion-en-de",
        "Reversible perfusion deficit of the anterior wall. No scar.",
        "Reversibler Perfusionsdefekt der Vorderwand. Keine Narbe.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "epe-en-de",
        "Index lesion right peripheral zone, PI-RADS 5, with EPE. Seminal vesicles free.",
        "Indexläsion periphere Zone rechts, PI-RADS 5, mit extraprostatischer Ausbreitung. Samenblasen frei.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "avulsion-de-en",
        "Röntgen Handgelenk links.\nDistale Radiusfraktur. Abriss des Proc. styloideus ulnae.",
        "Left wrist radiograph.\nDistal radius fracture. Avulsion of the ulnar styloid process.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "post-inflammatory-lay-de",
        "MRT Prostata.\nPeriphere Zone: diffuse T2-Signalminderung i. S. v. postentzündlichen Veränderungen.",
        "In der äußeren Zone der Prostata gibt es Veränderungen, die zu Narben nach früheren Entzündungen "
        "passen.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
    (
        "separable-verb-lay-de",
        "MRT Schulter.\nAC-Gelenkarthrose mit Osteophyten und Einengung des subakromialen Raumes.",
        "Im Schultereckgelenk besteht ein Verschleiß mit knöchernen Anbauten. Diese engen den Raum unter dem "
        "Schulterdach ein.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
    (
        "abuts-en-de",
        "Pancreatic head mass, 24 mm. The mass abuts the superior mesenteric vein.",
        "Raumforderung im Pankreaskopf, 24 mm. Die Raumforderung grenzt an die V. mesenterica superior.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "extends-into-en-de",
        "MRI thoracic spine.\nLesion replacing the T8 vertebral body, extending into the left pedicle.",
        "MRT BWS.\nLäsion, die den Wirbelkörper BWK 8 ersetzt, in die linke Bogenwurzel hineinreichend.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    # controls: an avulsion the source does not have; a narrowing the source denies
    (
        "avulsion-invented",
        "Röntgen Handgelenk links.\nDistale Radiusfraktur. Processus styloideus ulnae intakt.",
        "Left wrist radiograph.\nDistal radius fracture. Avulsion of the ulnar styloid process.",
        "translation",
        "de",
        "en",
        "review",
    ),
    (
        "separable-verb-denied",
        "MRT Schulter.\nAC-Gelenkarthrose. Keine Einengung des subakromialen Raumes.",
        "Im Schultereckgelenk besteht ein Verschleiß. Knöcherne Anbauten engen den Raum unter dem "
        "Schulterdach ein.",
        "simplification",
        "de",
        "de",
        "review",
    ),
    # controls: a perfusion defect the source does not have; EPE dropped from a summary
    (
        "perfusion-invented",
        "Normal left ventricular function. No scar.",
        "Normal left ventricular function. Perfusion defect of the anterior wall. No scar.",
        "correction",
        "en",
        None,
        "new_finding",
    ),
    (
        "epe-dropped",
        "Index lesion right peripheral zone, 14 mm, PI-RADS 5. Capsular bulge with EPE at 7 o'clock.",
        "Index lesion right peripheral zone, 14 mm, PI-RADS 5.",
        "summary",
        "en",
        None,
        "omission",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_synonyms_in_pairs(row: Row) -> None:
    assert_row(row)
