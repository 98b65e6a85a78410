"""Numbers and units: every measurement, count, date and time of the source must survive unchanged.

Quantities are compared by dimension and value in a base unit, so `1,5 cm` in the source and `15 mm`
in the output match, and so do `14.03.2024` and `14/03/2024`. A number without a unit matches the same
number with one (a paraphrase may drop "mm" after a range). Whatever is left over is paired up to say
what happened: the same number with another unit ("unit changed"), or another number of the same
dimension ("5 mm -> 50 mm, ×10"); the rest is new in the output or missing from it.

Calibration (round 6): a flag must rest on the same quantity anchored in both texts. Measurements carry
their anchor in their unit; a bare count ("zwei", "Läsion 1", "von 5 Stufen", "PI-RADS 4") is anchored
only by the label written before it or the finding named next to it. Lay texts count, number and
explain scales in their own words, so there an unanchored count is no evidence at all, and a
measurement rounded after "etwa"/"about" is the same measurement.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import replace
from itertools import pairwise

from medvault.guard._context import Pair
from medvault.guard._language import function_words
from medvault.guard._lexicon import CONCEPTS
from medvault.guard._model import Flag
from medvault.guard._quantities import Quantity, spelled_number
from medvault.guard._text import Analysis, per_document

#: How far apart a rounded measurement may be from the source's (relative to the larger value): "etwa
#: 2 cm" for 18 mm is rounding, "etwa 2 cm" for 12 mm is not.
ROUNDING = 0.15
#: A lay text's measurement this close to the source's in another unit without a hedge word ("2 cm"
#: for 18 mm) may be rounding: unchecked rather than an error. In the same unit it is a changed value.
NEAR = 0.10
_HEDGE = re.compile(
    r"\b(?:etwa|ca|circa|rund|knapp|gut|fast|beinahe|ungefähr|annähernd|about|around|approximately|approx"
    r"|roughly|nearly|almost|just\s+(?:over|under)|some|little\s+(?:over|under|more\s+than|less\s+than))"
    r"\W*(?:\w+\W+)?$"
)
#: The word right before a number, as a label of it ("PI-RADS 4", "Grad 2", "Läsion 1"), one spelling
#: for both languages where they differ.
#: Possessive: giving back a letter or a blank never lets "$" match, so the engine need not try it.
_LABEL = re.compile(r"([^\W\d_]++(?:-[^\W\d_]++)?)[\s:(]*+$")
_LABEL_SPELLING = {"grad": "grade", "stufe": "grade", "kategorie": "category", "segment": "segment"}
_IDENTIFIER = re.compile(r"[^\W\d_]\d*(?:\d[/-])?$")
_L_AFTER = re.compile(r"[^\W\d_]")
_CLAUSE_END = re.compile(r"[;:!?\n]|(?<!\d)\.(?=\s)")
#: Characters after (before) a number within which a named finding counts as what the number counts.
_NEXT, _PREVIOUS = 40, 25


def _match(src: list[Quantity], out: list[Quantity], counts: bool) -> tuple[list[Quantity], list[Quantity]]:
    """Pair equal quantities; return what is left of the source and of the output.

    With `counts`, each source quantity may answer for one output quantity only (a correction must keep
    every occurrence); otherwise values are compared as sets (a simplification may repeat or merge).
    A soft count ("both") is paired last, so that it never takes the place of a written "2".
    """
    used: set[int] = set()
    left_out: list[Quantity] = []
    # A soft count answers a soft one first ("both" for "beidseits"), a written number a written one:
    # the source in the order for each (sorted once, not for every output quantity).
    ranking = {soft: sorted(enumerate(src), key=lambda item: item[1].soft != soft) for soft in (False, True)}
    for strict in (True, False):
        pending, left_out = left_out if not strict else sorted(out, key=lambda q: q.soft), []
        for q in pending:
            ranked = ranking[q.soft]
            hit = next((i for i, p in ranked if (not counts or i not in used) and _same(p, q, strict)), None)
            if hit is None:
                left_out.append(q)
            else:
                used.add(hit)
    return [p for i, p in enumerate(src) if i not in used], left_out


def _same(p: Quantity, q: Quantity, strict: bool) -> bool:
    if strict:
        return bool(set(p.keys) & set(q.keys))
    # Loose pass: one side has no unit at all and the written numbers agree.
    return (p.dim == "count" or q.dim == "count") and p.value == q.value and p.dim not in ("date", "time")


def _unit_only(p: Quantity, q: Quantity) -> bool:
    """The same number in another unit; a date or time that differs is a changed number."""
    return p.value == q.value and p.dim not in ("date", "time")


def _change(p: Quantity, q: Quantity) -> str:
    if _unit_only(p, q):
        return f"unit changed: '{p.text}' -> '{q.text}'"
    message = f"number changed: '{p.text}' -> '{q.text}'"
    if (
        p.dim == q.dim
        and p.base
        and q.base
        and round(max(p.base, q.base) / min(p.base, q.base), 6) in (10, 100, 1000)
    ):
        message += " (magnitude)"
    return message


# The ends of a scale a lay text explains ("auf einer Skala von 1 bis 5", "on a 1 to 5 scale").
_SCALE_ENDS = re.compile(r"(?<![\d.,])[01]\s*(?:bis|to|–|-)\s*(?:[3-9]|10)(?![\d.,])")
_SCALE_WORD = re.compile(r"\b(?:skala|scale|stufen?|grade?s?|punkte?n?|points?)\b")
_SCALE_TOP = re.compile(r"\b(?:von|out\s+of|of)\s+$")
#: Labels of a score ("PI-RADS 4", "Bosniak IIF", "Garden III", "Grad 2"): one anchor for all of them,
#: as a lay text may explain the score in words and give its value alone.
_SCORE = re.compile(r"\b(?:[a-z]{1,5}-?rads|bosniak|garden|gleason|fazekas|score|grade?|stufe)\b")


def _scale_explained(doc: Analysis, q: Quantity) -> bool:
    """Whether `q` is an end of a scale that its sentence explains (lay text): "auf einer Skala von 1
    bis 5", "PI-RADS 4 (von 5 Stufen)", "3 out of 5"."""
    start, end = doc.sentence_span(q.start)
    scale = _SCALE_WORD.search(doc.lower, start, end) or _SCORE.search(doc.lower, start, end)
    if not scale or q.dim != "count" or not 0 <= q.value <= 10:  # "von 11 mm" is a measurement
        return False
    return bool(_SCALE_TOP.search(doc.lower, max(start, q.start - 12), q.start)) or any(
        m.start() <= q.start < m.end() for m in _SCALE_ENDS.finditer(doc.lower, start, end)
    )


