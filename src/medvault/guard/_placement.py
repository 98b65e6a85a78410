"""Which source statement an output statement rewords, where the concept alignment of the negation check
(`_negation._by_concept`) found several: within one language the one whose sentence shares most words,
in a translation the one at its place (a translation keeps the order of sentences).
"""

from __future__ import annotations

import math

from medvault.guard._context import Pair
from medvault.guard._statements import _Finding, apart
from medvault.guard._text import WORD, Analysis


def worded_alike(pair: Pair, o: _Finding, known: list[_Finding], agreeing: list[_Finding]) -> bool:
    """Whether the output's sentence rewords the aligned statements' sentence rather than any other source
    sentence about the concept at the output's level (`agreeing`): within one language it shares more
    words with it ("In den Unterschenkelvenen gibt es Gerinnsel" rewords "Keine Thrombose der
    Unterschenkelvenen", not "Thrombus in der V. poplitea"); across languages (a translation keeps the
    order of sentences) it stands at its place and the others do not."""
    named = [f for f in known if not f.implied]
    if not pair.same_language:
        return _at_place(pair, o, named) and not _at_place(pair, o, agreeing)
    mine = _sentence_words(pair.output, o.mention.start)
    best = max((len(mine & _sentence_words(pair.source, f.mention.start)) for f in agreeing), default=0)
    return any(len(mine & _sentence_words(pair.source, f.mention.start)) > best for f in named)


def translated_agreeing(pair: Pair, o: _Finding, known: list[_Finding], at_level: list[_Finding]) -> bool:
    """Whether a translation's statement stands at the place of a source statement of the concept at
    its own level (`at_level`) and not at that of the aligned ones: a translation keeps the order of
    sentences, so it translates that one ("vereinbar mit einer Bankart-Läsion" for "c/w bony Bankart
    lesion", not "AC joint intact" which the alignment found through a shared organ)."""
    if pair.same_language:
        return False
    agreeing = [
        f
        for f in at_level
        if not f.implied and not apart(f, o, organs=False)  # the organs each language's words name may differ
    ]
    return _distance(pair, o, agreeing) < min(1, _distance(pair, o, known))


def _at_place(pair: Pair, o: _Finding, findings: list[_Finding]) -> bool:
    """Whether one of the source statements stands within a sentence of the output statement's place."""
    return _distance(pair, o, findings) <= 1


def _distance(pair: Pair, o: _Finding, findings: list[_Finding]) -> float:
    """How many sentences the nearest of the source statements stands from the output statement."""
    here = pair.output.segments[o.mention.segment].sentence
    return min(
        (abs(pair.source.segments[f.mention.segment].sentence - here) for f in findings), default=math.inf
    )


def _sentence_words(doc: Analysis, offset: int) -> set[str]:
    """The longer words (five letters or more) of the sentence holding `offset`."""
    start, end = doc.sentence_span(offset)
    return {w for w in WORD.findall(doc.lower, start, end) if len(w) >= 5 and w.isalpha()}
