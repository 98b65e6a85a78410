"""Spinal levels named in a text ("L5", "Th12", "LWK 5/SWK 1")."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A spinal level: a vertebra ("L5", "Th12", "LWK 5", "S1-Wurzel") or a disc between two ("L4/5", "C5-C6",
# "LWK 5/SWK 1"). "T1"/"T2" name MRI sequences far more often than vertebrae and are left out.
_REGION = r"hwk|bwk|lwk|swk|th|c|l|s|t(?=\s?(?:[3-9]|1[0-2])(?!\d))"
_SPINE = re.compile(
    rf"(?<![\w/])(?P<r1>{_REGION})\s?(?P<n1>\d{{1,2}})"
    rf"(?:(?:\s?[/-]\s?|\s+(?:und|and)\s+)(?:(?P<r2>{_REGION})\s?)?(?P<n2>\d{{1,2}}))?(?![\d/])"
)
_REGION_NAME = {"hwk": "c", "bwk": "t", "th": "t", "lwk": "l", "swk": "s"}


def spinal_levels(text: str) -> Iterator[tuple[int, str]]:
    """(offset, level) for each spinal level `text` names ("l5", "l4/l5")."""
    for m in _SPINE.finditer(text):
        first = _REGION_NAME.get(m["r1"], m["r1"]) + m["n1"]
        second = m["n2"] and _REGION_NAME.get(m["r2"] or "", m["r2"] or first[0]) + m["n2"]
        yield m.start(), f"{first}/{second}" if second else first
