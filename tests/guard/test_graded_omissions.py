"""A finding that matters by its grade (data/importance.toml `graded`: stenosis) is not actionable where
the source grades it mild or minimal ("mild bilateral foraminal narrowing", "geringe Einengung") and does
not put it in the impression: a summary or simplification may leave it out like any finding that is not
actionable. A higher grade beside it ("mild to moderate"), an ungraded one, or one the impression states
stays actionable.

Every example is invented for this file; controls for each side of the rule.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "mild-foraminal-en-summary",
        "MRI cervical spine.\nC5-C6: disc osteophyte complex with moderate left foraminal stenosis.\n"
        "C6-C7: mild bilateral foraminal narrowing.\nImpression: Moderate left C5-C6 foraminal stenosis.",
        "Moderate left C5-C6 foraminal stenosis from a disc osteophyte complex.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "minimal-ica-en-simplification",
        "Carotid duplex.\nRight ICA: minimal plaque with minimal stenosis, below 50%.\nLeft ICA occluded.\n"
        "Impression: Left ICA occlusion.",
        "The main artery on the left side of your neck is completely blocked.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "geringe-einengung-de-summary",
        "MRT LWS.\nLWK 3/4: geringe Einengung der Neuroforamina beidseits.\nLWK 4/5: Bandscheibenvorfall "
        "rechts mit Kompression der Wurzel L5.\nBeurteilung: Bandscheibenvorfall LWK 4/5 rechts.",
        "Bandscheibenvorfall LWK 4/5 rechts mit Kompression der Wurzel L5.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "leichtgradige-stenose-de-simplification",
        "Duplex Becken-Bein-Arterien.\nA. femoralis superficialis rechts mit leichtgradiger Stenose.\n"
        "Links Verschluss der A. poplitea.\nBeurteilung: Verschluss der A. poplitea links.",
        "Es besteht ein Verschluss der A. poplitea links.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # Controls: a moderate, an ungraded, a "mild to moderate" and an impression stenosis dropped.
    (
        "control-moderate-en",
        "MRI cervical spine.\nC5-C6: moderate left foraminal stenosis.\nC6-C7: disc bulge.\n"
        "Impression: Degenerative change.",
        "Degenerative change with a C6-C7 disc bulge.",
        "summary",
        "en",
        None,
        "omission",
    ),
    (
        "control-mild-to-moderate-en",
        "Carotid duplex.\nRight ICA: mild to moderate stenosis.\nLeft ICA occluded.\n"
        "Impression: Left ICA occlusion.",
        "The main artery on the left side of your neck is completely blocked.",
        "simplification",
        "en",
        None,
        "omission",
    ),
    (
        "control-ungraded-de",
        "MRT LWS.\nLWK 3/4: Einengung der Neuroforamina beidseits.\nLWK 4/5: Bandscheibenvorfall rechts.\n"
        "Beurteilung: Bandscheibenvorfall LWK 4/5 rechts.",
        "Bandscheibenvorfall LWK 4/5 rechts.",
        "summary",
        "de",
        None,
        "omission",
    ),
    (
        "control-mild-in-impression-de",
        "Duplex Halsgefäße.\nACI rechts geringgradige Stenose.\n"
        "Beurteilung: Geringgradige ACI-Stenose rechts.",
        "Die Halsschlagadern sind gut durchgängig.",
        "simplification",
        "de",
        None,
        "omission",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_graded_omissions(row: Row) -> None:
    assert_row(row)
