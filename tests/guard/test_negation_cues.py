"""Which words and word orders deny a finding: "nirgends", "nicht gefunden", "staut sich kein", "fehlende
X" (denies X only), "was not seen" / "lässt sich nicht nachweisen" / "no longer visible" (the negation
looks back over its clause), a German negated verb at the end of its clause however far from "nicht",
"weder ... noch", a negation after its finding. A negation word ("non-", "ohne", "without") an output
drops is a flip.

Every example is invented for the guard's tests; each cue has controls where the finding is affirmed.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    # "nirgends" denies, before a participle or after its verb.
    (
        "nirgends-before-participle",
        "Keine Knochendestruktion.",
        "Der Knochen ist nirgends zerstört.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "nirgends-after-verb",
        "Keine pathologische Kontrastmittelanreicherung.",
        "Das Kontrastmittel reichert sich nirgends krankhaft an.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # A negation word the output drops is a flip.
    (
        "out-of-place-dropped-not",
        "Non-displaced fractures of the left 9th and 10th ribs.",
        "The 9th and 10th ribs on the left are broken and out of place.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    (
        "avaskulaere-nekrose",
        "Proximal pole with normal signal, without avascular necrosis.",
        "Proximaler Pol mit regelrechtem Signal, mit avaskulärer Nekrose.",
        "translation",
        "en",
        "de",
        "negation_changed",
    ),
    (
        "verlegung-dropped-ohne",
        "Sinusitis maxillaris links mit Verlegung der ostiomeatalen Einheit.",
        "Sinusitis maxillaris links ohne Verlegung der ostiomeatalen Einheit.",
        "correction",
        "de",
        None,
        "negation_changed",
    ),
    # "nicht gefunden", "nicht nach einem Tumor", "staut sich kein Urin" are denials.
    (
        "not-found-de",
        "Kein Appendikolith.",
        "Ein Kotstein im Wurmfortsatz wurde nicht gefunden.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "found-de",
        "Kein Appendikolith.",
        "Ein Kotstein im Wurmfortsatz wurde gefunden.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "not-after-preposition",
        "Entzündung, kein Tumor.",
        "Das sieht nach einer Entzündung aus, nicht nach einem Tumor.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "verb-before-kein",
        "Nieren bds. ohne Harnstau.",
        "In den Nieren staut sich kein Urin.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "verb-affirmed",
        "Nieren bds. ohne Harnstau.",
        "In den Nieren staut sich der Urin.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    # "fehlende X" denies X, not the finding before it.
    (
        "fehlende-is-local",
        "Vordere Kreuzbandruptur mit fehlender Kontinuität der Fasern.",
        "Vordere Kreuzbandruptur.",
        "summary",
        "de",
        None,
        "ok",
    ),
    # "X was not seen", "lässt sich nicht nachweisen", "no longer visible": the negation looks back
    # over the clause to the finding before its verb.
    (
        "not-seen-de-nachweisen",
        "Ein Erguss lässt sich nicht nachweisen.",
        "Es gibt keinen Erguss.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "not-seen-en-no-longer",
        "The effusion is no longer visible.",
        "There is no effusion anymore.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "not-seen-control-de",
        "Eine Blutung konnte nicht nachgewiesen werden.",
        "Es zeigt sich eine Blutung.",
        "correction",
        "de",
        None,
        "negation_changed",
    ),
    (
        "not-seen-control-en",
        "The previously seen pneumothorax is no longer visible.",
        "There is a pneumothorax.",
        "summary",
        "en",
        None,
        "negation_changed",
    ),
    # German puts a negated verb at the end of its clause, however far from "nicht".
    (
        "verb-final-de-relative",
        "Abszess links ohne Ausbreitung in die Halsweichteile.",
        "Eiter links, der sich nicht weiter in den Hals ausgebreitet hat.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "verb-final-de-main",
        "Keine Blutung im Kopf.",
        "Im Kopf hat es nicht noch einmal geblutet.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "verb-final-de-control",
        "Abszess links ohne Ausbreitung in die Halsweichteile.",
        "Eiter links, der sich tief in den Hals ausgebreitet hat.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "noch-is-still-control",
        "Keine Blutung im Kopf.",
        "Im Kopf hat es noch einmal geblutet.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    # A negation after its finding, and a negated verb, deny the finding.
    (
        "postposed-negation-de",
        "Nieren beidseits ohne Harnstau. Kleiner Nierenstein links.",
        "Ein Harnstau besteht auf keiner Seite. In der linken Niere liegt ein kleiner Stein.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "postposed-negation-control",
        "Harnstau rechts. Kleiner Nierenstein links.",
        "Ein Harnstau besteht auf keiner Seite. In der linken Niere liegt ein kleiner Stein.",
        "simplification",
        "de",
        None,
        "negation_changed",
    ),
    (
        "verb-negation-en-de",
        "The right frontal lesion does not enhance.",
        "Die rechts frontale Läsion reichert nicht an.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "verb-negation-control",
        "The right frontal lesion shows ring enhancement.",
        "Die rechts frontale Läsion reichert nicht an.",
        "translation",
        "en",
        "de",
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_negation_cue_rows(row: Row) -> None:
    assert_row(row)


LEVELS = [
    ("Ein Erguss lässt sich nicht nachweisen.", "de", "effusion", "absent"),
    ("Eine Blutung konnte nicht nachgewiesen werden.", "de", "haemorrhage", "absent"),
    ("Die Fraktur ist nicht mehr abgrenzbar.", "de", "fracture", "absent"),
    ("The pneumothorax is no longer visible.", "en", "pneumothorax", "absent"),
    ("A haematoma was not seen.", "en", "haematoma", "absent"),
    ("The fracture is no longer apparent.", "en", "fracture", "absent"),
    ("No effusion is seen.", "en", "effusion", "absent"),
    ("Abszess, der sich nicht in den Hals ausgebreitet hat.", "de", "extension", "absent"),
    ("Die Sehne ist nicht nur verdickt, sondern gerissen.", "de", "rupture", "present"),
    ("Der Erguss ist noch vorhanden.", "de", "effusion", "present"),
    ("Die Bandscheibe wölbt sich vor und berührt keinen Nerv.", "de", "contact", "absent"),
    ("Der Tumor infiltriert keine Nachbarorgane.", "de", "invasion", "absent"),
    ("Weder Erguss noch Pneumothorax.", "de", "pneumothorax", "absent"),
    ("Weder Erguss, noch Pneumothorax.", "de", "pneumothorax", "absent"),
    (
        "Die Lunge dehnt sich links nicht aus, die Bandscheibe drückt aber nicht ein.",
        "de",
        "compression",
        "absent",
    ),
    ("Der Vorfall drückt die Wurzel nicht ein.", "de", "compression", "absent"),
    ("Sie berührt die Wurzel, drückt sie aber nicht ein.", "de", "compression", "absent"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_negation_cue_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)
