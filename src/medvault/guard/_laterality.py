"""Laterality: every side word must stay with the same finding, organ or measurement.

Side words (links/left, rechts/right, beidseits/bilateral, li./re./bds.) belong to the *anchors* of
their clause: concepts (with polarity, so "Erguss links, rechts kein Erguss" keeps two anchors) and
measurements (`11,2 cm` is the same anchor in both languages). A clause is a segment, split further
before "mit/und/with/and/that" where the next part has a side word of its own ("right haematoma |
with leftward shift | and left fracture"). Four comparisons, each a source of major flags:

1. anchors: an output anchor with a side that the same anchor (or a narrower concept: "Harnstau
   links" speaks about the left kidney) never has in the source;
2. clauses: a clause whose sides differ from those of the most alike source clause (weighted Dice
   over anchors; findings and measurements weigh more than organs); a source clause whose side the
   output lost is flagged at the task's `missing_side` severity;
3. comparisons: "rechts mehr als links", "worse on the left": the dominant and lesser sides;
4. corrections only: a side word replaced by another in otherwise aligned text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from medvault.guard._axes import axis_flags, sentence_axis_flags
from medvault.guard._context import Pair
from medvault.guard._cues import COMPARISON, GENERIC
from medvault.guard._lexicon import CONCEPTS, implied
from medvault.guard._model import Flag, Severity
from medvault.guard._sides import Anchor, _Clause, _is_finding, _is_normal, _side_words, _Sides, _weight
from medvault.guard._text import Analysis, SideMention


@lru_cache(maxsize=8192)
def _likeness(x: Anchor, y: Anchor) -> float:
    """Full weight for the same anchor; half for the other polarity or a related concept."""
    weight = min(_weight(x), _weight(y))
    if x == y:
        return weight
    if x[0] != "c" or y[0] != "c":
        return 0.0
    if _normal_vs_denied(x, y) or _normal_vs_denied(y, x):
        return weight / 2  # "Rechte Lunge frei" is alike "Rechte Lunge ohne Infiltrat"
    if x[2] != y[2]:
        weight /= 2
    if x[1] == y[1]:
        return weight / 2
    related = _is_finding(x) == _is_finding(y) and (x[1] in implied(str(y[1])) or y[1] in implied(str(x[1])))
    return weight / 2 if related else 0.0


def _normal_vs_denied(x: Anchor, y: Anchor) -> bool:
    return CONCEPTS[str(x[1])].kind == "N" and CONCEPTS[str(y[1])].kind == "F" and bool(y[2])


def _matches(clause: _Clause, others: list[_Clause], threshold: float = 0.5) -> list[tuple[float, _Clause]]:
    """The clauses of the other text at least `threshold` alike (weighted Dice over anchors), best first.

    A clause naming a finding only matches clauses naming the same or a related finding.
    """
    findings = clause.findings
    scored = []
    for other in others:
        # Each key shares at most its own weight, so `shared` <= `clause.size`: a clause that cannot
        # reach the threshold even so is skipped before the pairwise likeness.
        if 2 * clause.size / (clause.size + other.size) < threshold:
            continue
        # A finding both name is alike itself: only clauses naming none of the same look further.
        if (
            findings
            and other.keys.isdisjoint(findings)
            and not any(_likeness(k, o) for k in findings for o in other.findings)
        ):
            continue
        score = 2 * _shared(clause, other) / (clause.size + other.size)
        if score >= threshold:
            scored.append((score, other))
    return sorted(scored, key=lambda item: -item[0])


def _shared(clause: _Clause, other: _Clause) -> float:
    """What a clause shares with another: per anchor, its likeness to the most alike anchor there. An
    anchor both hold shares its whole weight (no likeness exceeds it); other than that only concepts
    are alike (`_likeness`)."""
    return sum(
        _weight(k)
        if k in other.keys
        else max([_likeness(k, o) for o in other.concepts], default=0.0)
        if k[0] == "c"
        else 0.0
        for k in clause.keys
    )


def _flag(
    message: str, severity: Severity, src: SideMention | None, out: SideMention | None, what: str = "side"
) -> Flag:
    src_span = (src.start, src.end) if src else None
    out_span = (out.start, out.end) if out else None
    code = f"{what}_changed" if out else f"{what}_missing"
    return Flag("laterality", message, severity, src_span, out_span, code=code)


def _names(sides: Iterable[str | None]) -> str:
    return " and ".join(sorted(s for s in sides if s)) or "no side"


def _anchor_flags(pair: Pair, src: _Sides, out: _Sides) -> Iterable[Flag]:
    for anchor, out_sides in out.sides.items():
        src_sides = src.counterpart(anchor)
        if src_sides is None or _is_normal(anchor):
            # Unknown to the source: new findings and numbers speak about it. A normal statement says
            # how its organ is, not which one: the clauses compare its side.
            continue
        extra = sorted(set(out_sides) - set(src_sides))
        if extra and (src_sides or not set(extra) <= src.doc_sides):
            missing = sorted(set(src_sides) - set(out_sides))
            at, was = out_sides[extra[0]], src_sides.get(missing[0]) if missing else None
            message = f"'{out.labels[anchor]}': output says {_names(extra)}, source says {_names(src_sides)}"
            # A side given to what the source names without one is sure only where it contradicts
            # every side of the source ("left" in a report on the right knee), not where it adds to
            # them ("die beiden Menisken" of a right knee: the two menisci, or both knees?).
            if _measure_agrees(pair, src, at) or _denied_alike(src, out, anchor, at):
                continue
            adds = not src_sides and bool(set(out_sides) & src.doc_sides)
            agrees = _clause_agrees(src, out, anchor, at)
            # A source that names no side at all cannot be contradicted, only explained ("Segment VII"
            # -> "im hinteren rechten Teil der Leber"): the guard cannot check that side.
            unsided = not src.doc_sides
            yield replace(_flag(message, "major", was, at), confident=not (adds or agrees or unsided))


def _clause_agrees(src: _Sides, out: _Sides, anchor: Anchor, at: SideMention) -> bool:
    """Whether the output clause holding `anchor` (sided by `at`) has the sides of the source clause
    most alike it: the anchor then disagrees only through words one language's vocabulary reads and
    the other's does not ("normal flow" -> "regelrechte Durchblutung")."""
    for clause in out.clauses:
        if anchor in clause.keys and at in clause.side_mentions:
            matches = _matches(clause, src.clauses)
            aligned = _aligned(clause, matches)
            return bool(aligned) and (aligned[0].sides == clause.sides or _said_elsewhere(clause, matches))
    return False


