"""The statements of one text: each finding mention with its context (organs, sides, spinal levels,
the anatomy right at it, its qualifier), and whether two statements are about different places.

The negation check compares these between source and output; the omission and new-finding checks read
them too (`statements`, `apart`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace

from medvault.guard._cues import AXES, DIRECTIONS
from medvault.guard._lexicon import CONCEPTS, closure, implied
from medvault.guard._text import WORD, Analysis, Mention, per_document

_NORMAL = "normal"  # the lexicon's concept of an organ said to be normal ("Leber unauffällig")
# Qualifiers that make a statement apart from the unqualified one: "keine frische Blutung" says nothing
# about a chronic haematoma, "keine weitere Fraktur" nothing about the first one. A qualifier applies
# across the noun phrase and its verb: up to five words may stand between it and the finding ("die
# anderen Knochen der Hand sind nicht gebrochen").
_QUALIFIERS = {
    "further": r"weitere?[nmrs]?|andere?[nmrs]?|zusätzliche?[nmrs]?|übrige?[nmrs]?|restliche?[nmrs]?"
    r"|sonst|ansonsten|other|further|additional|remaining|otherwise|elsewhere",
    "acute": r"akute?[nmrs]?|frische?[nmrs]?|acute|fresh",
    "new": r"neue?[nmrs]?|new",
    "active": r"aktive?[nmrs]?|anhaltende?[nmrs]?|active|ongoing",
    "persisting": r"still",  # "still widened": what was there is there, no kind of its own
    "chronic": r"chronische?[nmrs]?|chronic|alte?[nmrs]?|old",
    # "ohne relevante Verlagerung (2 mm)", "no significant stenosis": denies a degree, not the finding
    "degree": r"relevante?[nmrs]?|wesentliche?[nmrs]?|signifikante?[nmrs]?|nennenswerte?[nmrs]?"
    r"|significant|relevant|substantial|appreciable",
}
_QUALIFIER = re.compile(
    r"\b(?:"
    + "|".join(f"(?P<{key}>{forms})" for key, forms in _QUALIFIERS.items())
    + r")\s+(?:[\w-]+\s+){0,5}$"
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
    near: frozenset[str] = frozenset()  # anatomy right at the mention: its own place (see `_near`)
    levels: frozenset[str] = frozenset()  # spinal levels of its sentence ("l5", "l4/l5")
    gapped: bool = False  # said of the other side in words without the finding (see `_gapped`)
    kind: str | None = None  # the unknown first part of a German compound ("korbhenkel|riss"): see `_kind`


@per_document
def _all_findings(doc: Analysis) -> tuple[_Finding, ...]:
    """Finding mentions with context; each also stands for what it directly implies (marked `implied`),
    and a normal organ stands as its own negated finding.

    The context is the organs and sides of the segment; a segment without a side word (or without an
    organ) takes those of its sentence ("zwei Steine in der linken Niere, 3 und 4 mm, die nicht
    obstruieren"; "the supraspinatus tendon is worn, but not torn").
    """
    organs_of: dict[int, set[str]] = defaultdict(set)
    sentence_organs: dict[int, set[str]] = defaultdict(set)
    findings_in: dict[int, list[Mention]] = defaultdict(list)
    normal_segments = set()
    for m in _continued_negations(doc):
        if m.kind == "F":
            if not doc.asks(m):  # "Fraktur?", "Is it leaking?": a question states nothing
                findings_in[m.segment].append(m)
        elif m.kind == "N":
            normal_segments.add(m.segment)
        else:
            organs_of[m.segment].add(m.concept)
            sentence_organs[doc.segments[m.segment].sentence].add(m.concept)
    # A direction names a part of an organ ("medial meniscus", "the inner cushion"): context like an organ.
    directions = DIRECTIONS[doc.lang]
    directions_of: dict[int, set[str]] = defaultdict(set)
    for w in doc.words:
        if w.group() in directions:
            directions_of[doc.segment_at(w.start())].add(f"{_DIRECTION}{directions[w.group()]}")
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
        heading = doc.heading_sides.get(sentence)
        sides = frozenset(sides_of[segment] or sentence_sides[sentence] or (heading.sides if heading else ()))
        context_organs = (
            frozenset(
                organs_of[segment]
                or sentence_organs[sentence]
                or sentence_organs[_joined_before(doc, sentence)]
            )
            | directions_of[segment]
        )
        seg = doc.segments[segment]
        # The segment's anatomy, gathered once for `_near` of each of its findings.
        anatomy = [a for a in doc.mentions_between(seg.start, seg.end) if a.kind == "A"]
        for m in mentions:
            own_organs = frozenset(c for c in CONCEPTS[m.concept].implies if CONCEPTS[c].kind != "F")
            organs = context_organs | own_organs
            kind = _kind(doc, m)
            qualifier = _qualifier(doc, m, kind)
            near = _near(doc, m, mentions, anatomy)
            levels = doc.spine_levels.get(sentence, frozenset())
            found.append(
                _Finding(
                    m.concept, organs, sides, m, qualifier=qualifier, near=near, levels=levels, kind=kind
                )
            )
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
    for m in doc.mentions:
        if m.kind == "A" and m.segment in normal_segments and not findings_in[m.segment]:
            normal = Mention(_NORMAL, "F", m.start, m.end, m.segment, True, m.word)
            # Directions count as context: "medial meniscus intact" is not about the lateral one.
            organs = frozenset(organs_of[m.segment]) | directions_of[m.segment]
            sides = frozenset(sides_of[m.segment])
            # An organ's mention is never negated: it has no kind to qualify with.
            found.append(_Finding(_NORMAL, organs, sides, normal, qualifier=_qualifier(doc, m, None)))
    found += _gapped(doc, found, findings_in, sides_of, normal_segments)
    return tuple(found)


def _gapped(
    doc: Analysis,
    found: list[_Finding],
    findings_in: dict[int, list[Mention]],
    sides_of: dict[int, set[str]],
    normal_segments: set[int],
) -> list[_Finding]:
    """Statements a segment makes about the findings of the segment before it, for another side, without
    naming them: "Coxarthrose rechts, links allenfalls beginnend", "effusion on the right, none on the
    left", "Zyste der rechten Niere, links unauffällig" at the level of the segment's own cue; "Zyste
    rechts 12 mm, links 9 mm", "links ebenso" at the level of the finding. A segment naming anything
    else ("Erguss rechts, Drainage links", "linke Niere 11 cm") is about that."""
    said: dict[int, list[_Finding]] = defaultdict(list)  # a mention's statement and what it implies
    for f in found:
        if f.concept != _NORMAL:
            said[f.mention.start].append(f)
    mentioned = {m.segment for m in doc.mentions}
    cued = {cue[0] for cue in doc.certainty_cues}
    backward = {cue[0] for cue in doc.certainty_cues if cue[4] == "backward"}
    gapped = []
    for index in range(1, len(doc.segments)):
        seg, before = doc.segments[index], doc.segments[index - 1]
        sides, previous = frozenset(sides_of.get(index, ())), findings_in.get(index - 1)
        if (
            findings_in.get(index)
            or not sides
            or not previous
            or seg.sentence != before.sentence
            or not sides_of.get(index - 1)
            or sides & sides_of[index - 1]
        ):
            continue
        negated = index in normal_segments or index in doc.negating_segments
        own_level = negated or index in cued
        if not own_level and index in mentioned:
            continue
        # With a cue, the statement stands where the cue scopes over it: before a backward one ("links
        # nicht auszuschließen"), else at the segment's last word ("links allenfalls beginnend").
        words = list(WORD.finditer(doc.lower, seg.start, seg.end))
        at = words[0] if index in backward else words[-1]
        for m in previous:
            stand_in = Mention(m.concept, "F", at.start(), at.end(), index, negated, at.group())
            gapped += [
                # A denial stands for what the finding implies at its organs only (see `_all_findings`).
                replace(
                    f,
                    sides=sides,
                    mention=stand_in if own_level else m,
                    near=frozenset(),
                    gapped=True,
                    organ_only=f.organ_only or (f.implied and negated),
                )
                for f in said[m.start]
            ]
    return gapped


# What may stand between two mentions of one finding in one verb phrase ("have not moved out of place",
# "ist nicht verschoben bzw. disloziert"): at most three words, no punctuation, no new clause.
_CONTINUATION = re.compile(r"(?:\s+(?!(?:and|but|und|aber|sondern)\b)[\w.]+){0,3}?\s+|\s*-\s*")


def _continued_negations(doc: Analysis) -> list[Mention]:
    """The text's mentions, where a finding repeats a negated mention of the same finding in the same
    verb phrase ("have not moved out of place": a local "not" reaches only "moved") negated like it."""
    mentions = doc.mentions
    found = list(mentions)
    for index in range(1, len(mentions)):
        m, before = mentions[index], found[index - 1]
        if (
            m.kind == "F"
            and not m.negated
            and before.negated
            and before.concept == m.concept
            and before.segment == m.segment
            and _CONTINUATION.fullmatch(doc.lower, doc.word_span(before.start, before.end)[1], m.start)
        ):
            found[index] = replace(m, negated=True)
    return found


def _findings(doc: Analysis, with_implied: bool) -> list[_Finding]:
    """Finding mentions with context (see `_all_findings`); without `with_implied` only those written."""
    found = _all_findings(doc)
    # "normal" is an organ's concept (kind N): no mention of a finding has it, only the stand-ins.
    if with_implied:
        return list(found)
    return [f for f in found if not f.implied and not f.gapped and f.concept != _NORMAL]


def _joined_before(doc: Analysis, sentence: int) -> int:
    """The sentence a semicolon joins before `sentence` ("node with cortical thickening; metastasis
    cannot be excluded"), or -1."""
    start = doc.sentence_spans[sentence][0]
    return sentence - 1 if start > 0 and doc.lower[start - 1] == ";" else -1


_NEAR = 40  # characters: "Riss des Innenmeniskushinterhorns", "fracture of the left orbital floor"


def _near(doc: Analysis, m: Mention, findings: list[Mention], anatomy: list[Mention]) -> frozenset[str]:
    """The anatomy named in the mention's own word or right beside it in its segment, with no other
    finding between ("Kreuzband|ruptur", "Riss des Innenmeniskus"): the place of this finding, not of
    a neighbour in the same clause ("fracture of the orbital floor with herniation into the sinus").
    `anatomy`: the anatomy mentions of the finding's segment."""
    start, end = doc.word_span(m.start, m.end)
    near = set()
    for a in anatomy:
        if start <= a.start < end:
            near.add(a.concept)
            continue
        lo, hi = (a.end, start) if a.end <= start else (end, a.start)
        if (
            0 <= hi - lo <= _NEAR
            and not _PHRASE_BREAK.search(doc.lower, lo, hi)
            and not any(lo <= f.start < hi for f in findings if f is not m)
        ):
            near.add(a.concept)
    return frozenset(near)


# Words that start another phrase of the clause: what stands beyond them is not this finding's place
# ("fracture of the orbital floor with fat herniating into the sinus").
_PHRASE_BREAK = re.compile(r"\b(?:with|without|mit|ohne|bei|sowie)\b")


def _qualifier(doc: Analysis, m: Mention, kind: str | None) -> str | None:
    """The qualifier standing before a mention's word in its segment ("keine frische Blutung"); for a
    denied German compound whose first part names nothing the vocabulary knows ("kein
    Spannungs|pneumothorax"; `kind`, see `_kind`), the compound itself: it denies a narrower kind of
    the finding only."""
    word_start = m.start - m.word.index(doc.lower[m.start : m.end]) if m.word else m.start
    segment_start = doc.segments[m.segment].start
    found = _QUALIFIER.search(doc.lower, max(segment_start, word_start - 80), word_start)
    # A qualifier of another phrase does not qualify this finding: "neue Sinterungsfraktur ohne
    # Hinterkantenbeteiligung" denies any involvement, not a new one.
    if found and not _PHRASE_BREAK.search(doc.lower, found.end(found.lastgroup or 0), word_start):
        return found.lastgroup
    if m.negated and kind:
        return f"{_KIND}{m.word}"
    return None


def _kind(doc: Analysis, m: Mention) -> str | None:
    """The first part of a German compound naming a finding, where the vocabulary knows nothing in it:
    a narrower kind of the finding ("Korbhenkel|riss", "Spannungs|pneumothorax")."""
    word_start = m.start - m.word.index(doc.lower[m.start : m.end]) if m.word else m.start
    if doc.lang == "de" and word_start < m.start and not doc.mentions_between(word_start, m.start):
        return doc.lower[word_start : m.start]
    return None


_PERSISTING = "persisting"
_KIND = "kind:"  # the qualifier of a compound naming a narrower kind of finding
_DIRECTION = "direction:"  # the context entry of a direction word (see `_findings`)


def _specific(f: _Finding) -> frozenset[str]:
    """The organs a statement names beyond those its finding implies, without directions."""
    return frozenset(o for o in f.organs - CONCEPTS[f.concept].implies if not o.startswith(_DIRECTION))


def _opposite(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two contexts name opposite directions on one axis (medial here, lateral only there)."""
    axes: dict[str, list[set[str]]] = defaultdict(lambda: [set(), set()])
    for index, context in enumerate((a, b)):
        for entry in context:
            if entry.startswith(_DIRECTION):
                direction = entry.removeprefix(_DIRECTION)
                axes[AXES[direction]][index].add(direction)
    return any(here and there and not here & there for here, there in axes.values())


def gapped(doc: Analysis) -> list[_Finding]:
    """The statements a text makes about the other side without naming the finding (see `_gapped`)."""
    return [f for f in _all_findings(doc) if f.gapped]


@per_document
def statements(doc: Analysis) -> tuple[_Finding, ...]:
    """The finding mentions of a text with the organs and sides of their context (no implied ones)."""
    return tuple(_findings(doc, with_implied=False))


#: A text's statements by concept, each list in text order (see `grouped_by_concept`).
Statements = dict[str, list[_Finding]]


def grouped_by_concept(findings: list[_Finding]) -> Statements:
    """Statements by their concept: the negation check reads them so for every output statement."""
    grouped: Statements = {}
    for f in findings:
        grouped.setdefault(f.concept, []).append(f)
    return grouped


def apart(a: _Finding, b: _Finding, organs: bool = True) -> bool:
    """Whether two statements are about different places: other sides, other organs of their own
    (neither a part of the other; only with `organs`) or opposite directions ("Innenmeniskus" vs
    "Kreuzband", left vs right breast). Statements naming no side or organ are about any place."""
    if (a.sides and b.sides and not a.sides & b.sides) or _other_level(a, b):
        return True
    if not organs:
        return False
    # The anatomy right at each mention (`_near`), not of its whole clause; devices are no place.
    mine, theirs = (frozenset(c for c in f.near - CONCEPTS[f.concept].implies) for f in (a, b))
    if mine and theirs and not (closure(mine) & theirs or closure(theirs) & mine):
        return True
    return _opposite(a.organs, b.organs)


def _other_level(a: _Finding, b: _Finding) -> bool:
    """Whether two statements name different spinal levels (L4/5 here, L5/S1 there)."""
    return bool(a.levels and b.levels and not a.levels & b.levels)


def _other_organs(a: _Finding, b: _Finding) -> bool:
    """Whether the most specific organs two statements name are unrelated, neither a part of the other
    ("tear of the infraspinatus tendon" and "the supraspinatus tendon is worn but torn"; but "kidney"
    and "where urine collects before the bladder" are one tract)."""
    mine, theirs = _leaves(_specific(a)), _leaves(_specific(b))
    return bool(mine and theirs) and not (closure(mine) & theirs or closure(theirs) & mine)


def _leaves(organs: frozenset[str]) -> frozenset[str]:
    """The organs that no other one of the set implies: the most specific ones."""
    return frozenset(x for x in organs if not any(x in implied(y) for y in organs if y != x))


def _placed_alike(a: _Finding, b: _Finding) -> bool:
    """Whether two statements share a side, a spinal level or an organ of their own."""
    return bool(a.sides & b.sides or a.levels & b.levels or a.near & b.near or _specific(a) & _specific(b))
