"""Finding words of lexicon version 9, each a class of its own:

- lay "blocked"/"blocking" for an occlusion or obstruction (an occluded vessel is a blocked one);
- "fx" for fracture; German "Knötchen" for a nodule; a tumour's "Durchbruch" is its invasion, not a
  "Bruch" (fracture), while lay "broken through" stays a fracture;
- "dent" is a whole word ("dental" is about teeth, not a defect);
- joint space narrowing is the sign of arthrosis: an output that keeps the arthrosis keeps it;
- a lucency ("Lysesaum", "Aufhellung") is a finding in both languages.

Every example is invented for this file; controls: the finding dropped or negated is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "blocked-occlusion-en",
        "CTA head.\nOcclusion of the right M1 segment.\nImpression: Right M1 occlusion.",
        "The main artery on the right side of your brain (M1) is blocked.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "blocking-obstruction-en",
        "CT abdomen.\nObstructing 6 mm stone at the right UVJ with hydronephrosis.\n"
        "Impression: Obstructing right UVJ stone.",
        "A 6 mm stone is blocking the right ureter where it enters the bladder, and the right kidney is "
        "swollen with urine (hydronephrosis).",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "fx-summary-en",
        "XR wrist.\nDistal radius fracture, dorsally angulated.\nImpression: Distal radius fracture.",
        "Distal radius fx, dorsal angulation.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "knoetchen-translation-en-de",
        "CT chest.\nSmall pulmonary nodule, 4 mm, right upper lobe. No effusion.",
        "CT Thorax.\nKleines Knötchen von 4 mm im rechten Oberlappen. Kein Erguss.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "broken-through-is-fracture-en",
        "MRI wrist.\nFracture through the scaphoid waist.\nImpression: Scaphoid waist fracture.",
        "The scaphoid, a small wrist bone, is broken through its middle.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "durchbruch-not-fracture-de",
        "MRT Rektum.\nTumor mit Durchbruch durch die Muscularis propria (T3).\n"
        "Beurteilung: Rektumkarzinom T3.",
        "Rektumkarzinom T3 mit Durchbruch durch die Muscularis propria.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "dental-not-dent-en-de",
        "CT sinus.\nDental: periapical lucency at tooth 26.\nImpression: Periapical lucency, tooth 26.",
        "CT Nasennebenhöhlen.\nZähne: periapikale Aufhellung an Zahn 26.\n"
        "Beurteilung: Periapikale Aufhellung, Zahn 26.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "joint-space-narrowing-kept-by-oa-en",
        "XR knees.\nRight knee: moderate osteoarthritis with medial joint space narrowing.\n"
        "Impression: Moderate right knee OA.",
        "Right knee: moderate OA.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls.
    (
        "control-occlusion-dropped-en",
        "CTA head.\nOcclusion of the right M1 segment.\nImpression: Right M1 occlusion.",
        "The arteries of your brain were looked at with contrast dye.",
        "simplification",
        "en",
        None,
        "omission",
    ),
    (
        "control-fracture-dropped-en",
        "XR wrist.\nDistal radius fracture, dorsally angulated.\nImpression: Distal radius fracture.",
        "Wrist radiograph reviewed; soft tissues unremarkable.",
        "summary",
        "en",
        None,
        "omission",
    ),
    (
        "control-lucency-negation-en-de",
        "XR hip.\nRight THR. No periprosthetic lucency.",
        "Röntgen Hüfte.\nHüft-TEP rechts. Periprothetischer Lysesaum.",
        "translation",
        "en",
        "de",
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_finding_word_forms(row: Row) -> None:
    assert_row(row)
