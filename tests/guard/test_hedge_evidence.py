"""Evidence in parentheses after a hedged finding is seen: "V. a. Milzbefall (Splenomegalie 15 cm)",
"likely pneumonia (consolidation in the right lower lobe)" hedge the diagnosis, not the evidence. A
parenthesis that names what stands before it ("spread from a cancer elsewhere (metastases)") or a kind
of it ("brain tumour (high-grade glioma)") is its name and shares its hedge. Every example is invented
for this file; controls show that evidence the source hedges itself, or a hedge put on the evidence, is
still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "spleen-de",
        "Splenomegalie 15 cm mit zwei hypodensen Herden, V. a. Milzbefall.",
        "V. a. Milzbefall (Splenomegalie 15 cm, zwei Herde).",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "pneumonia-en",
        "Consolidation in the right lower lobe, likely pneumonia.",
        "Likely pneumonia (consolidation in the right lower lobe).",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "abscess-en",
        "Fluid collection with rim enhancement in the right psoas; possible abscess.",
        "Possible abscess (fluid collection with rim enhancement in the right psoas).",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "arthritis-de",
        "Gelenkerguss im rechten Knie, V. a. Arthritis.",
        "V. a. Arthritis (Gelenkerguss im rechten Knie).",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "gloss-en",
        "Two enhancing lesions in the liver, most likely metastases.",
        "Two spots in the liver that are most likely spread from a cancer elsewhere (metastases).",
        "simplification",
        "en",
        None,
        "not review",
    ),
    (
        "kind-gloss-en",
        "Left temporal enhancing mass with necrosis, most consistent with high-grade glioma.",
        "A growth in the left temporal lobe, most likely an aggressive brain tumour (high-grade glioma).",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "evidence-en-was-hedged",
        "Possible consolidation in the right lower lobe.",
        "Likely pneumonia (consolidation in the right lower lobe).",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "evidence-en-hedged-itself",
        "Consolidation in the right lower lobe, likely pneumonia.",
        "Possible consolidation in the right lower lobe.",
        "summary",
        "en",
        None,
        "certainty_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_hedge_evidence_rows(row: Row) -> None:
    assert_row(row)
