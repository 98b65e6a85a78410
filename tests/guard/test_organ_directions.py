"""A direction word right before an organ names a part of that organ ("proximal ureter", "distaler
Harnleiter", "medial meniscus"): where the source names the same part of the same organ, the output's
words are that part, whatever finding its sentence holds ("proximal ureter 9 mm" kept beside "distal
ureteric obstruction" in one summary line is no changed direction). A direction word before an article
is a preposition ("the ligament inside the knee"): no direction at all.

Every example is invented for this file; controls: a part the source never names ("proximal" where the
source only says "distal ureter") is still a changed direction.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "ureter-parts-summary-en",
        "Renal US.\nRight kidney with moderate hydronephrosis; the proximal ureter is dilated to 8 mm.\n"
        "Conclusion: moderate right hydroureteronephrosis, suggesting distal ureteric obstruction.",
        "Moderate right hydroureteronephrosis (proximal ureter 8 mm), suggesting distal ureteric "
        "obstruction.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "femur-parts-summary-de",
        "Röntgen Oberschenkel.\nKonsolidierte Fraktur des distalen Femurs. Periostreaktion am proximalen "
        "Femur.\nBeurteilung: Konsolidierte distale Femurfraktur.",
        "Konsolidierte distale Femurfraktur (Periostreaktion am proximalen Femur).",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "femur-parts-summary-en",
        "XR femur.\nThe distal femur shows a healed fracture. Periosteal reaction of the proximal femur.\n"
        "Impression: healed distal femoral fracture.",
        "Healed distal femoral fracture (periosteal reaction of the proximal femur).",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "preposition-inside-lay-en",
        "MRI knee.\nComplete tear of the anterior cruciate ligament. Lateral meniscus with a small radial "
        "tear.\nImpression: ACL tear, lateral meniscal tear.",
        "The front cross ligament inside the knee is completely torn. The outer meniscus has a small tear.",
        "simplification",
        "en",
        "en",
        "ok",
    ),
    # Controls.
    (
        "control-inner-for-lateral",
        "MRI knee.\nComplete tear of the anterior cruciate ligament. Lateral meniscus with a small radial "
        "tear.\nImpression: ACL tear, lateral meniscal tear.",
        "The front cross ligament is completely torn. The inner meniscus has a small tear.",
        "simplification",
        "en",
        "en",
        "direction_changed",
    ),
    (
        "control-part-never-named",
        "Renal US.\nRight hydronephrosis; the distal ureter is dilated to 8 mm.\nConclusion: distal "
        "ureteric obstruction.",
        "Right hydronephrosis (proximal ureter 8 mm), suggesting proximal ureteric obstruction.",
        "summary",
        "en",
        None,
        "direction_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_organ_directions(row: Row) -> None:
    assert_row(row)
