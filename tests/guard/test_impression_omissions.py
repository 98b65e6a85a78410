"""A finding the radiologist put in the impression ("Beurteilung:", "Impression:") is important by that
fact: a simplification or summary that drops it, with the whole statement it stands in, gets a major,
confident omission (unsure where the output keeps the numbers of the finding's sentence, as a paraphrase
would). Normal statements and denials in the impression are no such finding; where the
output keeps another finding of the impression's sentence, a missing word is likely paraphrased.
An output keeps a number of the source only in the same dimension ("6 mm" is not kept by "6 months").
Where the impression states an important finding, the output must keep it where the impression puts it
(side, organ); a lesser statement of it only in the findings part ("minimal stenosis" of another artery)
may go.

Every example is invented for this file; controls for each side of the rule.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "steatosis-en-simplification",
        "Liver of normal size. Diffuse fatty infiltration. Gallbladder normal.\n"
        "Impression: Hepatic steatosis.",
        "Your liver is of normal size. The gallbladder is normal.",
        "simplification",
        "en",
        None,
        "omission",
    ),
    (
        "bursitis-de-summary",
        "Flüssigkeit in der Bursa subacromialis. Rotatorenmanschette intakt.\n"
        "Beurteilung: Bursitis subacromialis.",
        "Rotatorenmanschette intakt.",
        "summary",
        "de",
        None,
        "omission",
    ),
    (
        "emphysema-de-simplification",
        "Zentrilobuläres Lungenemphysem in beiden Oberlappen. Kein Infiltrat.\nBeurteilung: Lungenemphysem.",
        "Die Lunge zeigt keine Entzündung.",
        "simplification",
        "de",
        None,
        "omission",
    ),
    (
        "units-differ-en",
        "Small pericardial effusion, 6 mm.\nImpression: Small pericardial effusion. Follow-up in 6 months.",
        "Please come back for a check in 6 months.",
        "simplification",
        "en",
        None,
        "omission",
    ),
    # controls: findings outside the impression, normal statements, denials and kept statements; an
    # output that keeps the numbers of the finding's sentence may say it in other words (not checked)
    (
        "numbers-kept-en",
        "Liver enlarged to 18 cm with diffuse fatty infiltration. Gallbladder normal.\n"
        "Impression: Hepatomegaly with hepatic steatosis.",
        "Your liver is a bit large (18 cm). The gallbladder is normal.",
        "simplification",
        "en",
        None,
        "not review",
    ),
    (
        "findings-only-en",
        "Mild hepatic steatosis. Gallbladder normal. No biliary dilatation.\n"
        "Impression: No acute abnormality.",
        "The gallbladder is normal and the bile ducts are not widened. Nothing urgent was found.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "denial-in-impression-de",
        "Leber unauffällig. Kein Aszites.\nBeurteilung: Unauffälliger Befund, kein Aszites.",
        "Die Leber ist normal.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "impression-place-kept-en",
        "Coronary CTA.\nLAD: moderate stenosis proximal (50-69%).\nRCA: minimal stenosis (<25%).\n"
        "Impression: Moderate proximal LAD stenosis.",
        "- Moderate (50-69%) stenosis of the proximal LAD.\n- Minimal RCA disease.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "impression-place-kept-de",
        "Duplex Karotiden.\nACI rechts: Stenose 70 %.\nACI links: geringe Stenose unter 50 %.\n"
        "Beurteilung: Hochgradige ACI-Stenose rechts.",
        "Hochgradige Stenose der ACI rechts (70 %); links geringe Plaques.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "control-impression-place-dropped",
        "Coronary CTA.\nLAD: moderate stenosis proximal (50-69%).\nRCA: minimal stenosis (<25%).\n"
        "Impression: Moderate proximal LAD stenosis.",
        "- Minimal RCA stenosis (<25%).",
        "summary",
        "en",
        None,
        "omission",
    ),
    (
        "sentence-kept-en",
        "Bilateral perihilar opacities.\nImpression: Worsening bilateral opacities in keeping with oedema.",
        "The cloudy areas in both lungs have become more, which fits with fluid in the lungs (oedema).",
        "simplification",
        "en",
        None,
        "not review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_impression_finding_dropped(row: Row) -> None:
    assert_row(row)


@pytest.mark.parametrize(
    ("text", "lang", "kinds"),
    [
        ("Befund: Erguss rechts.\nBeurteilung: Erguss rechts.", "de", ("impression",)),
        ("Findings: effusion.\nImpression: Right effusion.", "en", ("impression",)),
        ("Clinical summary: cough.\nFindings: effusion.", "en", ("history", "impression")),
        # control: another language's heading word is no heading of this one
        ("Findings: effusion.\nBeurteilung: Right effusion.", "en", ()),
        ("Befund: Erguss rechts.\nFazit: Erguss rechts.", "de", ("impression",)),
    ],
)
def test_impression_headings_are_read_per_language(text: str, lang: str, kinds: tuple[str, ...]) -> None:
    """Impression headings come from cues.toml `[context.<lang>] impression`, like the other heading kinds."""
    doc = Analysis(text, lang)
    found = {k for ks in doc.heading_kinds.values() for k in ks}
    assert found == set(kinds), doc.heading_kinds
