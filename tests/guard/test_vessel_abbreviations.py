"""Vessel abbreviations of duplex reports ("CFV", "GSV", "ICA", "AFS") name the vessel, so a side label after
them is the side of the same vessel written out in the other language ("V. femoralis communis"). The "V." of
"V. a." (Verdacht auf) is the hedge, not a vein.

Every example is invented for this file; controls: a side flipped on an abbreviated vessel is still a
side change.
"""

from __future__ import annotations

import pytest

from medvault.guard._lexicon import implied
from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row


@pytest.mark.parametrize(
    ("text", "lang", "concept"),
    [
        ("Left CFV: compressible.", "en", "femoral_vein"),
        ("SFV and popliteal vein patent.", "en", "femoral_vein"),
        ("VFC links: komprimierbar.", "de", "femoral_vein"),
        ("V. femoralis superficialis links thrombosiert.", "de", "femoral_vein"),
        ("GSV diameter 6 mm at the junction.", "en", "saphenous_vein"),
        ("VSM rechts insuffizient.", "de", "saphenous_vein"),
        ("Right ICA: 50-69% stenosis.", "en", "carotid"),
        ("ACI links ohne Stenose.", "de", "carotid"),
        ("AFS rechts verschlossen.", "de", "femoral_artery"),
        ("Occluded SFA on the left.", "en", "femoral_artery"),
    ],
)
def test_abbreviation_names_the_vessel(text: str, lang: str, concept: str) -> None:
    assert concept in {m.concept for m in Analysis(text, lang).mentions}


ROWS: list[Row] = [
    (
        "cfv-en-de",
        "Duplex right leg. CFV, popliteal vein: compressible. Left CFV: compressible, phasic flow.",
        "Duplex Bein rechts. V. femoralis communis, V. poplitea: komprimierbar. V. femoralis communis links: "
        "komprimierbar, atemvariabler Fluss.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "gsv-de-en",
        "VSM links mit Reflux über 2 s. VSM rechts suffizient.",
        "Left GSV with reflux over 2 s. Right GSV competent.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "ica-en-de",
        "Right ICA: plaque, stenosis below 50%. Left ICA: normal.",
        "ACI rechts: Plaque, Stenose unter 50 %. ACI links: unauffällig.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    # controls: a side flipped on an abbreviated vessel
    (
        "cfv-flip",
        "Duplex left leg. Left CFV: non-compressible, occlusive thrombus.",
        "Duplex Bein links. V. femoralis communis rechts: nicht komprimierbar, okkludierender Thrombus.",
        "translation",
        "en",
        "de",
        "side_changed",
    ),
    (
        "afs-flip",
        "AFS rechts verschlossen. AFS links offen.",
        "SFA occluded on the left. SFA patent on the right.",
        "translation",
        "de",
        "en",
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_vessel_sides(row: Row) -> None:
    assert_row(row)


@pytest.mark.parametrize(
    ("text", "veins"),
    [
        ("V. a. Korbhenkelriss des Innenmeniskus.", 0),
        ("V.a. Thrombose der V. femoralis links.", 1),
        ("Thrombose der V. poplitea.", 1),
    ],
)
def test_suspicion_abbreviation_is_no_vein(text: str, veins: int) -> None:
    """The "V." of "V. a." (Verdacht auf) is the hedge, not the vein's abbreviation "V. femoralis"."""
    doc = Analysis(text, "de")
    # "V. femoralis" is one vein (lexicon v7: the concept femoral_vein, which implies vein).
    assert sum("vein" in implied(m.concept) for m in doc.mentions if m.kind == "A") == veins