def _denied_alike(src: _Sides, out: _Sides, anchor: Anchor, at: SideMention) -> bool:
    """Whether a denial's clause is stated on its sides by the source (see `_denials_said`): "kein
    Hinweis, dass der Krebs rechts zurückgekommen ist" for "Regelrechter Befund rechts", though the
    source denies the cancer in words only on the left."""
    return bool(anchor[2]) and any(
        anchor in clause.keys and at in clause.side_mentions and _denials_said(clause, src)
        for clause in out.clauses
    )


def _measure_agrees(pair: Pair, src: _Sides, at: SideMention) -> bool:
    """Whether the output sentence holding side word `at` keeps a measurement that the source gives
    the same side ("a 15 mm spot ... in the right side of the brain" for "a 15 mm lesion in the right
    parietal lobe"): numbers align the sentence with the source and its side agrees; which organ word
    carries the side is then a matter of vocabulary, not a changed side."""
    start, end = pair.output.sentence_span(at.start)
    return any(
        start <= q.start < end
        and q.dim not in ("date", "time", "count")
        and not q.soft
        and at.sides & set(src.sides.get(("q", q.dim, q.keys[0][1]), {}))
        for q in pair.output.quantities
    )


def _aligned(clause: _Clause, matches: list[tuple[float, _Clause]]) -> list[_Clause]:
    """The source clauses aligned with an output clause: the most alike ones; among near ties, those
    that state all it states ("hard, calcified plaque" is the right ICA's, though the left ICA's clause
    is as alike in words)."""
    if not matches:
        return []
    best = [other for score, other in matches if score == matches[0][0]]
    close = [m for score, m in matches if score >= matches[0][0] * NEAR_TIE and _compatible(clause, m)]
    return close if close and not any(m in close for m in best) else best


