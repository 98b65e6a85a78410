"""Sides of one text: its side words, the anchors they belong to and the clauses that group them.

Reads which words of a text name a side (not "right away" or "was left in place"), which findings,
organs, measurements and spinal levels stand near them, and groups both into clauses; `_laterality`
compares what it reads of the source with what it reads of the output.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from medvault.guard._cues import GENERIC, NEG_CUES
from medvault.guard._lexicon import CONCEPTS, implied
from medvault.guard._quantities import Quantity
from medvault.guard._text import Analysis, Mention, Side, SideMention, per_document

Anchor = tuple[str, str, object]
_CLAUSE_SPLIT = re.compile(r"\b(?:mit|und|sowie|wobei|dadurch|with|and|as well as|that|which|where)\b")
_R = r"(?P<{}>rechts|links|right|left)"
# The lookahead on the first letters of the alternatives lets the engine pass other offsets at once.
_COMPARISONS = re.compile(
    "(?=[rlmwg])(?:"
    + "|".join(
        (
            _R.format("a")
            + r"\s+(?:\w+\s+)?(?:mehr|stärker|größer|ausgeprägter|deutlicher|more|greater|worse|larger)"
            r"(?:\s+(?:als|than)\s+(?:on\s+the\s+)?" + _R.format("b") + ")?",
            r"(?:mehr|more|worse|greater|larger)\s+(?:on\s+the\s+)?"
            + _R.format("c")
            + r"(?:\s+(?:als|than)\s+(?:on\s+the\s+)?"
            + _R.format("d")
            + ")?",
            _R.format("e") + r"(?:\s+|-)?(?:betont|predominant|dominant)",
        )
    )
    + ")"
)
#: "beide"/"both" alone: a side word only before the paired organ or the sides it counts ("beide
#: Nieren", "auf beiden Seiten", "both kidneys"), not before other things ("an beiden Etagen").
_BARE_BOTH = frozenset({"beide", "beiden", "beider", "beides", "both"})
_NEXT_TWO = re.compile(r"(?:[\s-]+[^\W\d_]+){1,2}")
_SIDES_NOUN = re.compile(r"\s+(?:\w+\s+)?(?:seiten?|sides?|hemi)")
#: A spinal level ("L4/5", "LWK 5/SWK 1", "C5-6", "Th12", "S1"): statements at different levels are
#: different statements, whatever their sides.
_LEVEL = re.compile(
    r"\b(?P<a>hwk|bwk|lwk|swk|th|[ctls])\s?(?P<x>\d{1,2})"
    r"(?:\s?[/-]\s?(?:(?P<b>hwk|bwk|lwk|swk|th|[ctls])\s?)?(?P<y>\d{1,2}))?\b"
)
#: The text before a later dimension of a size ("4.6 x ").
_PRODUCT_TAIL = re.compile(r"\d\s*(?:cm|mm)?\s*[x×*]\s*$")
#: A threshold ("1.5 cm or larger", "≥ 1,5 cm", "at least 10 mm"): a criterion, not a measurement.
_THRESHOLD_BEFORE = re.compile(r"(?:≥|≤|>=|<=|\bat\s+least|\bmindestens)\s*$")
_THRESHOLD_AFTER = re.compile(
    r"\s*(?:or|oder|und|and)\s+(?:larger|greater|bigger|more|above|over|größer|mehr|darüber)\b"
)
_REGION = {"hwk": "c", "bwk": "t", "th": "t", "lwk": "l", "swk": "s"}
_SIDE_OF = {"rechts": "right", "links": "left", "right": "right", "left": "left"}
#: English "right" as an adverb ("breaking right through", "right away", "right after the fall", "all
#: right") and "left" as a verb ("was left in place", "left behind"): no side. A side adjective stands
#: before its noun, so "right" before a particle or preposition is the adverb unless an article or
#: preposition makes it the noun ("on the right behind the clavicle"); "right above-knee" is a side.
#: The article or preposition test follows the literal "right" (as a lookbehind over both): written
#: before it, eight lookbehinds ran at every offset of the text. The lookahead on the first letters of
#: the alternatives lets the engine pass every other offset at once.
_NOT_A_SIDE = re.compile(
    "(?=[rawibhgl])(?:right"
    + "".join(rf"(?<!\b{word} right)" for word in ("the", "her", "his", "its", "your", "their", "on", "to"))
    + r"\s+(?:through|away|now|after|before|here|there|into|onto|up|down|next|behind|across|along|"
    r"back|off|then|inside|outside|over|under|beneath|beside|around|near|against|at|in|where|when|as)"
    r"\b(?!-)"
    r"|\ball\s+right(?=\s*(?:[,.;:!?)]|$))"
    r"|\b(?:was|were|is|are|be|been|being|has|have|had|get|got)\s+(?:also\s+|still\s+|not\s+)?left\b"
    r"(?!\s*-?\s*sided|\s+of\b)"
    r"|\bleft\s+(?:behind|in\s+(?:place|situ))\b)"
)

#: Two abbreviated sides side by side ("RV/LV", "LV : RV", "RV LV"): a ratio of the two, no side.
_RATIO = re.compile(r"([lr])(v|ca|ica)\s*[/:]?\s*(?!\1)[lr]\2")


@dataclass(frozen=True, slots=True)
class _Clause:
    """A clause reduced to its anchors and its side words."""

    keys: frozenset[Anchor]
    side_mentions: list[SideMention]
    first: Anchor
    #: The sides of an umbrella word the clause holds ("Beidseitige ... (re., ..."): said of it as a whole.
    umbrella: frozenset[Side] = frozenset()
    # Derived once: the laterality checks read them for every pair of clauses of the two texts.
    size: float = field(init=False, compare=False)
    findings: tuple[Anchor, ...] = field(init=False, compare=False)
    levels: frozenset[object] = field(init=False, compare=False)
    sides: frozenset[Side] = field(init=False, compare=False)
    organs: frozenset[object] = field(init=False, compare=False)  # the organs (and devices) it names
    concepts: tuple[Anchor, ...] = field(init=False, compare=False)  # the anchors that may be alike others

    def __post_init__(self) -> None:
        size: float = 0
        findings: list[Anchor] = []
        concepts: list[Anchor] = []
        organs: list[object] = []
        levels: list[object] = []
        for k in self.keys:  # one pass, in the order of the keys
            size += _weight(k)
            if k[0] == "c":
                concepts.append(k)
                if _is_finding(k):
                    findings.append(k)
                else:
                    organs.append(k[1])
            elif k[0] == "l":
                levels.append(k[1])
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "findings", tuple(findings))
        object.__setattr__(self, "concepts", tuple(concepts))
        object.__setattr__(self, "organs", frozenset(organs))
        object.__setattr__(self, "levels", frozenset(levels))
        object.__setattr__(self, "sides", frozenset(side for sm in self.side_mentions for side in sm.sides))


class _Sides:
    """Which sides each anchor and each clause of one text carries, and where they are written."""

    def __init__(self, doc: Analysis, directions_are_sides: bool = False) -> None:
        self.labels: dict[Anchor, str] = {}
        self.sides: dict[Anchor, dict[Side, SideMention]] = defaultdict(dict)
        self.doc_sides: set[Side] = set()
        items: list[tuple[int, Anchor | SideMention]] = []
        for m in doc.mentions:
            anchor: Anchor = ("c", m.concept, m.negated)
            self.labels.setdefault(anchor, m.word)
            items.append((m.start, anchor))
        for q in doc.quantities:  # a bare count ("zwei Ebenen") is no anchor of a side
            if q.dim not in ("date", "time", "count") and not q.soft and not _unmeasured(doc, q):
                anchor = ("q", q.dim, q.keys[0][1])  # same type as the concept anchors above
                self.labels.setdefault(anchor, q.text)
                items.append((q.start, anchor))
        self.directions: list[SideMention] = []
        for sm in _side_words(doc):
            if _loose_both(doc, sm):
                continue
            if sm.direction and not directions_are_sides:  # "nach rechts": compared as directions
                self.directions.append(sm)
                continue
            self.doc_sides |= sm.sides
            items.append((sm.start, sm))
        for lm in _LEVEL.finditer(doc.lower):
            for level in _levels(lm):
                items.append((lm.start(), ("l", level, False)))
        self.clauses = []
        umbrellas = _umbrellas(doc)
        for anchors, all_sides in _clauses(doc, sorted(items, key=lambda item: item[0])):
            side_mentions = [sm for sm in all_sides if sm not in umbrellas] or all_sides
            # The umbrella word still sides the findings of its clause and the organs they imply
            # ("Beidseitige Lungenarterienembolien (... re., ... li. Unterlappen)": emboli of both lungs),
            # not the organs of its list ("right lower lobe").
            implied_organs = {o for a in anchors if _is_finding(a) for o in implied(str(a[1]))}
            for sm in all_sides:
                of_umbrella = sm not in side_mentions
                # A liver segment sides what lies in it, not the liver: "Segment VII" and "Segment IVa"
                # do not make two livers.
                of_segment = bool(_LIVER_SEGMENT.fullmatch(doc.lower, sm.start, sm.end))
                for anchor in anchors:
                    if not _is_finding(anchor) and (
                        of_segment or (of_umbrella and anchor[1] not in implied_organs)
                    ):
                        continue
                    for side in sm.sides:
                        self.sides[anchor].setdefault(side, sm)
            named = [a for a in anchors if a[0] != "l"]
            if named:
                umbrella = frozenset(side for sm in all_sides if sm not in side_mentions for side in sm.sides)
                self.clauses.append(_Clause(frozenset(anchors), side_mentions, named[0], umbrella))
        self.comparisons = [(_dominance(m), m.span()) for m in _COMPARISONS.finditer(doc.lower)]

    def counterpart(self, anchor: Anchor) -> dict[Side, SideMention] | None:
        """The sides of an anchor here, merged with those of strictly narrower concepts ("Harnstau
        links" speaks about the left kidney; not for a generic finding such as "spot", which may stand
        for any of them); None when this text names neither."""
        if anchor[0] != "c":
            return self.sides.get(anchor, {}) if anchor in self.labels else None
        concept = str(anchor[1])
        related = [
            a
            for a in self.labels
            if a[0] == "c"
            and a[2] == anchor[2]
            and (
                a[1] == concept
                or (concept not in GENERIC and concept in implied(str(a[1])) and a[1] not in implied(concept))
            )
        ]
        if not related:
            return None
        merged: dict[Side, SideMention] = {}
        for a in related:
            for side, sm in self.sides.get(a, {}).items():
                merged.setdefault(side, sm)
        return merged


def _unmeasured(doc: Analysis, q: Quantity) -> bool:
    """Whether a number measures nothing of its own: a later dimension of a size (the size is anchored
    by its first: "4.6 x 1.5 x 1.4 cm" is not a "1.5 cm" said elsewhere) or a threshold ("meets criteria
    for FNA (1.5 cm or larger)"), which speaks of no side."""
    return bool(
        _PRODUCT_TAIL.search(doc.lower, max(0, q.start - 12), q.start)
        or _THRESHOLD_BEFORE.search(doc.lower, max(0, q.start - 12), q.start)
        or _THRESHOLD_AFTER.match(doc.lower, q.end)
    )


def _umbrellas(doc: Analysis) -> set[SideMention]:
    """ "Bilateral" in a sentence that names both sides one by one is an umbrella word for them
    ("bilateral emboli (right main artery ...; one left upper lobe artery)"), not a side of its own
    ("bilateral opacities, left more than right" names one side only)."""
    named: dict[int, set[str]] = defaultdict(set)
    for sm in _side_words(doc):
        if len(sm.sides) == 1 and not sm.direction:
            named[doc.segments[sm.segment].sentence] |= sm.sides
    return {
        sm
        for sm in _side_words(doc)
        if len(sm.sides) == 2 and named[doc.segments[sm.segment].sentence] >= {"left", "right"}
    }


def _dominance(m: re.Match[str]) -> tuple[str, str | None]:
    """(dominant side, lesser side or None) of a comparison match."""
    groups = m.groupdict()
    first = next(groups[g] for g in "ace" if groups[g])
    second = groups["b"] or groups["d"]
    return _SIDE_OF[first], _SIDE_OF[second] if second else None


Clause = tuple[list[Anchor], list[SideMention]]


def _clauses(doc: Analysis, items: list[tuple[int, Anchor | SideMention]]) -> list[Clause]:
    """Group anchors and side words into clauses; a part without anchors joins the part before it, a
    clause without side words takes the side of its heading."""
    # Sorted, as `items` is by offset: `_any_in` bisects it.
    sides_at = [item.start for _, item in items if isinstance(item, SideMention)]
    by_key: dict[tuple[int, int], Clause] = {}
    splits: dict[int, list[int]] = {}
    for pos, item in items:
        seg_index = doc.segment_at(pos)
        if seg_index not in splits:
            seg = doc.segments[seg_index]
            clauses = [m.start() for m in _CLAUSE_SPLIT.finditer(doc.lower, seg.start, seg.end)]
            points = [*sorted(clauses + _relabels(doc, seg.start, seg.end)), seg.end]
            splits[seg_index] = [a for a, b in pairwise(points) if _any_in(sides_at, a, b)]
        part = bisect_right(splits[seg_index], pos)  # the split points (in order) at or before `pos`
        clause = by_key.setdefault((seg_index, part), ([], []))
        if isinstance(item, SideMention):
            clause[1].append(item)
        else:
            clause[0].append(item)
    merged: list[Clause] = []
    sentences: list[int] = []
    previous_segment = -1
    parts = sorted(by_key.items())
    # Per part: whether a later part of its sentence names something without a side of its own. Parts
    # are in text order, so one backward pass per sentence answers it for all of them.
    open_after = [False] * len(parts)
    waiting: dict[int, bool] = {}
    for i in range(len(parts) - 1, -1, -1):
        (seg_index, _), (anchors, sides) = parts[i]
        sentence = doc.segments[seg_index].sentence
        open_after[i] = waiting.get(sentence, False)
        waiting[sentence] = open_after[i] or (_named(anchors) and not sides)
    for ((seg_index, _), (anchors, sides)), waits in zip(parts, open_after, strict=True):
        sentence = doc.segments[seg_index].sentence
        if merged and seg_index == previous_segment and (not _named(anchors) or not _named(merged[-1][0])):
            merged[-1][0].extend(anchors)
            merged[-1][1].extend(sides)
        elif (
            merged
            and sentences[-1] == sentence
            and not sides
            and merged[-1][1]
            and (_qualifies_only(anchors) or _opens_with_side(doc, merged[-1][1][0]))
        ):
            # "Läsion rechts, apikal, 14 mm": the size of that lesion; "Lymphknoten links, morphologisch
            # unauffällig": how they look; "Links keine Herdbefunde, keine suspekten Verkalkungen": a
            # side that opens the sentence speaks for its rest.
            merged[-1][0].extend(anchors)
        elif merged and sentences[-1] == sentence and not _named(merged[-1][0]):
            merged[-1] = (anchors, merged[-1][1] + sides)  # a side-only segment joins the next one
        elif merged and sentences[-1] == sentence and not _named(anchors) and not (merged[-1][1] or waits):
            # ... or the one before it ("Links, ..., unauffällig"), unless that one has a side of its
            # own or a later part waits for one: "rechts frontal, 5 mm, sowie im linken Kleinhirnstiel,
            # 7 mm" sides the 7 mm.
            merged[-1][1].extend(sides)
        elif (
            merged
            and sentences[-1] == sentence
            and not waits
            and (said := _elliptic(doc, anchors, sides, merged[-1]))
        ):
            # "Coxarthrose rechts, links allenfalls beginnend", "Zyste der rechten Niere, links unauffällig":
            # the other side alone (or with a normal statement) speaks of the clause before it.
            merged.append((anchors + said, sides))
            sentences.append(sentence)
        else:
            merged.append((anchors, sides))
            sentences.append(sentence)
        previous_segment = seg_index
    # A clause without a side of its own takes that of the heading it stands under ("Right breast:"); one
    # naming no spinal level, the levels of the clause before it in its sentence ("Mild L4-L5
    # degeneration | with mild left foraminal narrowing": the narrowing is at L4-L5) or of the level
    # label its line opens with ("L4-L5: disc bulge. Mild left foraminal narrowing.").
    headings = doc.heading_sides
    result: list[Clause] = []
    levels: list[Anchor] = []
    for (anchors, sides), sentence, before in zip(merged, sentences, [-1, *sentences], strict=False):
        own = [a for a in anchors if a[0] == "l"]
        levels = own or (levels if sentence == before else _labelled_levels(doc, sentence))
        sides = sides or ([headings[sentence]] if sentence in headings else [])
        result.append((anchors if own else anchors + levels, sides))
    return result


#: A line opening with a spinal level as its label ("L4-L5:", "LWK 4/5:").
_LEVEL_LABEL = re.compile(rf"[ \t]*(?:{_LEVEL.pattern})[ \t]*:")


def _labelled_levels(doc: Analysis, sentence: int) -> list[Anchor]:
    """The levels of the label that opens the line of a sentence, if any."""
    start = doc.sentence_spans[sentence][0]
    label = _LEVEL_LABEL.match(doc.lower, doc.lower.rfind("\n", 0, start) + 1)
    return [("l", level, False) for level in _levels(label)] if label else []


def _elliptic(doc: Analysis, anchors: list[Anchor], sides: list[SideMention], before: Clause) -> list[Anchor]:
    """What a part naming only the other side than the clause before it, or that side and a normal
    statement, says again: the findings and organs of that clause where it affirms ("links allenfalls
    beginnend"), its organs where it says normal ("links unauffällig"), nothing where it denies ("links
    nicht")."""
    if not sides or not before[1] or any(a[0] != "c" or CONCEPTS[str(a[1])].kind != "N" for a in anchors):
        return []
    mine = {side for sm in sides for side in sm.sides}
    if mine & {side for sm in before[1] for side in sm.sides}:
        return []
    organs = [a for a in before[0] if a[0] == "c" and CONCEPTS[str(a[1])].kind == "A"]
    seg = doc.segments[doc.segment_at(sides[0].start)]
    if NEG_CUES[doc.lang].search(doc.lower, sides[0].start, seg.end):
        return []  # a denial names no organ of its own: "rechts kein Erguss" leaves the pleura unsided
    return organs if anchors else organs + [a for a in before[0] if _is_finding(a) and not a[2]]


def _any_in(starts: list[int], a: int, b: int) -> bool:
    """Whether the sorted offsets `starts` hold one in [a, b)."""
    i = bisect_right(starts, a - 1)
    return i < len(starts) and starts[i] < b


def _relabels(doc: Analysis, start: int, end: int) -> list[int]:
    """Where a side and organ label starts over inside one unpunctuated segment ("impression right
    breast new calcifications biopsy recommended left breast bi-rads 2"): a side word right before an
    organ already labelled with another side in the segment begins a statement of its own."""
    labelled: dict[str, set[Side]] = defaultdict(set)
    points = []
    organ_starts, all_organs, side_starts, single_sides = _relabel_candidates(doc)
    organs = all_organs[bisect_left(organ_starts, start) : bisect_left(organ_starts, end)]
    for sm in single_sides[bisect_left(side_starts, start) : bisect_left(side_starts, end)]:
        organ = next((m for m in organs if 0 < m.start - sm.end <= 1), None)
        if organ is None:
            continue
        if labelled[organ.concept] - sm.sides:
            points.append(sm.start)
        labelled[organ.concept] |= sm.sides
    return points


@per_document
def _relabel_candidates(doc: Analysis) -> tuple[list[int], list[Mention], list[int], list[SideMention]]:
    """The organ mentions and the side words of one side (no directions) that `_relabels` pairs, each
    in text order with their start offsets for bisecting."""
    organs = [m for m in doc.mentions if m.kind == "A"]
    sides = [sm for sm in _side_words(doc) if not sm.direction and len(sm.sides) == 1]
    return [m.start for m in organs], organs, [sm.start for sm in sides], sides


def _qualifies_only(anchors: list[Anchor]) -> bool:
    """Whether a part names measurements or a normal statement and nothing else (spinal levels aside):
    it qualifies what the part before it names."""
    return any(a[0] == "q" or _is_normal(a) for a in anchors) and all(
        a[0] in ("q", "l") or _is_normal(a) for a in anchors
    )


def _is_normal(anchor: Anchor) -> bool:
    return anchor[0] == "c" and CONCEPTS[str(anchor[1])].kind == "N"


def _opens_with_side(doc: Analysis, sm: SideMention) -> bool:
    """Whether side word `sm` opens its sentence ("Links keine Herdbefunde, ...", "On the left, ...")."""
    start, _ = doc.sentence_span(sm.start)
    return _BEFORE_OPENING_SIDE.fullmatch(doc.lower, start, sm.start) is not None


#: What may stand before a side word that opens a sentence: a list mark, a preposition and article ("On
#: the left", "In Segment VII", "Auf der rechten Seite").
_BEFORE_OPENING_SIDE = re.compile(
    r"[\s\-*•]*(?:(?:on|in|at|im|an|am|auf)\s+(?:(?:the|der|dem|den|die)\s+)?)?"
)


def _named(anchors: list[Anchor]) -> bool:
    """Whether a part names a finding, organ or measurement (a level alone names none)."""
    return any(a[0] != "l" for a in anchors)


def _levels(m: re.Match[str]) -> list[str]:
    """The level one level match names: a vertebra ("S1", "BWK 10") or a segment between two ("L4/5"
    and "LWK 4/5" are l4/l5; "L5/S1" is l5/s1, another segment than L4/5 though both touch L5)."""
    first = _REGION.get(m["a"], m["a"]) + m["x"]
    if not m["y"]:
        return [first]
    second = (_REGION.get(m["b"], m["b"]) if m["b"] else first.rstrip("0123456789")) + m["y"]
    return [f"{first}/{second}"]


@per_document
def _side_words(doc: Analysis) -> list[SideMention]:
    """The side mentions that name a side (see `_NOT_A_SIDE`), with the liver segments as sides (see
    `_liver_segments`) and less ratios of the two sides ("RV/LV-Quotient", "RV LV ratio"); the same list
    for every caller."""
    mentions = sorted([*doc.side_mentions, *_liver_segments(doc)], key=lambda sm: sm.start)
    ratios = {
        id(sm)
        for a, b in pairwise(mentions)
        if a.sides != b.sides and _RATIO.fullmatch(doc.lower, a.start, b.end)
        for sm in (a, b)
    }
    mentions = [sm for sm in mentions if id(sm) not in ratios]
    if doc.lang != "en":
        return mentions
    spans = [m.span() for m in _NOT_A_SIDE.finditer(doc.lower)]
    starts = [a for a, _ in spans]  # in order and apart: only the last span starting before can hold
    return [sm for sm in mentions if not _in_span(spans, starts, sm.start)]


#: A numbered liver segment (Couinaud): II-IV lie in the left lobe, V-VIII in the right; I (the caudate
#: lobe) in neither. "Segment VI" of the liver says "right lobe" as surely as the word does.
_SEGMENT_SIDE: dict[str, Side] = {
    **dict.fromkeys(("ii", "iii", "iv"), "left"),
    **dict.fromkeys(("v", "vi", "vii", "viii"), "right"),
}
_SEGMENT_NAMES = {
    **dict(zip("2345678", _SEGMENT_SIDE, strict=True)),
    **dict(zip(("two", "three", "four", "five", "six", "seven", "eight"), _SEGMENT_SIDE, strict=True)),
    **dict(zip(("zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht"), _SEGMENT_SIDE, strict=True)),
}
_NUMERAL = "|".join(sorted([*_SEGMENT_SIDE, *_SEGMENT_NAMES], key=len, reverse=True))
# Every form starts with "s": the lookahead lets the engine pass every other offset at once.
_LIVER_SEGMENT = re.compile(
    rf"(?=s)(?:\b|(?<=leber))(?:segmente?s?|seg\.|s)\s?(?P<n>{_NUMERAL})[ab]?(?![\w/])"
)


def _liver_segments(doc: Analysis) -> list[SideMention]:
    """The numbered liver segments of sentences about the liver, as the sides they lie on. A sentence is
    about the liver where it (or its heading) names the liver or a finding of it, or where it names no
    organ and follows one about the liver ("Leberläsion in Segment VII. Neue Läsion in Segment IVa.")."""
    matches = list(_LIVER_SEGMENT.finditer(doc.lower))
    if not matches:
        return []  # most reports: no need to read which sentences are about the liver
    liver: set[int] = set()
    organs: set[int] = set()
    for m in doc.mentions:
        sentence = doc.segments[m.segment].sentence
        if m.concept == "liver" or "liver" in CONCEPTS[m.concept].implies:
            liver.add(sentence)
        elif m.kind == "A":
            organs.add(sentence)
    about, previous = set(), False
    for sentence in sorted({seg.sentence for seg in doc.segments}):
        previous = (
            sentence in liver or doc.headings.get(sentence) in liver or (previous and sentence not in organs)
        )
        if previous:
            about.add(sentence)
    found = []
    for match in matches:
        segment = doc.segment_at(match.start())
        if doc.segments[segment].sentence in about:
            side = _SEGMENT_SIDE[_SEGMENT_NAMES.get(match["n"], match["n"])]
            found.append(SideMention(frozenset({side}), match.start(), match.end(), segment))
    return found


def _in_span(spans: list[tuple[int, int]], starts: list[int], offset: int) -> bool:
    i = bisect_right(starts, offset) - 1
    return i >= 0 and offset < spans[i][1]


def _loose_both(doc: Analysis, sm: SideMention) -> bool:
    """A bare "beide"/"both" that counts something other than the sides ("an diesen beiden Etagen")."""
    if doc.lower[sm.start : sm.end] not in _BARE_BOTH or _SIDES_NOUN.match(doc.lower, sm.end):
        return False
    after = _NEXT_TWO.match(doc.lower, sm.end)
    end = after.end() if after else sm.end
    return not any(m.kind == "A" and sm.end <= m.start < end for m in doc.mentions)


@lru_cache(maxsize=8192)  # bounded: anchors include every measurement ever seen
def _weight(anchor: Anchor) -> float:
    """Findings, normal statements and measurements identify a clause; organs and counts less; a level
    only tells statements apart (`_compatible`)."""
    if anchor[0] == "l":
        return 0.0
    if anchor[0] == "q":
        return 0.5 if anchor[1] == "count" else 1.0
    return 1.0 if _is_finding(anchor) else 0.5


def _is_finding(anchor: Anchor) -> bool:
    return anchor[0] == "c" and CONCEPTS[str(anchor[1])].kind in ("F", "N")
