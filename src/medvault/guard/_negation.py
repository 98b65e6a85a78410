"""Negation polarity: a finding negated in the source must stay negated in the output, and vice versa.

Polarity comes from `Analysis` (clause-level cue scopes in German and English; pseudo-negations such
as "nicht auszuschließen" / "cannot be excluded" do not count). A source often holds both polarities
of one concept ("Erguss links, rechts kein Erguss"; "Blutung rechts, keine Ventrikeleinbruchblutung"),
so each output finding is compared in the most specific context the source also has: same concept
with the same organs and sides in its segment, then same sides, then same organs, then anywhere (never
with statements about the other side only). A source finding also speaks for the findings it directly
implies ("Pleuraerguss" for "Erguss"); an affirmed output finding that the source never names is
checked against the source's denials of what it implies ("Pneumonie" against "kein Infiltrat").

A change is raised with confidence only where the two statements are anchored to each other: a
shared organ or side, or a global statement on one side ("Kein Pneumothorax"). Statements found
through the concept alone that name different organs are about different things ("no bile duct
dilatation" beside "gallbladder distended"); other unanchored ones are reported as not checked.

Within one language and for corrections, a negation word the output dropped or added in an otherwise
aligned passage ("Kein Hydrozephalus" -> "Hydrozephalus") is flagged even when the finding itself is
not in the vocabulary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace

from medvault.guard._context import Pair
from medvault.guard._cues import GENERIC, UNCERTAIN
from medvault.guard._lexicon import CONCEPTS, closure
from medvault.guard._model import Flag, Severity
from medvault.guard._placement import translated_agreeing, worded_alike
from medvault.guard._priors import prior_changes
from medvault.guard._readings import (
    NOT_NOW_OR_NOW,
    compared_level,
    in_context,
    known_before,
    of_kind,
    open_nature,
    own_term,
)
from medvault.guard._statements import (
    _DIRECTION,
    _KIND,
    _NORMAL,
    _PERSISTING,
    Statements,
    _Finding,
    _findings,
    _leaves,
    _opposite,
    _other_level,
    _other_organs,
    _placed_alike,
    _specific,
    apart,
    gapped,
    grouped_by_concept,
    statements,
)
from medvault.guard._text import WORD, Analysis, Mention, Segment

# Words saying a finding is there to a degree that a denied degree allows ("2 mm of midline shift,
# which is not significant" for "ohne relevante Mittellinienverlagerung (2 mm)").
_LESSER = re.compile(
    r"\b(?:(?:not|nicht|kein\w*)\s+(?:\w+\s+)?(?:significant|relevant|signifikant|wesentlich|nennenswert)\w*"
    r"|insignificant|irrelevant|unwesentlich\w*|minimal\w*|gering\w*|slight\w*|mild\w*|minor|small"
    r"|trace|leicht\w*|dezent\w*|diskret\w*|klein\w*)\b"
)


_BOTH = frozenset({"left", "right"})
# Qualifiers whose denial presupposes the unqualified finding (see `_known`).
_PRESUPPOSING = frozenset({"new", "further"})


def _known(o: _Finding, src: Statements, via_generic: bool = False) -> tuple[list[_Finding], int]:
    """The source's statements (`src`, by concept) about the same finding in the most specific context
    both share.

    A finding implied by another ("Hill-Sachs lesion" is a fracture) counts like a named one.
    Qualified findings ("keine weitere Fraktur", "no acute haemorrhage") are compared with findings of
    the same qualifier where the source has them. A "normal" statement about an organ ("Processus
    styloideus ulnae intakt") counts as negating findings of that organ.

    Also says at which level they were found: 0 to 2 through a shared organ or side, 3 through the
    concept alone (see `_anchored`). `via_generic`: the output names a specific finding that implies
    this generic one ("carcinoma" for "lesion"), which then is compared anywhere too.
    """
    same = src.get(o.concept, [])
    if o.kind and not o.implied:  # "Korbhenkelriss" is compared with what the source says of that kind
        same = [f for f in same if f.kind == o.kind] or same
    # An organ said to be normal denies findings of that organ only: not of another one that shares a
    # broader part ("Iliosakralgelenke unauffällig" says nothing of a cyst in the hip joint), and "Other
    # bones intact" nothing of the bone the report is about.
    normal = [
        f
        for f in src.get(_NORMAL, [])
        if f.organs & o.organs and _one_place(f, o) and (f.qualifier != "further" or o.qualifier == "further")
    ]
    if o.qualifier and any(f.qualifier == o.qualifier for f in same + normal):
        same = [f for f in same if f.qualifier == o.qualifier]
        normal = [f for f in normal if f.qualifier == o.qualifier]
    elif any(f.qualifier == o.qualifier for f in same):
        same = [f for f in same if f.qualifier == o.qualifier]
    elif not (o.mention.negated or o.qualifier):
        # "Keine neuen Metastasen", "no further fracture" presuppose the ones there are: they do not
        # deny the unqualified finding.
        same = [f for f in same if not (f.mention.negated and f.qualifier in _PRESUPPOSING)]
    elif o.mention.negated and (o.qualifier or "").startswith(_KIND):
        return [], 0  # "kein Spannungspneumothorax" says nothing about the pneumothorax
    if o.sides:  # a statement about the other side says nothing about this one
        same = [f for f in same if not f.sides or f.sides & o.sides]
    # An organ said normal on one side ("Li. Lunge frei") says nothing of a finding named without a
    # side ("fluid in the lung"): it may be the other side's. On both sides, it speaks for any.
    normal = [f for f in normal if not f.sides or f.sides & o.sides or f.sides >= _BOTH]
    same = [f for f in same if not _other_level(f, o)]  # nor one about another spinal level
    if o.concept in GENERIC:  # "suspekte Lymphknoten" says nothing about a "suspicious" liver lesion
        same = [f for f in same if not f.implied]
    anywhere = [f for f in same if not f.organ_only]
    levels = (
        _at_organs(same, o, with_sides=True) or _at_organs(normal, o, with_sides=True),
        _closest(
            [f for f in anywhere if o.sides and f.sides & o.sides],
            lambda f: (len(f.sides & o.sides) / len(f.sides | o.sides), f.organs == o.organs),
        ),
        _at_organs(same, o, with_sides=False) or _at_organs(normal, o, with_sides=False),
        # A generic word ("no other lesions") counts anywhere only as a qualified, global statement.
        anywhere if o.concept not in GENERIC or o.qualifier or via_generic else [],
    )
    for index, level in enumerate(levels):
        if level:
            return level, index
    return [], 0


def _one_place(f: _Finding, o: _Finding) -> bool:
    """Whether the most specific organs of one statement all lie within those of the other: "Leber und
    Milz unauffällig" and "a lesion in the liver"; not "Iliosakralgelenke" (iliac, joint) and the hip
    joint, which share the broader joint only."""
    mine, theirs = _leaves(_specific(o)), _leaves(_specific(f))
    return not (mine and theirs) or mine <= closure(theirs) or theirs <= closure(mine)


def _anchored(pair: Pair, o: _Finding, statements: list[_Finding], index: int) -> bool:
    """Whether statements found at `_known`'s level `index` are about what the output finding is about:
    through a shared organ or side (levels 0 to 2); through the concept alone (level 3) where one side
    is global, naming no organ or side of its own: "no extension" speaks for every extension. A match
    through the concept alone between statements about different organs or sides is not sure to be
    about the same thing ("the menisci are not injured" beside "ACL rupture"). Statements that name
    anchors of different kinds only (an organ here, a side there) are anchored where each text names
    the other's anchors too: "Läsion links ..., ein Karzinom ist wahrscheinlich" in a prostate report
    and "Prostatakrebs" in a text about the left side of the gland; not "Links ist nichts verletzt"
    for a report about the right knee."""
    if index < 3 or (o.kind and all(f.kind == o.kind for f in statements)):
        return True  # a shared organ or side, or the same narrower kind ("Korbhenkelriss")
    if not (_specific(o) or o.sides) or all(not (_specific(f) or f.sides) for f in statements):
        return True
    return all(
        not (_specific(f) and _specific(o))
        and not (f.sides and o.sides)
        and _names(pair.source, o)
        and _names(pair.output, f)
        for f in statements
    )


def _names(doc: Analysis, f: _Finding) -> bool:
    """Whether a text names a statement's organs and sides somewhere."""
    organs = {m.concept for m in doc.mentions if m.kind == "A"}
    sides = {side for sm in doc.side_mentions if not sm.bound and not sm.direction for side in sm.sides}
    return _specific(f) <= organs and f.sides <= sides


def _at_organs(findings: list[_Finding], o: _Finding, with_sides: bool) -> list[_Finding]:
    """Statements about the output finding's organs: those with the closest organ set (Jaccard).

    Organs the finding itself implies (the bone of a fracture) do not tell statements apart and are
    left out of the likeness, unless they are all there is.
    """
    if not o.organs or (with_sides and not o.sides):
        return []
    generic = CONCEPTS[o.concept].implies
    mine = o.organs - generic or o.organs
    # A statement about the opposite direction is about something else ("lateral meniscus tear" for
    # "the medial meniscus is not torn").
    candidates = [
        f
        for f in findings
        if f.organs & o.organs
        and (not with_sides or f.sides & o.sides)
        and not _opposite(f.organs, o.organs)
        and _organ_anchor(f, o)
    ]

    named = bool(_specific(o) - generic)

    def score(f: _Finding) -> tuple[float, bool]:
        theirs = f.organs - generic or f.organs
        # Agreeing on having no side is a tie-break only where the output names an organ of its own:
        # "the bone is broken" is as close to "left femur fracture" as to "no pelvic fracture".
        return len(theirs & mine) / len(theirs | mine), named and f.sides == o.sides

    return _closest(candidates, score)


def _organ_anchor(f: _Finding, o: _Finding) -> bool:
    """Whether a shared organ ties two statements together beyond what the finding itself implies.

    Every fracture is "of a bone": "the small bony tip is not broken" and "fracture of the distal
    radius" share only that. Where both name organs of their own and those differ, the shared one is
    no evidence that they speak of the same thing: the pair is left to the concept-only level, which
    `_anchored` calibrates. An output naming only the finding's own organ ("the rim of the socket is
    broken": the vocabulary knows only "bone") may still be compared with a named one."""
    own = CONCEPTS[o.concept].implies
    mine = _specific(o) - own
    theirs = frozenset(c for c in f.organs - own if not c.startswith(_DIRECTION))
    # A broader organ counts ("medial clear space" is part of the ankle, which is a joint).
    return not (mine and theirs) or bool(closure(mine) & closure(theirs))


def _compatible(o: _Finding, of_concept: list[_Finding], at_level: list[_Finding]) -> bool | None:
    """Whether the source says what the output says in another statement of the concept (`of_concept`;
    `at_level`: those at the output's level) that may be about the same thing: True where one shares a
    side, spinal level or the anatomy at the finding with it ("Mild pelvicalyceal dilatation" under
    "Right kidney:" for "in the right kidney ... widened", beside "No ureteral dilatation"); None where
    one only does not differ (about no place of its own); False where every such statement is about
    another place (`apart`)."""
    # Where the source names the output's narrower kind ("V. a. Korbhenkelriss"), a statement of the
    # plain finding ("Komplexer Riss") does not say it.
    kind = o.kind if any(f.kind == o.kind for f in of_concept) else None
    agreeing = [
        f
        for f in at_level
        if not f.implied
        and (kind is None or f.kind == kind)
        and f.qualifier in (o.qualifier, None if o.qualifier in (None, _PERSISTING) else o.qualifier)
        and not apart(f, o)
        and not _other_organs(f, o)
    ]
    if any(_placed_alike(f, o) for f in agreeing):
        return True
    return None if agreeing else False


def _closest(candidates: list[_Finding], score: Callable[[_Finding], tuple[float, bool]]) -> list[_Finding]:
    """The best-scoring candidates; named findings before implied ones at the same score."""
    if not candidates:
        return []
    best = max(score(f) for f in candidates)
    top = [f for f in candidates if score(f) == best]
    return [f for f in top if not f.implied] or top


def _flag(
    pair: Pair, s: Mention, o: Mention, confident: bool = True, read: tuple[str, str] | None = None
) -> Flag:
    """A polarity or certainty change; certainty when either side is hedged or historical. `read`: the
    two levels as the comparison read them (`compared_level`), where not the written ones."""
    source_level, output_level = read or (pair.source.level(s), pair.output.level(o))
    levels = {"source_level": source_level, "output_level": output_level}
    hedged = bool(set(levels.values()) - {"present", "absent"})
    code = "certainty_changed" if hedged else "negation_changed"
    message = (
        f"'{s.word}': source says {levels['source_level']}, output '{o.word}' says {levels['output_level']}"
    )
    severity: Severity = "major" if _major(levels["source_level"], levels["output_level"]) else "minor"
    # A hedge the other text has in the same sentence, on another word ("enlarged node, likely
    # reactive" -> "most likely swollen because it reacts"): which word it belongs to is unsure.
    if _hedge_moved(pair.source, s, levels["output_level"]) or _hedge_moved(
        pair.output, o, levels["source_level"]
    ):
        confident = False
    return Flag(
        "negation", message, severity, (s.start, s.end), (o.start, o.end), code, levels, confident=confident
    )


def _hedge_moved(doc: Analysis, m: Mention, level: str) -> bool:
    """Whether the sentence of `m` (at another level) has a certainty cue of hedged `level`."""
    if level not in UNCERTAIN or doc.level(m) == level:
        return False
    start, end = doc.sentence_span(m.start)
    return any(start <= cue_start < end and cue == level for _, cue_start, _, cue, _ in doc.certainty_cues)


def _polar(f: _Finding) -> str:
    return "absent" if f.mention.negated else "present"


def _major(source: str, output: str) -> bool:
    """Hedged vs hedged ("probable" vs "possible") is a nuance, and so is a denied finding called
    possible or unlikely ("kein Nachweis einer Läsion" -> "Krebs ist unwahrscheinlich"): the output errs
    on the side of caution. Gone and past agree that the finding is not there now ("the previously seen
    pneumothorax is no longer visible" -> "the pneumothorax has resolved"). Any other change matters."""
    return not (
        {source, output} <= UNCERTAIN
        or (source == "absent" and output == "possible")
        or {source, output} == _NOT_NOW
    )


_NOT_NOW = {"absent", "historical"}


def _consequence(pair: Pair, o: _Finding, src: Statements) -> tuple[list[_Finding], int]:
    """For an affirmed finding the source never names: the source's statements (`src`, by concept) of
    what it implies, where they all deny it or (for a certain output) all hedge it.

    "Pneumonie" implies an infiltrate; a source saying "kein Infiltrat" contradicts it, and one saying
    "DD Infiltrat" does not support "sicher eine Lungenentzündung".
    """
    if o.mention.negated:
        return [], 0
    certain = pair.output.level(o.mention) == "present"
    for implied_concept in CONCEPTS[o.concept].implies:
        if CONCEPTS[implied_concept].kind != "F":
            continue
        generic = implied_concept in GENERIC and o.concept not in GENERIC
        statements, index = _known(replace(o, concept=implied_concept), src, via_generic=generic)
        # A denial found through a generic word alone, anywhere ("keine Läsion" elsewhere), is too
        # weak to contradict a specific finding; at its organ ("Nieren unauffällig") it does.
        if statements and all(f.mention.negated for f in statements) and not (generic and index == 3):
            return statements, index
        named = [f for f in statements if not f.implied]
        if named and certain and {pair.source.level(f.mention) for f in named} <= UNCERTAIN:
            return named, index
    return [], 0


def _verbatim_segments(pair: Pair) -> set[int]:
    """Output segments (same language) whose words stand in the source just so ("Aneurysmahals 22 mm")."""
    if not pair.same_language:
        return set()
    passages = {
        index: words
        for index, seg in enumerate(pair.output.segments)
        if len(words := _segment_words(pair.output, seg)) >= 8
    }
    if not passages:  # none long enough to tell: the source's need not be read
        return set()
    source = {_segment_words(pair.source, seg) for seg in pair.source.segments}
    return {index for index, words in passages.items() if words in source}


def _segment_words(doc: Analysis, seg: Segment) -> str:
    return " ".join(WORD.findall(doc.lower, seg.start, seg.end))


def _by_concept(pair: Pair) -> list[Flag]:
    # The output's statements are compared with the study's findings only: where the source names a
    # finding only in its clinical context, a known disease the output calls present ("Bei Ihnen ist
    # ein Prostatakrebs bekannt") or past is not compared.
    src = [f for f in _findings(pair.source, with_implied=True) if not in_context(pair.source, f.mention)]
    grouped = grouped_by_concept(src)
    # A statement's level as compared (`compared_level`) may read its evidence and hedges: once each.
    source_levels: dict[_Finding, str] = {}

    def source_level_of(f: _Finding) -> str:
        if f not in source_levels:
            source_levels[f] = compared_level(pair.source, f)
        return source_levels[f]

    verbatim = _verbatim_segments(pair)
    flags: dict[str, Flag] = {}
    # `statements` is cached: the omission and new-finding checks read it too. Elliptic statements
    # ("effusion on the right, small on the left") are compared like written ones.
    out = [*statements(pair.output), *gapped(pair.output)]
    for o in out:
        if o.concept in flags:
            continue
        if not pair.same_language:  # the other language writes the kind in words of its own
            qualifier = None if (o.qualifier or "").startswith(_KIND) else o.qualifier
            if o.kind is not None or qualifier != o.qualifier:
                o = replace(o, qualifier=qualifier, kind=None)
            src_o, named_kind = of_kind(pair, o, src)
        else:
            src_o, named_kind = src, False
        if o.mention.segment in verbatim and not o.gapped:
            continue  # the source has this very passage: its statement is the source's own
        if pair.output.tells(o.mention) or in_context(pair.output, o.mention):
            continue
        src_by = grouped if src_o is src else grouped_by_concept(src_o)
        if o.concept in grouped:
            known, index = _known(o, src_by, via_generic=named_kind)
        else:
            known, index = _consequence(pair, o, src_by)
        if not known:
            continue
        anchored = _anchored(pair, o, known, index)
        level = compared_level(pair.output, o)
        polarity = {f.mention.negated for f in known}
        # A certainty speaks for the finding it names, not for what that implies: "collection, likely
        # lymphocele" leaves the collection present.
        levels = {source_level_of(f) if not f.implied else _polar(f): f for f in known}
        if level in levels or (not o.mention.negated and polarity == {False} and o.implied):
            continue
        if {level, *levels} >= NOT_NOW_OR_NOW and known_before(pair, o, known):
            continue
        if open_nature(pair, o, known, level, set(levels)):
            continue
        if (not anchored and _elsewhere(o, known)) or (index == 3 and _answered(pair, o, out, src_o, known)):
            continue
        # The source says just this elsewhere, about a place the output's statement may be about: the
        # statement it was aligned with is not surely the one the output rewords.
        if _lesser(pair, o, known):
            continue
        # The source's statements of the concept at the output's level, read once for the three tests.
        of_concept = src_by.get(o.concept, [])
        at_level = [f for f in of_concept if source_level_of(f) == level]
        compatible = _compatible(o, of_concept, at_level)
        if worded_alike(pair, o, known, at_level):
            compatible = False  # the output rewords the aligned statement
        elif compatible or translated_agreeing(pair, o, known, at_level):
            continue
        elif compatible is None and any(_placed_alike(f, o) for f in known):
            compatible = False  # the aligned statement shares the output's place, the other names none
        # Confident only where the source's statements about it agree with each other and are
        # anchored to the output's (same organ or side, or both global).
        confident = len(polarity) == 1 and anchored and compatible is False
        source_level, source = next(iter(levels.items()))
        # The levels as compared (`compared_level`); an implied statement's own is the written one.
        read = (pair.source.level(source.mention) if source.implied else source_level, level)
        if polarity == {not o.mention.negated} or not confident:
            sure = confident and not _measured_elsewhere(pair, o, src_o, known)
            flags[o.concept] = _flag(pair, source.mention, o.mention, sure, read)
        elif not o.mention.negated:  # same polarity, another certainty: "suspicious for" -> "is"
            sure = not _measured_elsewhere(pair, o, src_o, known)
            flags[o.concept] = _flag(pair, source.mention, o.mention, sure, read)
    return list(flags.values())


def _lesser(pair: Pair, o: _Finding, known: list[_Finding]) -> bool:
    """Whether the source denies only a degree of the finding ("no significant shift") and the output's
    sentence says it is there to a lesser one ("2 mm of shift, which is not significant")."""
    if o.mention.negated or not all(f.mention.negated and f.qualifier == "degree" for f in known):
        return False
    return bool(_LESSER.search(pair.output.lower, *pair.output.sentence_span(o.mention.start)))


def _measured_elsewhere(pair: Pair, o: _Finding, src: list[_Finding], known: list[_Finding]) -> bool:
    """Whether the output sentence of `o` keeps a measurement of a source sentence that says nothing
    of the finding ("extending 6 mm into the fat" rewords "Infiltration ... um 6 mm", not "Faszie
    nicht infiltriert"): it rewords that sentence, in words the vocabulary reads as another finding,
    so the comparison is unsure. Not where the output keeps the source's own term for the finding
    ("extraprostatischer Ausdehnung" for "Extraprostatische Ausdehnung"): a summary merges sentences."""
    values = _measures(pair.output, *pair.output.sentence_span(o.mention.start))
    if not values or own_term(pair, o, known):
        return False
    concepts = {o.concept} | {f.concept for f in known}
    spans = {_passage(pair.source, f.mention.start) for f in src if f.concept in concepts}
    holding = {_passage(pair.source, q.start) for q in pair.source.quantities if (q.dim, q.base) in values}
    return bool(holding) and not holding & spans


def _passage(doc: Analysis, offset: int) -> tuple[int, int]:
    """The sentence holding `offset` with those a semicolon joins to it ("node with cortical thickening
    to 4 mm, indeterminate; metastasis cannot be excluded" is one statement)."""
    start, end = doc.sentence_span(offset)
    while end + 1 < len(doc.lower) and doc.lower[end] == ";" and (nxt := doc.sentence_span(end + 1)[1]) > end:
        end = nxt
    while start > 1 and doc.lower[start - 1] == ";" and (previous := doc.sentence_span(start - 2)[0]) < start:
        start = previous
    return start, end


def _measures(doc: Analysis, start: int, end: int) -> set[tuple[str, float]]:
    """The measurements (not counts, dates or times) between two offsets, by dimension and value."""
    return {
        (q.dim, q.base)
        for q in doc.quantities
        if start <= q.start < end and q.dim not in ("count", "date", "time")
    }


def _elsewhere(o: _Finding, known: list[_Finding]) -> bool:
    """Whether the output finding names organs of its own and every source statement names others
    ("no bile duct dilatation" beside "gallbladder distended"): statements about different things."""
    mine = _specific(o)
    return bool(mine) and all(_specific(f) and not _specific(f) & mine for f in known)


def _answered(
    pair: Pair, o: _Finding, out: Sequence[_Finding], src: list[_Finding], known: list[_Finding]
) -> bool:
    """Whether other output statements of the concept keep the source's statements, one for one ("the
    infection has not spread into the skull" for "no intracranial extension"): they answer the source,
    and this one, found through the concept alone, is about something else ("it has spread to form a
    pocket of pus"). A flipped statement beside a kept repetition of it is still compared ("Es hat
    hineingeblutet ... ohne Blutung" for "Keine Einblutung ... ohne Einblutung")."""
    concepts = {f.concept for f in known}
    levels = {pair.source.level(f.mention) for f in known}
    said = {f.mention.start for f in src if f.concept in concepts and pair.source.level(f.mention) in levels}
    kept = {
        other.mention.start
        for other in out
        if other.concept in concepts | {o.concept}
        and other.mention is not o.mention
        and pair.output.level(other.mention) in levels
    }
    return bool(said) and len(kept) >= len(said)


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
        levels = {
            "source_level": "absent" if src_cues else None,
            "output_level": "absent" if out_cues else None,
        }
        message = f"negation '{word}' {action}"
        flags.append(Flag("negation", message, "major", src_span, out_span, params=levels))
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
            flags.append(_flag(pair, s, o))
    return flags


def _has_finding(pair: Pair, span: tuple[int, int]) -> bool:
    segment = pair.output.segment_at(span[0])
    return any(m.kind == "F" and m.segment == segment for m in pair.output.mentions)


def negation(pair: Pair) -> list[Flag]:
    """Flag findings whose polarity differs between source and output."""
    flags = _by_concept(pair)
    flagged = {f.output_span for f in flags}
    flags += [f for f in prior_changes(pair) if f.output_span not in flagged]
    if pair.rules.verbatim and pair.same_language:
        seen = {f.output_span for f in flags}
        flags += [f for f in _by_alignment(pair) if f.output_span not in seen]
        flags += _by_cue_words(pair, flags)
    return flags
