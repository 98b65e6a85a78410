"""Negation polarity: a finding negated in the source must stay negated in the output, and vice versa.

Polarity comes from `Analysis` (clause-level cue scopes in German and English; pseudo-negations such
as "nicht auszuschließen" / "cannot be excluded" do not count). A source often holds both polarities
of one concept ("Erguss links, rechts kein Erguss"; "Blutung rechts, keine Ventrikeleinbruchblutung"),
so each output finding is compared in the most specific context the source also has: same concept
with the same organs and sides in its segment, then same sides, then same organs, then anywhere (never
with statements about the other side only). A source finding also speaks for the findings it directly
implies ("Pleuraerguss" for "Erguss"); an affirmed output finding that the source never names is
checked against the source's denials of what it implies ("Pneumonie" against "kein Infiltrat").

Within one language and for corrections, a negation word the output dropped or added in an otherwise
aligned passage ("Kein Hydrozephalus" -> "Hydrozephalus") is flagged even when the finding itself is
not in the vocabulary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from medvault.guard._context import Pair
from medvault.guard._lexicon import CONCEPTS
from medvault.guard._model import Flag
from medvault.guard._text import Analysis, Mention

_NORMAL = "normal"  # the lexicon's concept of an organ said to be normal ("Leber unauffällig")
# Qualifiers that make a statement apart from the unqualified one: "keine frische Blutung" says nothing
# about a chronic haematoma, "keine weitere Fraktur" nothing about the first one. A qualifier applies
# across the noun phrase: up to three words may stand between it and the finding.
_QUALIFIERS = {
    "further": r"weitere?[nmrs]?|andere?[nmrs]?|zusätzliche?[nmrs]?|übrige?[nmrs]?|restliche?[nmrs]?"
    r"|sonst|ansonsten|other|further|additional|remaining|otherwise|elsewhere",
    "acute": r"akute?[nmrs]?|frische?[nmrs]?|acute|fresh",
    "new": r"neue?[nmrs]?|new",
    "active": r"aktive?[nmrs]?|anhaltende?[nmrs]?|active|ongoing|still",
    "chronic": r"chronische?[nmrs]?|chronic|alte?[nmrs]?|old",
}
_QUALIFIER = re.compile(
    r"\b(?:"
    + "|".join(f"(?P<{key}>{forms})" for key, forms in _QUALIFIERS.items())
    + r")\s+(?:[\w-]+\s+){0,3}$"
)


@dataclass(frozen=True, slots=True)
class _Finding:
    """One finding mention in its context: the organs and sides named in the same segment."""

    concept: str
    organs: frozenset[str]
    sides: frozenset[str]
    mention: Mention
    implied: bool = False  # stands for a finding that another one implies
    qualifier: str | None = None  # "weitere Fraktur", "no acute haemorrhage": see `_QUALIFIERS`
    organ_only: bool = False  # valid only where the organs agree


def _findings(doc: Analysis, with_implied: bool) -> list[_Finding]:
    """Finding mentions with context; a source mention also stands for what it directly implies.

    The context is the organs and sides of the segment; a segment without a side word (or without an
    organ) takes those of its sentence ("zwei Steine in der linken Niere, 3 und 4 mm, die nicht
    obstruieren"; "the supraspinatus tendon is worn, but not torn").
    """
    organs_of: dict[int, set[str]] = defaultdict(set)
    sentence_organs: dict[int, set[str]] = defaultdict(set)
    findings_in: dict[int, list[Mention]] = defaultdict(list)
    normal_segments = set()
    for m in doc.mentions:
        if m.kind == "F":
            findings_in[m.segment].append(m)
        elif m.kind == "N":
            normal_segments.add(m.segment)
        else:
            organs_of[m.segment].add(m.concept)
            sentence_organs[doc.segments[m.segment].sentence].add(m.concept)
    sides_of: dict[int, set[str]] = defaultdict(set)
    sentence_sides: dict[int, set[str]] = defaultdict(set)
    for sm in doc.side_mentions:
        if sm.bound or sm.direction:
            continue  # "Rechtsherzbelastung" names the right heart; "nach rechts" is a direction
        sides_of[sm.segment] |= sm.sides
        sentence_sides[doc.segments[sm.segment].sentence] |= sm.sides
    found = []
    for segment, mentions in findings_in.items():
        sentence = doc.segments[segment].sentence
        sides = frozenset(sides_of[segment] or sentence_sides[sentence])
        context_organs = frozenset(organs_of[segment] or sentence_organs[sentence])
        for m in mentions:
            own_organs = frozenset(c for c in CONCEPTS[m.concept].implies if CONCEPTS[c].kind != "F")
            organs = context_organs | own_organs
            qualifier = _qualifier(doc, m)
            found.append(_Finding(m.concept, organs, sides, m, qualifier=qualifier))
            if not with_implied:
                continue
            # "Pleuraerguss" is an effusion; but "kein Perikarderguss" only denies an effusion of the
            # pericardium, so a negated mention stands for its broader finding at its own organ only
            # (or everywhere, for a synonym: "kein Embolus" is "kein Thrombus").
            for c in CONCEPTS[m.concept].implies:
                if CONCEPTS[c].kind != "F":
                    continue
                if not m.negated or m.concept in CONCEPTS[c].implies:  # affirmed, or a synonym
                    found.append(_Finding(c, organs, sides, m, implied=True, qualifier=qualifier))
                elif own_organs:
                    found.append(
                        _Finding(c, own_organs, sides, m, implied=True, qualifier=qualifier, organ_only=True)
                    )
    if with_implied:
        for m in doc.mentions:
            if m.kind == "A" and m.segment in normal_segments and not findings_in[m.segment]:
                normal = Mention(_NORMAL, "F", m.start, m.end, m.segment, True, m.word)
                organs, sides = frozenset(organs_of[m.segment]), frozenset(sides_of[m.segment])
                found.append(_Finding(_NORMAL, organs, sides, normal, qualifier=_qualifier(doc, m)))
    return found


def _qualifier(doc: Analysis, m: Mention) -> str | None:
    """The qualifier standing before a mention's word in its segment ("keine frische Blutung")."""
    word_start = m.start - m.word.index(doc.lower[m.start : m.end]) if m.word else m.start
    segment_start = doc.segments[m.segment].start
    found = _QUALIFIER.search(doc.lower, max(segment_start, word_start - 60), word_start)
    return found.lastgroup if found else None


def _known(o: _Finding, src: list[_Finding]) -> list[_Finding]:
    """The source's statements about the same finding in the most specific context both share.

    A finding implied by another ("Hill-Sachs lesion" is a fracture) counts like a named one.
    Qualified findings ("keine weitere Fraktur", "no acute haemorrhage") are compared with findings of
    the same qualifier where the source has them. A "normal" statement about an organ ("Processus
    styloideus ulnae intakt") counts as negating findings of that organ.
    """
    same = [f for f in src if f.concept == o.concept]
    normal = [f for f in src if f.concept == _NORMAL and f.organs & o.organs]
    if o.qualifier and any(f.qualifier == o.qualifier for f in same + normal):
        same = [f for f in same if f.qualifier == o.qualifier]
        normal = [f for f in normal if f.qualifier == o.qualifier]
    elif any(f.qualifier == o.qualifier for f in same):
        same = [f for f in same if f.qualifier == o.qualifier]
    if o.sides:  # a statement about the other side says nothing about this one
        same = [f for f in same if not f.sides or f.sides & o.sides]
        normal = [f for f in normal if not f.sides or f.sides & o.sides]
    anywhere = [f for f in same if not f.organ_only]
    levels = (
        _at_organs(same, o, with_sides=True) or _at_organs(normal, o, with_sides=True),
        _closest(
            [f for f in anywhere if o.sides and f.sides & o.sides],
            lambda f: (len(f.sides & o.sides) / len(f.sides | o.sides), f.organs == o.organs),
        ),
        _at_organs(same, o, with_sides=False) or _at_organs(normal, o, with_sides=False),
        anywhere,
    )
    return next((level for level in levels if level), [])


def _at_organs(findings: list[_Finding], o: _Finding, with_sides: bool) -> list[_Finding]:
    """Statements about the output finding's organs: those with the closest organ set (Jaccard).

    Organs the finding itself implies (the bone of a fracture) do not tell statements apart and are
    left out of the likeness, unless they are all there is.
    """
    if not o.organs or (with_sides and not o.sides):
        return []
    generic = CONCEPTS[o.concept].implies
    mine = o.organs - generic or o.organs
    candidates = [f for f in findings if f.organs & o.organs and (not with_sides or f.sides & o.sides)]

    def score(f: _Finding) -> tuple[float, bool]:
        theirs = f.organs - generic or f.organs
        return len(theirs & mine) / len(theirs | mine), f.sides == o.sides

    return _closest(candidates, score)


def _closest(candidates: list[_Finding], score: Callable[[_Finding], tuple[float, bool]]) -> list[_Finding]:
    """The best-scoring candidates; named findings before implied ones at the same score."""
    if not candidates:
        return []
    best = max(score(f) for f in candidates)
    top = [f for f in candidates if score(f) == best]
    return [f for f in top if not f.implied] or top


def _flag(s: Mention, o: Mention) -> Flag:
    said = "negates" if s.negated else "affirms"
    message = f"'{s.word}': source {said} it, output '{o.word}' {'negates' if o.negated else 'affirms'} it"
    return Flag("negation", message, "major", (s.start, s.end), (o.start, o.end))


def _denied_consequence(o: _Finding, src: list[_Finding]) -> list[_Finding]:
    """For an affirmed finding the source never names: the source's denials of what it implies.

    "Pneumonie" implies an infiltrate; a source saying "kein Infiltrat" contradicts it.
    """
    if o.mention.negated:
        return []
    for implied_concept in CONCEPTS[o.concept].implies:
        statements = _known(replace(o, concept=implied_concept), src)
        if statements and all(f.mention.negated for f in statements):
            return statements
    return []


def _by_concept(pair: Pair) -> list[Flag]:
    src = _findings(pair.source, with_implied=True)
    named = {f.concept for f in src}
    flags: dict[str, Flag] = {}
    for o in _findings(pair.output, with_implied=False):
        if o.concept in flags:
            continue
        known = _known(o, src) if o.concept in named else _denied_consequence(o, src)
        if known and all(f.mention.negated != o.mention.negated for f in known):
            flags[o.concept] = _flag(known[0].mention, o.mention)
    return list(flags.values())


_CUE_WORDS = {
    "de": frozenset(
        {
            "kein",
            "keine",
            "keinen",
            "keinem",
            "keiner",
            "keines",
            "ohne",
            "nicht",
            "weder",
            "noch",
            "nirgends",
        }
        | {"ausgeschlossen"}
    ),
    "en": frozenset(["no", "not", "without", "nor", "neither", "never", "absent", "excluded"]),
}


def _by_cue_words(pair: Pair, flagged: list[Flag]) -> list[Flag]:
    """Negation words dropped or added in a correction, in passages without a known finding."""
    cues = _CUE_WORDS[pair.source.lang]
    src_words, out_words = pair.source.words, pair.output.words
    covered = [f.output_span[0] for f in flagged if f.output_span]
    flags: list[Flag] = []
    if sorted(w.group() for w in src_words if w.group() in cues) == sorted(
        w.group() for w in out_words if w.group() in cues
    ):
        return flags  # the same negation words, only moved: sentences were reordered
    for op, i1, i2, j1, j2 in pair.word_opcodes:
        if op == "equal":
            continue
        src_cues = [w for w in src_words[i1:i2] if w.group() in cues]
        out_cues = [w for w in out_words[j1:j2] if w.group() in cues]
        if len(src_cues) == len(out_cues):
            continue
        near = out_cues or out_words[j1:j2] or out_words[j1 : j1 + 1] or out_words[-1:]
        out_span = near[0].span() if near else None
        if out_span and (
            any(abs(start - out_span[0]) < 60 for start in covered) or _has_finding(pair, out_span)
        ):
            continue  # the concept comparison already judged this passage
        src_span = src_cues[0].span() if src_cues else None
        action = "dropped" if len(src_cues) > len(out_cues) else "added"
        word = (src_cues or out_cues)[0].group()
        flags.append(Flag("negation", f"negation '{word}' {action}", "major", src_span, out_span))
    return flags


def _by_alignment(pair: Pair) -> list[Flag]:
    """Near-verbatim outputs: compare each finding with the same word of the source, where aligned."""
    src_words, out_words = pair.source.words, pair.output.words
    mapped: dict[int, int] = {}
    for op, i1, _, j1, j2 in pair.word_opcodes:
        if op == "equal":
            mapped.update((j, i1 + j - j1) for j in range(j1, j2))
    src_at = {(m.start, m.concept): m for m in pair.source.mentions if m.kind == "F"}
    out_starts = [w.start() for w in out_words]
    flags = []
    for o in pair.output.mentions:
        j = bisect_right(out_starts, o.start) - 1
        if o.kind != "F" or j not in mapped:
            continue
        word = src_words[mapped[j]]
        s = src_at.get((word.start() + o.start - out_words[j].start(), o.concept))
        if s is not None and s.negated != o.negated:
            flags.append(_flag(s, o))
    return flags


def _has_finding(pair: Pair, span: tuple[int, int]) -> bool:
    segment = pair.output.segment_at(span[0])
    return any(m.kind == "F" and m.segment == segment for m in pair.output.mentions)


def negation(pair: Pair) -> list[Flag]:
    """Flag findings whose polarity differs between source and output."""
    flags = _by_concept(pair)
    if pair.rules.verbatim and pair.same_language:
        seen = {f.output_span for f in flags}
        flags += [f for f in _by_alignment(pair) if f.output_span not in seen]
        flags += _by_cue_words(pair, flags)
    return flags
