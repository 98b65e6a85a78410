"""A measurement anchors a side only where it measures something of its own: a size is anchored by its
first dimension (the "1.5" of "4.6 x 1.5 x 1.4 cm" is no measurement said again elsewhere), and a
threshold ("1.5 cm or larger", "≥ 10 mm", "mindestens 1 cm") is a criterion, not a finding's size.
A measurement that keeps its side aligns the sentence; a measurement-only part measures the sided
finding before it; a side said by existence stops at a conflicting measurement; and an output sentence
that keeps a measurement of a source sentence not about the finding makes a flip against another
sentence unsure.

Every example is invented for this file; controls: a side changed on a measured finding is still caught.
"""

from __future__ import annotations

import pytest

from medvault.guard import check
from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

_THYROID = (
    "Thyroid ultrasound.\nRight lobe: 5.0 x 1.8 x 1.6 cm. Left lobe: 4.4 x 1.5 x 1.3 cm.\n"
    "Right lobe nodule, 1.7 cm, solid, TR4.\nLeft lobe nodule, 0.5 cm, spongiform, TR1.\n"
    "Impression: Right TR4 nodule of 1.7 cm; meets FNA criteria (TR4, 1.5 cm or larger)."
)
_NIERE = (
    "Sonographie Nieren.\nRechte Niere 11,2 x 2,0 x 5,1 cm. Linke Niere 10,8 x 5,0 x 4,9 cm.\n"
    "Zyste der linken Niere, 2,1 cm, Bosniak I.\n"
    "Beurteilung: Bosniak-I-Zyste links; Kontrolle erst ab einer Größe von 5,0 cm oder mehr."
)
_LIVER = (
    "CT abdomen.\nLeft adrenal adenoma, 1 cm.\nRight adrenal nodule, 2.2 cm, indeterminate.\n"
    "Impression: Right adrenal nodule; adrenal protocol CT advised for nodules of at least 1 cm."
)

ROWS: list[Row] = [
    (
        "threshold-vs-size-dimension-en",
        _THYROID,
        "The larger lump is on the right side and is 1.7 cm. Because the right-sided nodule is 1.5 cm or "
        "larger, a small needle sample is advised. The small left nodule, 0.5 cm, looks harmless.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "threshold-vs-size-dimension-de",
        _NIERE,
        "Harmlose Zyste der linken Niere (2,1 cm). Kontrolle erst nötig, wenn die Zyste links 5,0 cm "
        "oder mehr misst.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "at-least-threshold-en",
        _LIVER,
        "Right adrenal nodule of 2.2 cm; as the right nodule is at least 1 cm, an adrenal CT is advised. "
        "Small left adrenal adenoma (1 cm).",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: the measured finding moved to the other side.
    (
        "control-en",
        _THYROID,
        "The larger lump is on the left side and is 1.7 cm. Because it is 1.5 cm or larger, a small "
        "needle sample is advised. The small left nodule looks harmless.",
        "simplification",
        "en",
        None,
        "side_changed",
    ),
    (
        "control-de",
        _NIERE,
        "Harmlose Zyste der rechten Niere (2,1 cm). Eine Kontrolle ist erst ab 5,0 cm oder mehr nötig.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
    (
        "control-size-first-dimension-de",
        _NIERE,
        "Linke Niere 11,2 cm lang. Bosniak-I-Zyste links (2,1 cm); Kontrolle erst ab 5,0 cm oder mehr.",
        "summary",
        "de",
        None,
        "side_changed",
    ),
    # A measurement that keeps its side aligns the sentence: the organ word is vocabulary, not a change.
    (
        "side-held-by-measurement",
        "A 15 mm lesion in the right parietal lobe. A 6 mm lesion in the left cerebellar hemisphere.",
        "A 15 mm spot in the right side of the brain. A 6 mm spot in the left side of the brain.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "side-against-measurement",
        "A 15 mm lesion in the right parietal lobe. A 6 mm lesion in the left cerebellar hemisphere.",
        "A 15 mm spot in the left side of the brain. A 6 mm spot in the left side of the brain.",
        "simplification",
        "en",
        None,
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_measure_anchors(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    # Existential sides stop at a conflicting measurement: the 15 mm lesion is not the 6 mm one.
    (
        "measure-control-de",
        "Läsion 15 mm im rechten Parietallappen. Läsion 6 mm im linken Kleinhirn.",
        "Ein 15 mm großer Herd links im Gehirn. Ein 6 mm großer Herd links im Gehirn.",
        "simplification",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "measure-union-en",
        "Right ovary 3 cm, normal. Left ovary 3 cm, normal.",
        "Both ovaries are normal, about 3 cm each.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    # A measurement-only part measures the sided finding before it.
    (
        "measure-part-lay-de",
        "Herd im Oberlappen rechts, dorsal, 9 mm, glatt begrenzt.",
        "In der Lunge, auf der linken Seite und weiter hinten, zeigt sich ein etwa 0,9 cm großer Bereich, "
        "der auffällig ist.",
        "simplification",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "measure-part-lay-en",
        "Cyst in the lower pole of the left kidney, posterior, 23 mm, simple.",
        "In your kidney, on the right side and towards the back, there is an area of 23 mm that stands out.",
        "simplification",
        "en",
        None,
        "laterality",
        "side_changed",
    ),
    (
        "measure-part-kept-de",
        "Herd im Oberlappen rechts, dorsal, 9 mm, glatt begrenzt.",
        "In der Lunge, auf der rechten Seite und weiter hinten, zeigt sich ein etwa 0,9 cm großer Bereich, "
        "der auffällig ist.",
        "simplification",
        "de",
        None,
        "laterality",
        "not review",
    ),
    (
        "measure-part-kept-en",
        "Cyst in the lower pole of the left kidney, posterior, 23 mm, simple.",
        "On the left side, towards the back of your kidney, there is an area of 23 mm that stands out.",
        "simplification",
        "en",
        None,
        "laterality",
        "not review",
    ),
    (
        # control: parts with sides of their own keep them ("rechts, 12 mm, und links, 9 mm")
        "measure-own-sides-control",
        "Nierenzysten rechts, 12 mm, und links, 9 mm.",
        "Zysten beider Nieren: links 12 mm, rechts 9 mm.",
        "summary",
        "de",
        None,
        "laterality",
        "side_changed",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_measure_anchor_checked_rows(row: CheckedRow) -> None:
    assert_checked_row(row)


def test_measurement_of_another_sentence_makes_a_flip_unsure() -> None:
    """An output sentence keeping a measurement of a source sentence that does not speak of the
    finding rewords that sentence: a polarity change against another sentence is not sure."""
    result = check(
        "Tumor des Rektums mit Infiltration des mesorektalen Fettgewebes um 6 mm. Mesorektale Faszie "
        "nicht infiltriert.",
        "Rectal tumour extending 6 mm into the mesorectal fat. The mesorectal fascia is not involved.",
        task="translation",
        lang="de",
        target_lang="en",
    )
    assert result.verdict == "unchecked", result.flags
    assert [u.reason for u in result.unchecked] == ["unsure_negation_changed"]
    # Control: the same flip without a kept measurement elsewhere is sure.
    control = check(
        "Mesorektale Faszie nicht infiltriert.",
        "The tumour has grown into the mesorectal fascia.",
        task="translation",
        lang="de",
        target_lang="en",
    )
    assert control.verdict == "review", control.flags
