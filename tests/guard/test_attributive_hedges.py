"""A hedge standing after "with", "and" or an article is attributive: it hedges the noun after it only.

"Stenosis with likely impingement of the root" says the stenosis is there and the impingement likely;
"likely", "questionable" and the like also look back over a clause ("Pneumonia likely."), but not from this
position. A hedge after a finding followed by words of its own ("obstruction, probably adhesive") qualifies
those words, not the finding. Every example is invented for this file; controls show that a trailing hedge
made definite is still caught.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

ROWS: list[Row] = [
    (
        "likely-impingement",
        "At C5/6 a right disc-osteophyte complex causes severe right foraminal stenosis with likely "
        "impingement of the right C6 root.",
        "At C5/6 a bony spur has badly narrowed the opening on the right; it is probably pressing on "
        "the right C6 nerve.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "foraminal-en2",
        "Right foraminal stenosis at L4/5 with likely impingement of the L4 root.",
        "At L4/5 the opening on the right is narrowed, which probably presses on the L4 nerve.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "osteo-en",
        "Disc bulge and osteophytes with questionable contact with the exiting root.",
        "The disc bulges and there are bony spurs; whether they touch the nerve is unclear.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "questionable-consolidation",
        "Small right pleural effusion and questionable consolidation in the right lower lobe.",
        "There is a small effusion on the right and possibly some consolidation in the right lower lobe.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "an-indeterminate",
        "Simple cyst in segment II and an indeterminate lesion in segment VI.",
        "There is a simple cyst in segment II and a lesion of uncertain nature in segment VI.",
        "summary",
        "en",
        None,
        "ok",
    ),
    (
        "mit-wahrscheinlicher",
        "Bandscheibenvorfall L4/5 links mit wahrscheinlicher Kompression der Wurzel L5.",
        "Bandscheibenvorfall L4/5 links; die Wurzel L5 wird wahrscheinlich komprimiert.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "likely-control",
        "Right lower lobe consolidation. Pneumonia likely.",
        "Right lower lobe consolidation. Pneumonia.",
        "summary",
        "en",
        None,
        "review",
    ),
    (
        "likely-control-2",
        "Small effusion, likely reactive. Fracture likely.",
        "Small effusion, likely reactive. Definite fracture.",
        "summary",
        "en",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_attributive_rows(row: Row) -> None:
    assert_row(row)


LEVELS = [
    # A hedge followed by words qualifies those, not the finding before it.
    ("Small bowel obstruction, probably adhesive.", "en", "obstruction", "present"),
    ("Raumforderung, am ehesten ein Meningeom.", "de", "mass", "present"),
    ("Fluid collection, likely a lymphocele.", "en", "effusion", "present"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_trailing_hedge_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)