def _clause_flags(pair: Pair, src: _Sides, out: _Sides) -> Iterable[Flag]:
    """Clauses naming only organs are left to the anchors: "the right lung is clear" and "air around
    the left lung" are alike in words and far apart in meaning."""
    for clause in out.clauses:
        if not clause.sides or not any(_weight(k) == 1 for k in clause.keys):
            continue
        # A statement about another spinal level is another statement, however alike in words.
        matches = _matches(clause, src.clauses)
        matches = [(score, m) for score, m in matches if _same_level(clause, m)] or matches
        best = _aligned(clause, matches)
        sided = [m for m in best if m.sides]
        if (
            sided
            and not any(clause.sides in (m.sides, m.umbrella) for m in best)
            and not _said_elsewhere(clause, matches, pair.rules.lay)
            and not _denials_said(clause, src)
            and not _measured_elsewhere(clause, src)
        ):
            label = out.labels[clause.first]
            message = f"'{label}': output says {_names(clause.sides)}, source says {_names(sided[0].sides)}"
            yield _flag(message, "major", sided[0].side_mentions[0], clause.side_mentions[0])
    for clause in src.clauses:
        if clause.sides:
            matches = _matches(clause, out.clauses, 0.75)
            if matches and not any(m.sides for _, m in matches):
                message = (
                    f"'{src.labels[clause.first]}': source says {_names(clause.sides)}, output names no side"
                )
                # Minor where the output does name that side, tied to words the vocabulary reads
                # differently ("im rechten Unterbauch" is an organ, "right lower quadrant" is not).
                severity = "minor" if clause.sides <= out.doc_sides else pair.rules.missing_side
                yield _flag(message, severity, clause.side_mentions[0], None)


#: How alike (relative to the best aligned source clause) another source clause must be to count as the
#: same statement in the existential reading of sides.
ALIKE = 0.9
LAY_ALIKE = 0.8
#: Scores this close to the best are a tie broken by what the clauses say (`_aligned`).
NEAR_TIE = 0.95


def _compatible(clause: _Clause, other: _Clause) -> bool:
    """Whether a source clause states what the output clause states: every finding of it with the same
    polarity, at no other spinal level, with no other measurement."""
    measures, theirs = ({k for k in c.keys if k[0] == "q"} for c in (clause, other))
    apart = bool(measures and theirs and not measures & theirs)  # "15 mm" is not the "6 mm" lesion
    shared = bool(clause.organs & other.organs)
    return (
        all(_states(other.keys, k, shared) for k in clause.findings)
        and _same_level(clause, other)
        and not apart
    )


def _states(keys: frozenset[Anchor], k: Anchor, same_organ: bool) -> bool:
    """Whether a clause's anchors state finding `k`: the same one; for a generic finding ("spot"), a
    narrower one of the same polarity ("nodule"); for a denial, the denial of a broader finding ("keine
    Herdbefunde": no nodules) or a normal statement ("Regelrechter Befund rechts": no cancer on the
    right); for an organ said normal, a denial about the same organ (`same_organ`: "Left kidney 10.8 cm,
    no hydronephrosis": "normal size")."""
    return (
        k in keys
        or (k[1] in GENERIC and any(_likeness(k, o) for o in keys if o[2] == k[2]))
        or (bool(k[2]) and any(_is_normal(o) for o in keys))
        or any(
            o[0] == "c"
            and o[2]
            and ((same_organ and _normal_vs_denied(k, o)) or (k[2] and o[1] in implied(str(k[1]))))
            for o in keys
        )
    )


def _same_level(clause: _Clause, other: _Clause) -> bool:
    """Whether two clauses may speak about one spinal level (either names none, or they share one)."""
    levels, theirs = clause.levels, other.levels
    return not levels or not theirs or bool(levels & theirs)


def _measured_elsewhere(clause: _Clause, src: _Sides) -> bool:
    """Whether a source clause with the output clause's sides holds all its measurements ("narrowing was
    fifty to sixty-nine percent" on the right, for "progressed from 50-69%" under "Right ICA:"): a
    clause sharing one end of the range only ("stenosis below 50%" on the left) is another statement."""
    measures = {k for k in clause.keys if k[0] == "q" and k[1] != "count"}
    return bool(measures) and any(
        measures <= other.keys and other.sides == clause.sides for other in src.clauses
    )


