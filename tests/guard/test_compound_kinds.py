"""A German compound whose first part the vocabulary does not know names a narrower kind of its finding
("Korbhenkel|riss", "Mantel|pneumothorax"): the output's statement of that kind is compared with what the
source says of the same kind, not with a plain statement of the finding. "Komplexer Riss, V. a.
Korbhenkelriss" made "Korbhenkelriss" is a suspicion made definite, though the plain tear is there. Across
languages, a kind named by the same word before the finding ("Kein Hinweis auf HAGL-Läsion" and "a HAGL
lesion" beside "Bankart-Läsion") is compared the same way. A denied narrower compound says nothing of the
broader finding, and a joint's Greek or Latin name before "arthrose" ("Omarthrose") says where, not what kind.
Every example is invented for this file; controls show that keeping the kind's level is no flag.
"""

from __future__ import annotations

import pytest

from medvault.guard._statements import _findings
from medvault.guard._text import Analysis
from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "bucket-handle-de",
        "V. a. Korbhenkelriss des Innenmeniskus links, komplexer Riss im Hinterhorn.",
        "Korbhenkelriss des Innenmeniskus links mit komplexem Riss im Hinterhorn.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "segment-stenosis-de",
        "Sichere Lappenbronchusstenose links, V. a. Segmentstenose rechts.",
        "Lappenbronchusstenose links, Segmentstenose rechts.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "mantle-pneumothorax-de",
        "Fraglicher Mantelpneumothorax rechts, kein Spannungspneumothorax.",
        "Mantelpneumothorax rechts, kein Spannungspneumothorax.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    # Controls: the kind keeps its level, whatever the plain finding's.
    (
        "bucket-handle-kept-de",
        "Komplexer Riss im Hinterhorn des Innenmeniskus, V. a. Korbhenkelriss.",
        "Komplexer Riss im Hinterhorn des Innenmeniskus, Verdacht auf Korbhenkelriss.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "tension-kept-de",
        "Kein Spannungspneumothorax. Kleiner Mantelpneumothorax rechts.",
        "Kleiner Mantelpneumothorax rechts, kein Spannungspneumothorax.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "flap-tear-kept-de",
        "Randständiger Riss, V. a. Lappenriss des Außenmeniskus.",
        "Randständiger Riss und wahrscheinlich ein Lappenriss des Außenmeniskus.",
        "summary",
        "de",
        None,
        "ok",
    ),
    # Across languages a named kind is spelled alike ("HAGL-Läsion", "HAGL lesion"): the output's
    # statement of that kind is compared with the source's of the same kind, not with another kind's.
    (
        "named-kind-de-to-en-flip",
        "Bankart-Läsion. Kein Hinweis auf HAGL-Läsion.",
        "Bankart lesion. Findings indicate a HAGL lesion.",
        "translation",
        "de",
        "en",
        "negation_changed",
    ),
    (
        "named-kind-en-to-de-flip",
        "Bankart lesion. No SLAP lesion.",
        "Bankart-Läsion. SLAP-Läsion.",
        "translation",
        "en",
        "de",
        "negation_changed",
    ),
    (
        "named-kind-de-to-en-perthes",
        "Perthes-Läsion am vorderen Labrum. Keine SLAP-Läsion.",
        "Perthes lesion of the anterior labrum. A SLAP lesion is present.",
        "translation",
        "de",
        "en",
        "negation_changed",
    ),
    (
        "named-kind-de-to-en-kept",
        "Bankart-Läsion. Kein Hinweis auf HAGL-Läsion.",
        "Bankart lesion. No evidence of a HAGL lesion.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "named-kind-en-to-de-kept",
        "Bankart lesion. No SLAP lesion.",
        "Bankart-Läsion. Keine SLAP-Läsion.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "named-kind-other-words",
        "Hypodense Läsion der Leber. Keine weitere Läsion.",
        "Hypodense lesion of the liver. No further lesion.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    # A denied narrower compound says nothing about the broader finding.
    (
        "narrower-denial",
        "Pneumothorax rechts, deutlich regredient. Kein Spannungszeichen.",
        "Pneumothorax rechts rückläufig, kein Spannungspneumothorax.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "broader-denial",
        "Pneumothorax rechts, deutlich regredient.",
        "Kein Pneumothorax rechts.",
        "summary",
        "de",
        None,
        "negation_changed",
    ),
    # A joint's Greek or Latin name before "arthrose" says where, not what kind: the denial of the
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
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_compound_kind_rows(row: Row) -> None:
    assert_row(row)


def test_omarthrosis_is_no_narrower_kind() -> None:
    """A denied "Omarthrose" is unqualified: it denies arthrosis at its joint, like "keine Arthrose"."""
    found = _findings(Analysis("Keine Omarthrose.", "de"), with_implied=False)
    assert [(f.concept, f.mention.negated, f.qualifier) for f in found] == [("osteoarthritis", True, None)]
