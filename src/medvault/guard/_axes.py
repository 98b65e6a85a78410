"""Directions along an organ's axes (proximal/distal, medial/lateral, anterior/posterior): a direction
word must stay with the same finding or organ part, as a side word must (see `_laterality`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from medvault.guard._context import Pair
from medvault.guard._cues import AXES, DIRECTION_PARTS, DIRECTIONS, MEANING_PREFIX
from medvault.guard._model import Flag
from medvault.guard._sides import Anchor
from medvault.guard._text import Analysis, per_document

_INFLECTION = re.compile(r"(?<=[lr])(?:e|en|er|es|em)$")

Directed = tuple[str, re.Match[str]]  # (direction class, the word that says it)


def _axis_directions(doc: Analysis) -> dict[tuple[str, str | None], list[Directed]]:
    """Per finding concept, and per finding and organ of its segment: the direction words (medial,
    posterior, ...) in the segments naming it ("Fraktur der proximalen Fibula" and "distale
    Tibiafraktur" keep their directions apart)."""
    in_segment: dict[int, list[Directed]] = defaultdict(list)
    for direction, w in _directed_words(doc):
        in_segment[doc.segment_at(w.start())].append((direction, w))
    # A segment without an organ of its own takes those of its sentence ("Der 12. Brustwirbel ist
    # gebrochen: seine untere Platte ist eingedrückt").
    organs: dict[int, set[str]] = defaultdict(set)
    sentence_organs: dict[int, set[str]] = defaultdict(set)
    for m in doc.mentions:
        if m.kind == "A":
            organs[m.segment].add(m.concept)
            sentence_organs[doc.segments[m.segment].sentence].add(m.concept)
    found: dict[tuple[str, str | None], list[Directed]] = defaultdict(list)
    for m in doc.mentions:
        if m.kind == "F" and not m.negated:
            context = organs[m.segment] or sentence_organs[doc.segments[m.segment].sentence]
            for key in (None, *context):
                found[m.concept, key] += in_segment.get(m.segment, [])
    return found


#: A direction word before an article or possessive is a preposition ("the ligament inside the knee",
#: "outside your body"): it says where within something, not which end of an axis.
_PREPOSITION_USE = re.compile(r"\s+(?:the|a|an|your|its|his|her|their|this|that)\b")


@per_document
def _directed_words(doc: Analysis) -> list[Directed]:
    """The words of a text that name a direction, each with its direction class."""
    found = []
    for w in doc.words:
        direction = _direction_of(w.group(), doc.lang)
        if direction and not (doc.lang == "en" and _PREPOSITION_USE.match(doc.lower, w.end())):
            found.append((direction, w))
    return found


@lru_cache(maxsize=8192)  # bounded: every word of every report passes here
def _direction_of(word: str, lang: str) -> str | None:
    """The direction a word names: a direction word, a compound part that names one wherever it
    stands ("Deckplatte"), or a side or direction first part before known anatomy ("Außenmeniskus")."""
    if word in DIRECTIONS[lang]:
        return DIRECTIONS[lang][word]
    stem = _INFLECTION.sub("", word)
    if stem != word and stem in DIRECTIONS[lang]:
        return DIRECTIONS[lang][stem]  # German endings on Latin adjectives: "anterioren", "kaudales"
    for part, cls in DIRECTION_PARTS[lang]:
        if part in word:
            return cls
    for prefix, cls in MEANING_PREFIX[lang]:
        rest = word[len(prefix) :]
        if cls in AXES and word.startswith(prefix) and len(rest) >= 4 and _anatomy(rest, lang):
            return cls
    return None


@lru_cache(maxsize=4096)
def _anatomy(word: str, lang: str) -> bool:
    """Whether a word part names anatomy the vocabulary knows ("meniskus", "lappen")."""
    return any(m.kind == "A" for m in Analysis(word, lang).mentions)


_BETWEEN = re.compile(r"[^\W\d_]*\s+(?:[^\W\d_]+\s+)?")


@per_document
def _organ_parts(doc: Analysis) -> dict[int, tuple[str, str]]:
    """Direction words right before an organ ("proximal ureter", "distaler Harnleiter", at most one
    word between): start offset -> (direction class, organ)."""
    found = {}
    for direction, w in _directed_words(doc):
        gap = _BETWEEN.match(doc.lower, w.end())
        reach = gap.end() if gap else w.end()
        organ = next((m for m in doc.mentions_between(w.end() + 1, reach + 1) if m.kind == "A"), None)
        if organ is not None and _BETWEEN.fullmatch(doc.lower, w.end(), organ.start):
            found[w.start()] = (direction, organ.concept)
    return found


def _kept_parts(pair: Pair) -> frozenset[int]:
    """Where the output's direction words name the same part of the same organ as one in the source:
    that part, whatever finding its segment holds ("proximal ureter 9 mm" kept beside "distal ureteric
    obstruction"); both direction checks leave them out."""
    src_parts = set(_organ_parts(pair.source).values())
    return frozenset(start for start, part in _organ_parts(pair.output).items() if part in src_parts)


def axis_flags(pair: Pair) -> Iterable[Flag]:
    """A finding's direction on one axis (medial/lateral, anterior/posterior, cranial/caudal,
    proximal/distal) must not turn into the other end: "medial meniscus tear" -> "outer meniscus".
    Where both texts name the finding at the same organ, the directions said there count."""
    src, out = _axis_directions(pair.source), _axis_directions(pair.output)
    kept = _kept_parts(pair)
    for (concept, organ), directions in out.items():
        directions = [(cls, w) for cls, w in directions if w.start() not in kept]
        if organ is None and any(c == concept and o and (c, o) in src for c, o in out):
            # Compared at the organ, except directions said where no organ is named ("seine untere
            # Platte ist eingedrückt").
            at_organs = {id(w) for (c, o), ds in out.items() if c == concept and o for _, w in ds}
            directions = [(cls, w) for cls, w in directions if id(w) not in at_organs]
        said = {cls for cls, _ in src.get((concept, organ), [])}
        for cls, word in directions:
            others = {c for c in said if AXES[c] == AXES[cls]}
            if others and cls not in others:
                was = next(w for c, w in src[concept, organ] if c in others)
                message = f"direction of '{concept}' changed: source says {min(others)}, output says {cls}"
                yield Flag("laterality", message, "major", was.span(), word.span(), "direction_changed")
                break


def _sentence_anchors(doc: Analysis) -> dict[int, dict[Anchor, float]]:
    """Per sentence: its findings, organs and numbers (identifiers such as "BWK 10" included), weighted."""
    found: dict[int, dict[Anchor, float]] = defaultdict(dict)
    for m in doc.mentions:
        anchor: Anchor = ("c", m.concept, m.negated)
        found[doc.segments[m.segment].sentence][anchor] = 1.0 if m.kind in ("F", "N") else 0.5
    for q in doc.quantities:
        if q.dim not in ("date", "time") and not q.soft:
            sentence = doc.segments[doc.segment_at(q.start)].sentence if doc.segments else 0
            found[sentence][("q", q.dim, q.keys[0][1])] = 0.5 if q.dim == "count" else 1.0
    return found


def _sentence_directions(doc: Analysis) -> dict[int, list[Directed]]:
    """Per sentence: its direction words, and those of a label before it on its line ("Right breast,
    upper outer quadrant, 10 o'clock: 17 x 11 mm mass": the label says where the mass is)."""
    found: dict[int, list[Directed]] = defaultdict(list)
    for direction, w in _directed_words(doc):
        found[doc.segments[doc.segment_at(w.start())].sentence].append((direction, w))
    spans = doc.sentence_spans
    for sentence, (_, end) in sorted(spans.items()):
        label = sentence - 1
        if label in found and label in spans and _labels_line(doc.lower, spans[label][1], end):
            found[sentence] = found[label] + found[sentence]
    return found


def _labels_line(lower: str, label_end: int, end: int) -> bool:
    """Whether the sentence ending at `label_end` is a label (it ends in a colon) for the text after it
    up to `end` on the same line."""
    return lower.startswith(":", label_end) and "\n" not in lower[label_end:end]


def sentence_axis_flags(pair: Pair) -> Iterable[Flag]:
    """A direction word turned into the other end of its axis, found by sentence: the output sentence is
    aligned with the source sentence sharing most of its findings, organs and numbers ("the caudal
    endplate of T10" for "der kranialen Deckplatte von BWK 10", where the finding words differ). Sure
    only where that source sentence names the other end of the axis and never this one."""
    src_anchors, out_anchors = _sentence_anchors(pair.source), _sentence_anchors(pair.output)
    src_dirs, out_dirs = _sentence_directions(pair.source), _sentence_directions(pair.output)
    kept = _kept_parts(pair)
    for sentence, directions in out_dirs.items():
        directions = [(cls, w) for cls, w in directions if w.start() not in kept]
        anchors = out_anchors.get(sentence, {})
        scored = [
            (sum(min(w, theirs[a]) for a, w in anchors.items() if a in theirs), index)
            for index, theirs in src_anchors.items()
        ]
        best = max((score for score, _ in scored), default=0.0)
        if best < 1.0:
            continue  # nothing that identifies the sentence: an explanation, not a translation
        said = {(cls, w) for score, index in scored if score == best for cls, w in src_dirs.get(index, [])}
        classes = {cls for cls, _ in said}
        for cls, word in directions:
            others = {c for c in classes if AXES[c] == AXES[cls] and c != cls}
            if others and cls not in classes:
                was = min((w for c, w in said if c in others), key=lambda w: w.start())
                message = f"direction changed: source says {min(others)}, output says {cls}"
                yield Flag("laterality", message, "major", was.span(), word.span(), "direction_changed")
                break