def _denials_said(clause: _Clause, src: _Sides) -> bool:
    """Whether every denial or normal statement of an output clause that affirms nothing is stated by some
    source clause of its sides, one by one ("Left: no suspicious lesion, no calcifications." split in
    two clauses, restated as "the left breast shows no suspicious nodules and no calcifications")."""
    findings = clause.findings
    if not findings or any(CONCEPTS[str(k[1])].kind == "F" and not k[2] for k in findings):
        return False
    organs = clause.organs
    mine = [m for m in src.clauses if m.sides == clause.sides and _same_level(clause, m)]
    # About the same organ; a denial also where the source names none ("Links keine Herdbefunde"), but
    # an organ said normal only by a statement about it ("Samenblasen links unauffällig" is not said by
    # "Links keine suspekte Läsion" of the prostate).
    return all(
        any(
            _states(m.keys, k, bool(organs & m.organs))
            and (not organs or organs & m.organs or (k[2] and not m.organs))
            for m in mine
        )
        for k in findings
    )


def _said_elsewhere(clause: _Clause, matches: list[tuple[float, _Clause]], lay: bool = False) -> bool:
    """Existential reading: the output's sides are those of some compatible source statement, or, for
    both sides, the union of compatible statements about each side ("Right kidney: normal. Left kidney:
    normal." is "both kidneys are normal"), though not the best aligned one."""
    # Only statements as alike as the aligned one: a clause that merely shares the finding word ("7 mm
    # stone in the left ureter" vs "stones in the left kidney") is another statement.
    # Lay words align less surely ("upper part of your right lung" names no lobe), so a lay output's
    # statement may stand for a slightly less alike one.
    # A clause naming no organ or measurement ("Rechts unauffällig") has nothing that tells the source's
    # statements apart beyond its findings: any compatible one says it.
    placed = bool(clause.organs) or any(k[0] == "q" for k in clause.keys)
    top = (matches[0][0] if matches and placed else 0.0) * (LAY_ALIKE if lay else ALIKE)
    compatible = [m for score, m in matches if score >= top and _compatible(clause, m) and m.sides]
    if any(m.sides == clause.sides for m in compatible):
        return True
    if len(clause.sides) != 2:
        return False
    # Both sides: per side, the source statement most alike among those of that side alone says it
    # ("Right kidney 11.2 cm, normal" and "Left kidney 10.8 cm, no hydronephrosis").
    firsts = [next((m for _, m in matches if m.sides == {side}), None) for side in clause.sides]
    return all(first is not None and _compatible(clause, first) for first in firsts)


def _comparison_flags(src: _Sides, out: _Sides) -> Iterable[Flag]:
    src_pairs = [dominance for dominance, _ in src.comparisons]
    for dominance, span in out.comparisons:
        # An output naming both ends ("right more than right") is held to the source's comparisons that
        # do too, not only to "rechts betont".
        full = [other for other in src_pairs if other[1] and dominance[1]] or src_pairs
        if src_pairs and not any(_agrees(dominance, other) for other in full):
            message = f"comparison changed: output says {_told(dominance)}, source says {_told(full[0])}"
            yield Flag("laterality", message, "major", src.comparisons[0][1], span, code="comparison_changed")


def _direction_flags(pair: Pair, src: _Sides, out: _Sides) -> Iterable[Flag]:
    """A shift or deviation "nach rechts"/"to the left" must keep its direction."""
    src_sides = {side for sm in src.directions for side in sm.sides}
    for sm in out.directions:
        if src_sides and not sm.sides & src_sides:
            message = f"direction changed: output says {_names(sm.sides)}, source says {_names(src_sides)}"
            yield _flag(message, "major", src.directions[0], sm, "direction")
    if src.directions and not out.directions:
        sm = src.directions[0]
        yield _flag(
            f"direction {_names(sm.sides)} of the source is missing",
            pair.rules.missing_side,
            sm,
            None,
            "direction",
        )


def _told(dominance: tuple[str, str | None]) -> str:
    return f"{dominance[0]} more than {dominance[1]}" if dominance[1] else f"{dominance[0]} dominant"


def _agrees(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    return a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])


