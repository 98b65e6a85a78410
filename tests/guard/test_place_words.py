"""A phrase that holds a finding's word but names a place ("in this spot", "at the same spot") is no
finding: `-` rows of the vocabulary (data/lexicon.txt) hide the shorter form inside them.

Every example is invented for this file; controls: "spot" naming a lesion is still read, and a lesion
an output invents is still a new finding.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_reading
from tests.guard.rule_rows import Row, assert_row


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Bones heal slowly in this spot.", None),
        ("The tendon tore again at the same spot.", None),
        ("The pain is in exactly that spot.", None),
        ("It broke at the very spot where the plate ends.", None),
        # controls: "spot" as a lesion
        ("There is a small spot on the liver.", "lesion"),
        ("A new spot in the left lung.", "lesion"),
    ],
)
def test_place_phrase_is_no_finding(text: str, concept: str | None) -> None:
    assert_reading(text, "en", "spot", concept)


ROWS: list[Row] = [
    (
        "fracture-place",
        "Fracture of the left distal radius. No dislocation.",
        "The bone of your left forearm is broken near the wrist. Breaks in this spot usually heal well. "
        "The joint is not dislocated.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "scar-place",
        "Status post appendectomy. Small incisional hernia at the scar. No bowel obstruction.",
        "You had your appendix removed. At the same spot as the scar there is a small hernia. "
        "The bowel is not blocked.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    # control: a spot the output invents is still a new finding
    (
        "invented-spot",
        "Liver of normal size. Gallbladder normal. No free fluid.",
        "The liver is of normal size and has a spot. The gallbladder is normal. There is no free fluid.",
        "simplification",
        "en",
        None,
        "review",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_place_phrase_in_pairs(row: Row) -> None:
    assert_row(row)