def _on_scale(doc: Analysis, q: Quantity) -> bool:
    """Whether `q` is a score given on a scale its sentence explains ("auf einer Skala von 1 bis 5
    eine 3"), not one of the scale's ends."""
    start, end = doc.sentence_span(q.start)
    return bool(_SCALE_WORD.search(doc.lower, start, end)) and not _scale_explained(doc, q)


def _anchors(doc: Analysis, q: Quantity) -> frozenset[str]:
    """What a bare count is a count of: the label before it and the findings named next to it, in the
    same clause (an ordinal's dot, "7. und 8. Rippe", ends none). Asked again for each quantity of the
    other text it is compared with: kept per document."""
    known = _anchors_of(doc)
    if q not in known:
        known[q] = _read_anchors(doc, q)
    return known[q]


@per_document
def _anchors_of(doc: Analysis) -> dict[Quantity, frozenset[str]]:
    return {}


def _read_anchors(doc: Analysis, q: Quantity) -> frozenset[str]:
    found = set()
    label = _LABEL.search(doc.lower, max(0, q.start - 30), q.start)
    if label:
        word = label.group(1).replace("-", "")
        if len(word) > 1 and not any(word in listed for listed in function_words().values()):
            found.add("w:" + _LABEL_SPELLING.get(word, word))
        if _SCORE.fullmatch(label.group(1)):
            found.add("score")
    if _on_scale(doc, q):
        found.add("score")
    stop = _CLAUSE_END.search(doc.lower, q.end, q.end + _NEXT)
    after_end = stop.start() if stop else q.end + _NEXT
    before_start = max(
        [m.end() for m in _CLAUSE_END.finditer(doc.lower, max(0, q.start - _PREVIOUS), q.start)]
        or [q.start - _PREVIOUS]
    )
    # Mentions are in text order and never overlap: their starts and ends both ascend.
    found |= {"c:" + m.concept for m in doc.mentions_between(q.end, after_end)}
    last = bisect_right(doc.mention_ends, q.start) - 1  # the last mention ending before the number
    if last >= 0 and doc.mentions[last].start >= before_start:
        found.add("c:" + doc.mentions[last].concept)
    return frozenset(found)


