"""Hedge and denial words read by their place: "allenfalls" (at most, if at all) hedges what follows or
precedes it; "eher" (rather) hedges a finding, but before a word of size or degree it grades that word
("eine eher kleine Zyste" is a cyst, rather small); English "none" denies ("none on the left", "none
enlarged"); an opinion verb ("thought to be", "considered to be", "gilt als", "vermutet wird") hedges
what it names. Every example is invented for this file; controls show that a hedge made definite is caught.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

LEVELS = [
    ("Links allenfalls beginnende Arthrose.", "de", "osteoarthritis", "possible"),
    ("Pleuraerguss allenfalls minimal.", "de", "pleural_effusion", "possible"),
    ("Allenfalls geringer Pleuraerguss rechts.", "de", "pleural_effusion", "possible"),
    ("Eher Narbe als Rezidiv.", "de", "scar", "probable"),
    ("Befund eher einer Narbe entsprechend.", "de", "scar", "probable"),
    ("Eine eher kleine Zyste der linken Niere.", "de", "cyst", "present"),
    ("Eher geringer Pleuraerguss links.", "de", "pleural_effusion", "present"),
    ("Eher ausgeprägte Stenose der A. carotis interna.", "de", "stenosis", "present"),
    ("Lymph nodes: none enlarged.", "en", "enlargement", "absent"),
    ("Effusion on the right, none enlarged on the left.", "en", "enlargement", "absent"),
    ("None of the nodes is enlarged.", "en", "enlargement", "absent"),
    # An opinion verb hedges what it names ("thought to be", "gilt als").
    ("It is thought to be a fibroadenoma.", "en", "fibroadenoma", "probable"),
    ("The nodule is considered to be a fibroadenoma.", "en", "fibroadenoma", "probable"),
    ("The lesion is believed to be a cyst.", "en", "cyst", "probable"),
    ("Der Herd gilt als Fibroadenom.", "de", "fibroadenoma", "probable"),
    ("Vermutet wird ein Fibroadenom.", "de", "fibroadenoma", "probable"),
    ("She has a fibroadenoma.", "en", "fibroadenoma", "present"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_hedge_word_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)


ROWS: list[Row] = [
    (
        "allenfalls-de-simplification",
        "Allenfalls geringer Pleuraerguss rechts.",
        "Rechts vielleicht ein kleiner Erguss.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "eher-degree-de-summary",
        "Eine eher kleine Zyste der linken Niere.",
        "Kleine Zyste der linken Niere.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "none-en-summary",
        "Lymph nodes: none enlarged.",
        "No enlarged lymph nodes.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: the hedge made definite, the denial made a finding.
    (
        "allenfalls-de-definite",
        "Allenfalls geringer Pleuraerguss rechts.",
        "Rechts sicher ein Pleuraerguss.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "eher-de-definite",
        "Eher Narbe als Rezidiv.",
        "Narbe.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "none-en-present",
        "Lymph nodes: none enlarged.",
        "Lymph nodes: an enlarged node.",
        "summary",
        "en",
        None,
        "negation_changed",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_hedge_word_rows(row: Row) -> None:
    assert_row(row)
