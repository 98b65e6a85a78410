"""What a text says of a finding on an earlier study: new since then ("not present on the radiograph of
2021", "auf der Voraufnahme noch nicht abgrenzbar") or there already ("was already visible on your X-ray
from 2021", "bereits auf der Voraufnahme sichtbar"). A new finding presented as long-standing, or the
reverse, flips a negation about the earlier study; the finding's level now is the same in both texts,
so the statement comparison (`_negation._by_concept`) cannot see it.
"""

from __future__ import annotations

import re

from medvault.guard._context import Pair
from medvault.guard._model import Flag
from medvault.guard._scopes import EARLIER_EN, STUDY_EN
from medvault.guard._statements import _Finding, apart, statements
from medvault.guard._text import Analysis

_STUDY = {"en": STUDY_EN, "de": r"(?:aufnahme|untersuchung|röntgen\w*|bild\w*|ct|mrt|sonographie)"}
# An earlier study: "the prior CT", "the radiograph of 2021", "your X-ray from 2021", "der Voraufnahme",
# "der Untersuchung vom 03/2024".
_EARLIER = {
    "en": re.compile(
        rf"\b(?:{EARLIER_EN}\s+(?:\w+\s+)?{_STUDY['en']}"
        rf"|{_STUDY['en']}\s+(?:of|from|dated|in)\s+(?:\w+\s+)?(?:19|20)\d\d)\b"
    ),
    "de": re.compile(
        rf"\b(?:vor(?:aufnahme|untersuchung|befund|bild)\w*"
        rf"|{_STUDY['de']}\s+(?:vom|von|aus)\s+(?:\w+\s+)?(?:\d{{1,2}}[./])?(?:19|20)\d\d)\b"
    ),
}
# Not there on the earlier study: "not present on", "not seen in", "auf der Voraufnahme noch nicht".
_NOT_THEN = {
    "en": re.compile(
        r"\bnot\s+(?:\w+\s+)?(?:present|seen|visible|evident|identified|apparent|shown|there)\b"
        r"|\bnew\s+since\b"
    ),
    "de": re.compile(
        r"\b(?:noch\s+)?nicht\s+(?:\w+\s+)?"
        r"(?:abgrenzbar|sichtbar|nachweisbar|vorhanden|zu\s+sehen|erkennbar)\b"
        r"|\bneu\s+aufgetreten\b"
    ),
}
# There already on the earlier study: "was already visible", "bereits ... sichtbar".
_ALREADY = {
    "en": re.compile(
        r"\b(?:already|also)\s+(?:\w+\s+)?(?:present|seen|visible|there|shown|evident|apparent)\b"
    ),
    "de": re.compile(
        r"\b(?:bereits|schon)\s+(?:[\w.]+\s+){0,6}?"
        r"(?:sichtbar|abgrenzbar|vorhanden|nachweisbar|zu\s+sehen|erkennbar)\b"
    ),
}


# A sentence that speaks of the finding of the sentence before it: "It was already visible ...".
_PRONOUN = {
    "en": re.compile(r"\s*(?:\w+,\s*)?(?:it|this|these|they|which)\b"),
    "de": re.compile(r"\s*(?:\w+\s+)?(?:er|sie|es|dieser|diese|dieses)\b"),
}


def _then(doc: Analysis) -> list[tuple[_Finding, bool]]:
    """The statements of sentences about an earlier study, with whether each says the finding was there
    then (True: "already visible") or not (False: "not present on the radiograph of 2021"). A sentence
    naming no finding that starts with a pronoun speaks of the findings of the sentence before it."""
    by_sentence: dict[int, list[_Finding]] = {}
    for f in statements(doc):
        if not f.mention.negated:
            by_sentence.setdefault(doc.segments[f.mention.segment].sentence, []).append(f)
    found = []
    for sentence, (start, end) in doc.sentence_spans.items():
        if not _EARLIER[doc.lang].search(doc.lower, start, end):
            continue
        new = _NOT_THEN[doc.lang].search(doc.lower, start, end)
        old = _ALREADY[doc.lang].search(doc.lower, start, end)
        named = by_sentence.get(sentence) or (
            by_sentence.get(sentence - 1, []) if _PRONOUN[doc.lang].match(doc.lower, start) else []
        )
        if bool(new) != bool(old):
            found += [(f, bool(old)) for f in named]
    return found


def prior_changes(pair: Pair) -> list[Flag]:
    """Findings the source calls new since an earlier study that the output says were there already, or
    the reverse, where the two statements are about the same place and neither text says both."""
    output = _then(pair.output)
    if not output:  # most outputs speak of no earlier study: the source need not be read
        return []
    source = _then(pair.source)
    flags: dict[str, Flag] = {}
    for o, there in output:
        if o.concept in flags or any(f.concept == o.concept and was != there for f, was in output):
            continue
        said = [(f, was) for f, was in source if f.concept == o.concept and not apart(f, o)]
        if not said or {was for _, was in said} != {not there}:
            continue
        s = said[0][0]
        levels = {"source_level": _level(not there), "output_level": _level(there)}
        message = (
            f"'{s.mention.word}' on the earlier study: source says {levels['source_level']}, "
            f"output '{o.mention.word}' says {levels['output_level']}"
        )
        span_s, span_o = (s.mention.start, s.mention.end), (o.mention.start, o.mention.end)
        flags[o.concept] = Flag("negation", message, "major", span_s, span_o, "negation_changed", levels)
    return list(flags.values())


def _level(there: bool) -> str:
    return "present" if there else "absent"