def _anchored(pair: Pair, p: Quantity, q: Quantity) -> bool:
    """Whether two quantities are strong evidence of one and the same quantity: measurements of one
    dimension, dates, times; counts only where both texts give them the same label or finding."""
    if p.dim == q.dim and p.dim != "count":
        return True
    return bool(_anchors(pair.source, p) & _anchors(pair.output, q))


def _contradicted(pair: Pair, q: Quantity, labels_only: bool) -> Quantity | None:
    """The source count that output count `q` contradicts: the source counts the same thing (same
    label or, unless `labels_only`, finding) and neither gives this value nor lists that many items
    ("Drei Rippen" for "7. und 8. Rippe"; "PI-RADS 3" for "PI-RADS 4")."""
    if q.dim != "count" or q.soft:
        return None
    anchors = {a for a in _anchors(pair.output, q) if not labels_only or a.startswith("w:")}
    if not anchors:
        return None
    counted = [
        p
        for p in pair.source.quantities
        if p.dim == "count" and not p.soft and anchors & _anchors(pair.source, p)
    ]
    values = {p.value for p in counted}
    listed = {len(values)} | _range_lengths(pair.source, counted)
    return counted[0] if counted and q.value not in values | listed else None


#: Words joining the ends of a numbered range: "Rippen 5 bis 8", "5–8", "levels 3 to 5".
_RANGE = re.compile(r"\.?\s*(?:-|–|—|bis|to|through)\s*")


def _range_lengths(doc: Analysis, counted: list[Quantity]) -> set[float]:
    """How many items the numbered ranges among `counted` hold: "Rippen 5 bis 8" are four ribs."""
    return {
        b.value - a.value + 1
        for a, b in pairwise(counted)
        if a.value < b.value and _RANGE.fullmatch(doc.lower, a.end, b.start)
    }


def _in_compound(pair: Pair, q: Quantity) -> bool:
    """Whether a count written in words heads a hyphenated compound ("three-vessel disease") that
    the source writes as one word headed by its number ("Dreigefäßerkrankung"): the same count."""
    if not pair.output.lower.startswith("-", q.end) or q.dim != "count":
        return False
    return any(
        spelled_number(word[:cut]) == q.value
        for word in pair.source.word_set
        if len(word) > 6
        for cut in range(3, 8)
    )


def _moved(pair: Pair, missing: list[Quantity], matched: list[Quantity]) -> list[Flag]:
    """Measurements whose value the output gives to another finding: "new 9 mm liver lesion" summed
    up as "new 19 mm lesion" where 19 mm is the adrenal metastasis's. Values are compared as sets, so
    19 mm matched; it is a change where the output's value names a finding that the source measures
    with a value the output lost, and the source never gives its value to that finding."""
    flags: dict[int, Flag] = {}  # one flag per output value, however often the source repeats its own
    # Per output value, read once for every left-over measurement: what the source names beside the
    # same value wherever it gives it.
    given: dict[int, frozenset[str]] = {}
    for p in list(missing):
        if p.dim in ("count", "date", "time"):
            continue
        findings = {a for a in _anchors(pair.source, p) if _finding_anchor(a)}
        if not findings:
            continue
        for index, q in enumerate(matched):
            mine = findings & _anchors(pair.output, q) if q.dim == p.dim else None
            if not mine:
                continue
            if index not in given:
                given[index] = _given_anchors(pair.source, q)
            if not mine & given[index]:
                missing.remove(p)  # reported as changed, not as missing
                flags.setdefault(
                    q.start, Flag("numbers", _change(p, q), "major", (p.start, p.end), (q.start, q.end))
                )
                break
    return list(flags.values())


def _given_anchors(doc: Analysis, q: Quantity) -> frozenset[str]:
    """What a text names beside each of its quantities of the same value as `q`."""
    same = [x for x in doc.quantities if set(x.keys) & set(q.keys)]
    return frozenset().union(*(_anchors(doc, x) for x in same))


def _finding_anchor(anchor: str) -> bool:
    """Whether an anchor names a finding (not a label, an organ or an organ said to be normal)."""
    concept = anchor.removeprefix("c:")
    return anchor != concept and CONCEPTS[concept].kind == "F"


