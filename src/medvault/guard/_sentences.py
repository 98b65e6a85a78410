"""Where a sentence or segment ends: sentence marks that are not abbreviation dots, commas and
contrastive conjunctions."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(
    # The lookahead holds every first character of the alternatives: the engine skips all other
    # positions without trying each alternative there.
    r"(?=[.!?;:,\s])"
    r"(?:(?P<sentence>[.!?;:](?=\s|$)|\n)"
    r"|(?P<segment>,(?=\s)|\s(?=(?:aber|jedoch|allerdings|sondern|während|but|however|whereas|while)\b)))",
    re.IGNORECASE,
)
# A dot after one of these (or after a single letter, or inside "a.p.") does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"ca", "bzw", "vs", "li", "re", "bds", "ggf", "evtl", "max", "min", "mind", "zn", "va", "dd", "st"}
    | {"approx", "incl", "etc", "eg", "ie", "dr", "prof", "nr"}
)


def _open_bracket(text: str, start: int, end: int) -> bool:
    return text.count("(", start, end) > text.count(")", start, end)


def _ends_sentence(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return True
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot]
    if not word.isalpha() and any(c.isdigit() for c in word):  # no letter is a digit
        return True  # "RV/LV 1,1. Kleiner ...": a number ends a sentence more often than it is an ordinal
    return not ((len(word) == 1 and word.isalpha()) or "." in word or word.lower() in _ABBREVIATIONS)
