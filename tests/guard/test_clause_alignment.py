"""Which source statement an output clause is compared with: the most alike in anchors, and among near
ties (within 5 %) the one that states everything the output clause states. Two carotid or kidney
statements of a report are much alike in words; the finding only one of them has ("calcified plaque",
"stone") tells which one the output restates, so a side moved to the other one is a side change.

Statements about other organs, about the opposite direction (the medial and the lateral meniscus) or
with anchors of different kinds are not compared; an organ the finding itself implies (every fracture is
"of a bone") is no anchor, nor is the anatomy of a neighbour in the clause; found through the concept
alone with no shared anchor, a change is unsure. A finding kept or denied only at another place is
dropped, or new, where it was; one the source says again in a broader word at its place is kept.

Every example is invented for this file; controls: the same clauses with the faithful side are not
flagged.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

_CAROTID = (
    "Carotid duplex.\nRight internal carotid artery with a calcified plaque, peak velocity 240 cm/s, "
    "consistent with 70-79% stenosis. Left internal carotid artery with minor plaque, velocity 95 cm/s, "
    "less than 50% stenosis.\nImpression: 70-79% right ICA stenosis."
)
_KIDNEYS = (
    "Sonographie Nieren.\nRechte Niere 11 cm, Parenchym regelrecht, 6 mm Konkrement im Unterpol. Linke Niere "
    "11 cm, Parenchym regelrecht, kein Konkrement.\nBeurteilung: Nephrolithiasis rechts."
)

_KNEE = "MRI right knee. Tear of the lateral meniscus. The medial meniscus is intact. No fracture."

ROWS: list[Row] = [
    (
        "calcified-plaque-moved-en",
        _CAROTID,
        "In the left neck artery there is a hard, calcified plaque. The right one is narrowed by 70-79%.",
        "simplification",
        "en",
        "en",
        "side_changed",
    ),
    (
        "stone-moved-de",
        _KIDNEYS,
        "Die linke Niere ist 11 cm groß, mit normalem Gewebe und einem 6 mm Stein im unteren Teil.",
        "simplification",
        "de",
        "de",
        "review",
    ),
    (
        "calcified-plaque-moved-summary",
        _CAROTID,
        "Calcified plaque of the left ICA; 70-79% right ICA stenosis.",
        "summary",
        "en",
        None,
        "review",
    ),
    # Controls: the faithful sides.
    (
        "control-calcified-plaque-right",
        _CAROTID,
        "In the right neck artery there is a hard, calcified plaque. It is narrowed by 70-79%.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    (
        "control-stone-right",
        _KIDNEYS,
        "Die rechte Niere ist 11 cm groß, mit normalem Gewebe und einem 6 mm Stein im unteren Teil.",
        "simplification",
        "de",
        "de",
        "ok",
    ),
    # Statements about different organs (sinuses) are compared apart.
    (
        "sinuses-apart",
        "Kieferhöhle links verschattet. Stirnhöhlen frei. Akute Sinusitis maxillaris links.",
        "Entzündung der linken Kieferhöhle. Die Stirnhöhlen sind frei.",
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
        _KNEE,
        "The outer meniscus of your right knee is torn. The inner meniscus is not torn. No bone is broken.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "same-direction-flipped",
        _KNEE,
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
    # A shared organ that the finding itself implies (every fracture is "of a bone") is no anchor
    # where both statements name organs of their own, and different ones.
    (
        "implied-organ-en-hand",
        "Fracture of the distal radius. The ulnar styloid is intact.",
        "The forearm bone near the wrist is broken. The small bone at the little finger is not broken.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "implied-organ-en-knee",
        "Fracture of the tibial plateau. No fracture of the patella.",
        "The top of the shin bone is broken. The bony part of the thigh is not broken.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "implied-organ-de-hand",
        "Fraktur des Schienbeins. Wadenbein intakt.",
        "Das Schienbein ist gebrochen. Der Knochen am Finger ist nicht gebrochen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "implied-organ-control-same-organ",
        "Fracture of the distal radius. The ulnar styloid is intact.",
        "The radius is not broken.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "implied-organ-control-de",
        "Fraktur des Schienbeins.",
        "Das Schienbein ist nicht gebrochen.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    # An actionable finding kept only for another place (side; organ within one language, not
    # lay) is dropped where it was.
    (
        "kept-elsewhere-de-organ",
        "Riss des Innenmeniskus. Ruptur des vorderen Kreuzbandes. Kein Erguss.",
        "Ruptur des vorderen Kreuzbandes.",
        "summary",
        "de",
        None,
        "omission",
    ),
    (
        "kept-elsewhere-en-side",
        "Right breast: coarse benign calcifications. Left breast: new fine calcifications, biopsy "
        "recommended.",
        "Your right breast has some harmless calcium spots. Nothing else needs to be done.",
        "simplification",
        "en",
        None,
        "omission",
    ),
    (
        "kept-elsewhere-en-fracture-side",
        "Fracture of the left radius. Fracture of the right clavicle.",
        "Left radius fracture.",
        "summary",
        "en",
        None,
        "omission",
    ),
    (
        "kept-elsewhere-control-both",
        "Fracture of the left radius. Fracture of the right clavicle.",
        "Fractures of the left radius and of the right clavicle.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "kept-elsewhere-control-translation-organs",
        "Nodule in the left upper lobe suspicious for primary lung cancer.",
        "Rundherd im linken Oberlappen, suspekt auf ein primäres Bronchialkarzinom.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    # The place of a finding is the anatomy right at it, not that of a neighbour in its clause.
    (
        "near-place-en",
        "Fracture of the orbital floor with fat herniating into the maxillary sinus, on the left. "
        "Impression: left orbital floor fracture with entrapment of the muscle.",
        "Left orbital floor fracture with entrapment of the muscle.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "near-place-de",
        "Fraktur des Orbitabodens links mit Verlagerung von Fett in die Kieferhöhle. Beurteilung: "
        "Orbitabodenfraktur links mit Einklemmung des Muskels.",
        "Orbitabodenfraktur links mit Einklemmung des Muskels.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "near-place-en-radius",
        "Fracture of the distal radius with a fragment displaced towards the ulna. Impression: distal "
        "radius fracture.",
        "Distal radius fracture.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # A finding the source says again in a broader word, at the same place and level, is kept by
    # that broader word; a broader word at another level is not.
    (
        "restated-en",
        "Splenic laceration at the lower pole. Impression: splenic injury.",
        "Splenic injury.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "restated-de",
        "Riss der Milz am unteren Pol. Beurteilung: Milzverletzung.",
        "Milzverletzung.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "restated-en-liver",
        "Laceration of the liver, segment VI. Impression: liver injury, no active bleeding.",
        "Liver injury without active bleeding.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "restated-control-hedged",
        "Läsion der Leber, DD Metastase.",
        "Läsion der Leber.",
        "summary",
        "de",
        None,
        "omission",
    ),
    # A finding the source denies only at another place is new where the output affirms it.
    (
        "denied-elsewhere-de",
        "Blutung rechts frontal. Keine Fraktur der Schädelkalotte.",
        "Blutung rechts frontal. Frische Rippenfraktur. Keine Fraktur der Schädelkalotte.",
        "correction",
        "de",
        None,
        "new_finding",
    ),
    (
        "denied-elsewhere-side",
        "No effusion on the right.",
        "Effusion on the left.",
        "summary",
        "en",
        None,
        "new_finding",
    ),
    (
        "denied-elsewhere-control",
        "Keine Fraktur der Schädelkalotte.",
        "Keine Fraktur der Schädelkalotte.",
        "correction",
        "de",
        None,
        "ok",
    ),
    # Anchors of different kinds cannot disagree: a side on one statement, an organ on the other.
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


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_clause_alignment(row: Row) -> None:
    assert_row(row)