def _lay_count(doc: Analysis, q: Quantity) -> bool:
    """A whole number without a unit that names no level or item: "zwei Knoten", "Läsion 1", "von 5
    Stufen". Decimals (ratios, indices) and numbers glued to letters ("L5", "C5/6", "T3b") are read
    as measurements and identifiers."""
    glued = _IDENTIFIER.search(doc.lower, max(0, q.start - 12), q.start) or _L_AFTER.match(doc.lower, q.end)
    return q.dim == "count" and q.value.is_integer() and "," not in q.text and "." not in q.text and not glued


def _ratio(p: Quantity, q: Quantity) -> float:
    if p.dim != q.dim or p.dim in ("date", "time", "count") or not p.base or not q.base:
        return 1.0
    return abs(p.base - q.base) / max(p.base, q.base)


def _hedged(pair: Pair, q: Quantity) -> bool:
    """Whether an output value is written as a paraphrase's rounding ("etwa 2 cm", "about 2 cm" for
    18 mm): it may then stand for a measurement within `ROUNDING` of it."""
    return not pair.rules.number_counts and bool(
        _HEDGE.search(pair.output.lower, max(0, q.start - 25), q.start)
    )


def numbers(pair: Pair) -> list[Flag]:
    """Flag measurements, counts, dates and times that changed, appeared or disappeared."""
    src_all, out_all = pair.source.quantities, pair.output.quantities
    lay = pair.rules.lay
    missing, new = _match(src_all, out_all, pair.rules.number_counts)
    matched = [q for q in out_all if q not in new and not (lay and _scale_explained(pair.output, q))]
    new = [q for q in new if not q.soft and not (lay and _scale_explained(pair.output, q))]
    missing = [p for p in missing if not p.soft]
    if not pair.rules.number_counts:  # a value counts as kept when it occurs anywhere in the output
        missing = [
            p for p in missing if not any(_same(p, q, strict) for q in out_all for strict in (True, False))
        ]
    flags = []
    if not pair.rules.number_counts:  # values compared as sets: a count may match a number elsewhere
        for q in matched:  # by label only: a finding named near a number may be counted elsewhere
            p = _contradicted(pair, q, labels_only=True)
            if p:
                flags.append(Flag("numbers", _change(p, q), "major", (p.start, p.end), (q.start, q.end)))
        flags += _moved(pair, missing, matched)
    src_len, out_len = max(1, len(pair.source.text)), max(1, len(pair.output.text))
    for q in new:
        # A hedged value rounds a source measurement near it in value ("about 4 cm" for a 4.2 x 1.8 cm
        # collection): the first left-over one, in the source's order, that it may round.
        hedged = _hedged(pair, q)
        rounds = next((p for p in missing if hedged and _ratio(p, q) <= ROUNDING), None)
        if rounds is not None:
            missing.remove(rounds)
            continue
        # The counterpart is the same number in another unit, else the nearest one of the same dimension.
        candidates = [p for p in missing if p.value == q.value and p.unit != q.unit] or [
            p for p in missing if p.dim == q.dim or "count" in (p.dim, q.dim)
        ]
        if lay:  # lay counts and numbering are no measurements: only an anchored pair is evidence
            candidates = [p for p in candidates if _anchored(pair, p, q)]
        if candidates:
            p = min(candidates, key=lambda p: abs(p.start / src_len - q.start / out_len))
            missing.remove(p)
            code = "unit_changed" if _unit_only(p, q) else "number_changed"
            span = (q.start, q.end)
            flag = Flag("numbers", _change(p, q), "major", (p.start, p.end), span, code)
            rounding = lay and p.unit != q.unit and _ratio(p, q) <= NEAR
            flags.append(replace(flag, confident=not rounding))
        elif (hedged and any(_ratio(p, q) <= ROUNDING for p in src_all)) or _in_compound(pair, q):
            continue  # rounds a measurement the output also keeps: "about 1 cm (11 mm)"
        elif lay and _lay_count(pair.output, q):
            p = _contradicted(
                pair, q, labels_only=False
            )  # else a lay count, list number or scale: no measurement
            if p:
                flags.append(Flag("numbers", _change(p, q), "major", (p.start, p.end), (q.start, q.end)))
        else:
            message = f"'{q.text}' is not in the source"
            flags.append(Flag("numbers", message, "major", None, (q.start, q.end), "number_added"))
    if pair.rules.missing_number:
        for p in missing:
            message = f"'{p.text}' of the source is missing"
            flags.append(
                Flag("numbers", message, pair.rules.missing_number, (p.start, p.end), None, "number_missing")
            )
    return flags
