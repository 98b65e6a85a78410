"""New findings and omissions: concepts on one side of the pair without a counterpart on the other.

Concepts come from the shared German/English lexicon, so a translation is compared concept by
concept. A concept counts as grounded when the source names it, names a concept that implies it (a
broader term, the organ of an organ-specific finding, a lay paraphrase), or, within one language,
has a word that differs only in spelling (the source of a correction is full of typos).
"""

from __future__ import annotations

from medvault.guard._context import Pair
from medvault.guard._lexicon import CONCEPTS, closure, implied
from medvault.guard._model import Flag, Severity
from medvault.guard._text import Analysis, Mention, similar


def _spelled_in(word: str, doc: Analysis) -> bool:
    """Whether `doc` holds `word`, or (same language) a word differing from it by spelling only."""
    if word in doc.word_set:
        return True
    return any(similar(word, other) for other in doc.word_set if abs(len(other) - len(word)) <= 2)


def _first_per_concept(mentions: list[Mention]) -> dict[str, list[Mention]]:
    grouped: dict[str, list[Mention]] = {}
    for m in mentions:
        grouped.setdefault(m.concept, []).append(m)
    return grouped


def new_findings(pair: Pair) -> list[Flag]:
    """Flag findings (major) and organs (task's `new_anatomy`) that the output adds to the source."""
    grounded = closure(pair.source.concepts)
    flags = []
    for concept, mentions in _first_per_concept(pair.output.mentions).items():
        if concept in grounded:
            continue
        if pair.same_language and any(_spelled_in(m.word, pair.source) for m in mentions):
            continue
        first = mentions[0]
        severity: Severity | None
        if CONCEPTS[concept].kind == "N":
            continue
        if CONCEPTS[concept].kind != "F":
            severity, what = pair.rules.new_anatomy, "organ or device"
        elif CONCEPTS[concept].implies & pair.source.concepts or all(m.negated for m in mentions):
            severity, what = "minor", "finding (more specific, or negated)"
        else:
            severity, what = "major", "finding"
        if severity:
            message = f"'{first.word}': {what} not in the source"
            flags.append(Flag("new_findings", message, severity, None, (first.start, first.end)))
    return flags


def omissions(pair: Pair) -> list[Flag]:
    """Flag findings of the source that the output no longer mentions."""
    present = pair.output.concepts
    flags = []
    for concept, mentions in _first_per_concept(pair.source.mentions).items():
        if CONCEPTS[concept].kind != "F" or concept in present:
            continue
        if (CONCEPTS[concept].implies & present) or any(concept in implied(c) for c in present):
            continue  # said in broader or narrower words
        if pair.same_language and any(_spelled_in(m.word, pair.output) for m in mentions):
            continue
        negative = all(m.negated for m in mentions)
        severity = pair.rules.omission_negated if negative else pair.rules.omission
        if severity:
            first = mentions[0]
            message = f"'{first.word}': {'negative ' if negative else ''}finding of the source is missing"
            flags.append(Flag("omissions", message, severity, (first.start, first.end), None))
    return flags
