"""A denial qualified as "new" or "further" presupposes the finding it qualifies.

"Keine neuen Metastasen" in a follow-up says the known metastases are still there; "no further fracture" says
there is one. Neither denies an unqualified statement of the finding in the output ("the metastases have
shrunk"). A qualifier of another phrase ("neue Fraktur ohne Hinterkantenbeteiligung") does not qualify the
denied finding. "Sonst" (otherwise) qualifies like "further"; a denied degree ("no significant stenosis")
allows the finding to a lesser degree. Every example is invented for this file; controls show that a flip of
the qualified statement itself is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.rule_rows import Row, assert_confident_change, assert_row

ROWS: list[Row] = [
    (
        "new-mets-de",
        "CT Abdomen. Lebermetastasen in Segment VII (24 mm, Vor-U 35 mm) und IVa. Keine neuen Metastasen.",
        "Die Tochtergeschwülste (Metastasen) in der Leber sind kleiner geworden. Es sind keine neuen "
        "hinzugekommen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "new-mets-de2",
        "Zielläsionen: Leber Segment VII 24 mm (Vor-U 35 mm), Segment IVa 12 mm (Vor-U 18 mm). Keine "
        "neuen Metastasen.",
        "Die Metastasen in der Leber sind kleiner geworden.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "new-mets-en2",
        "Target lesions: liver segment VII 24 mm (previously 35 mm). No new metastases.",
        "The metastases in the liver have shrunk.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "new-lesions-en",
        "Known hepatic metastases, segment VII 24 mm (previously 35 mm). No new lesions.",
        "The known liver metastases have shrunk, segment VII now 24 mm. There are metastases in the "
        "liver, none of them new.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "new-de3",
        "Zielläsionen Lunge: 14 mm (Vor-U 20 mm). Keine neuen Lungenrundherde.",
        "Die Rundherde in der Lunge sind kleiner geworden.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "further-fracture-de",
        "Fraktur des Os scaphoideum rechts. Keine weitere Fraktur.",
        "Am rechten Kahnbein ist ein Bruch zu sehen; ein Bruch liegt also vor, weitere Brüche gibt es nicht.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "further-fracture-en",
        "Undisplaced fracture of the right distal radius. No further fracture.",
        "There is a crack in the right wrist bone (fracture), but no further fracture.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "further-en2",
        "Comminuted distal radius break with dorsal tilt. No further fractures.",
        "The wrist bone is broken in several pieces; these fractures are tilted backwards.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "new-mets-flipped",
        "CT Abdomen. Lebermetastasen in Segment VII. Keine neuen Metastasen.",
        "Lebermetastasen in Segment VII. Neue Metastasen.",
        "correction",
        "de",
        None,
        "review",
    ),
    (
        "new-lesions-flipped-en",
        "Known hepatic metastases. No new lesions.",
        "Known hepatic metastases. New lesions.",
        "correction",
        "en",
        None,
        "review",
    ),
    (
        "qualifier-other-phrase",
        "Neue Sinterungsfraktur BWK 8 ohne Hinterkantenbeteiligung.",
        "New compression fracture of T8 with involvement of the posterior wall.",
        "translation",
        "de",
        "en",
        "review",
    ),
    # "sonst" ("otherwise") qualifies a denial like "further".
    (
        "sonst-qualifier",
        "Zwei Läsionen der Leber. Keine weiteren fokalen Läsionen.",
        "Zwei Knoten in der Leber. Sonst gibt es keine Herde in der Leber.",
        "simplification",
        "de",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_presupposing_rows(row: Row) -> None:
    assert_row(row)


DEGREES = [
    # A denied degree ("no significant") allows the finding to a lesser degree.
    (
        "Ohne relevante Mittellinienverlagerung (3 mm).",
        "There is 3 mm of midline shift, which is not significant.",
        "de",
        "translation",
        False,
    ),
    (
        "No significant stenosis of the left carotid.",
        "There is a slight narrowing of the left carotid.",
        "en",
        "simplification",
        False,
    ),
    (
        "Kein wesentlicher Pleuraerguss.",
        "Ein kleiner Pleuraerguss ist vorhanden.",
        "de",
        "simplification",
        False,
    ),
    # Control: the finding stated without a lesser degree is still a negation flip.
    (
        "No significant stenosis of the left carotid.",
        "There is a stenosis of the left carotid.",
        "en",
        "simplification",
        True,
    ),
]


@pytest.mark.parametrize(("source", "output", "lang", "task", "flagged"), DEGREES)
def test_denied_degree(source: str, output: str, lang: str, task: str, flagged: bool) -> None:
    assert_confident_change(source, output, lang, task, flagged)