def _verbatim_flags(pair: Pair) -> Iterable[Flag]:
    """Corrections: a side word replaced by another side in otherwise aligned text."""
    src_sides, out_sides = _side_words(pair.source), _side_words(pair.output)
    src_words, out_words = pair.source.words, pair.output.words
    src_starts, out_starts = [sm.start for sm in src_sides], [sm.start for sm in out_sides]
    for op, i1, i2, j1, j2 in pair.word_opcodes:
        if op != "replace" or i2 - i1 != j2 - j1:
            continue
        for a, b in zip(src_words[i1:i2], out_words[j1:j2], strict=True):
            s = _side_at(src_sides, src_starts, a.start())
            o = _side_at(out_sides, out_starts, b.start())
            if s and o and s.sides != o.sides:
                yield _flag(f"side word changed: {_names(s.sides)} -> {_names(o.sides)}", "major", s, o)


def _line_flags(pair: Pair) -> Iterable[Flag]:
    """Translations line by line: where both texts have the same number of lines, each output line may
    only name sides its source line names ("Recall for ultrasound of the right breast" -> "Sonographie
    der linken Brust"), whatever words carry them: a translation keeps the lines of its report."""
    src_lines, out_lines = _lines(pair.source), _lines(pair.output)
    if len(src_lines) != len(out_lines):
        return
    src_sides, out_sides = _side_words(pair.source), _side_words(pair.output)
    for (src_start, src_end), (out_start, out_end) in zip(src_lines, out_lines, strict=True):
        said = [sm for sm in src_sides if src_start <= sm.start < src_end and not sm.direction]
        sides = {side for sm in said for side in sm.sides}
        for sm in out_sides:
            if out_start <= sm.start < out_end and not sm.direction and said and not sm.sides <= sides:
                message = f"line sides changed: output says {_names(sm.sides)}, source says {_names(sides)}"
                yield _flag(message, "major", said[0], sm)
                break


def _lines(doc: Analysis) -> list[tuple[int, int]]:
    """The (start, end) offsets of the non-blank lines of a text."""
    return [m.span() for m in re.finditer(r"[^\n]*\S[^\n]*", doc.lower)]


def _side_at(mentions: list[SideMention], starts: list[int], offset: int) -> SideMention | None:
    i = bisect_right(starts, offset) - 1
    return mentions[i] if i >= 0 and mentions[i].start == offset else None


def laterality(pair: Pair) -> list[Flag]:
    """Flag side words that moved to another finding, organ or measurement, or were lost."""
    # "Nach rechts hinten ausgetreten" for "Vorfall links": where only the output says where a finding
    # points, that direction is the side of its finding (a source's direction the output lost stays
    # a missing direction).
    src_dir, out_dir = (any(sm.direction for sm in _side_words(doc)) for doc in (pair.source, pair.output))
    src, out = _Sides(pair.source), _Sides(pair.output, out_dir and not src_dir)
    found = [
        *_anchor_flags(pair, src, out),
        *_clause_flags(pair, src, out),
        *_comparison_flags(src, out),
        *_direction_flags(pair, src, out),
    ]
    found += axis_flags(pair)
    found += sentence_axis_flags(pair)
    if pair.rules.verbatim and pair.same_language:
        found += _verbatim_flags(pair)
    if pair.rules.target_language:
        found += _line_flags(pair)
    flags: dict[object, Flag] = {}
    for flag in found:
        flags.setdefault(flag.output_span or flag.source_span, flag)
    return [_sure(pair, flag) for flag in flags.values()]


def _sure(pair: Pair, flag: Flag) -> Flag:
    """In lay text, a changed side is unsure where the output's sentence compares both sides ("the right
    ventricle is larger than the left"): which finding each side word belongs to is then beyond the
    anchors. Reports keep their clause structure, so there it stays sure."""
    if flag.code != "side_changed" or not flag.output_span or not pair.rules.lay:
        return flag
    start, end = pair.output.sentence_span(flag.output_span[0])
    sides = {side for sm in _side_words(pair.output) if start <= sm.start < end for side in sm.sides}
    compares = sides >= {"left", "right"} and COMPARISON[pair.output.lang].search(
        pair.output.lower, start, end
    )
    return replace(flag, confident=False) if compares else flag
