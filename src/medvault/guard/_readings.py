"""How the negation check reads a statement beyond its cues: the clinical context (no finding of the
study), evidence in parentheses and hedges carried across a segment boundary, a generic finding hedged
only in what it is, a finding called known, a kind named by the same word in both languages, and a
finding written in the source's own term. `_negation._by_concept` applies these while comparing.
"""

from __future__ import annotations

import re

from medvault.guard._context import Pair
from medvault.guard._cues import GENERIC, UNCERTAIN
from medvault.guard._lexicon import implied
from medvault.guard._statements import _Finding
from medvault.guard._text import WORD, Analysis, Mention

# The word joined to a finding's word by a hyphen ("HAGL-Läsion") or a space ("HAGL lesion").
# Possessive: giving back a character never lets "$" match, so the engine need not try it.
_WORD_BEFORE = re.compile(r"(\w++)[ \t-]++$")


def _first_part(doc: Analysis, f: _Finding) -> str | None:
    """The word written right before a statement's finding word."""
    start = doc.word_span(f.mention.start, f.mention.end)[0]
    before = _WORD_BEFORE.search(doc.lower, max(0, start - 30), start)
    return before[1] if before else None


def of_kind(pair: Pair, o: _Finding, src: list[_Finding]) -> tuple[list[_Finding], bool]:
    """Across languages, the source statements without those of the output's concept that name another
    kind of it, where the source writes the same word right before the finding as the output ("Kein
    Hinweis auf HAGL-Läsion" for "a HAGL lesion", not "Bankart-Läsion"): a name or acronym is spelled
    alike in both languages. Also says whether it found that kind: a generic finding of a named kind
    ("HAGL lesion") is then compared anywhere."""
    mine = _first_part(pair.output, o)
    if not mine:
        return src, False
    parts = {f.mention.start: _first_part(pair.source, f) for f in src if f.concept == o.concept}
    if mine not in parts.values():
        return src, False
    return [f for f in src if f.concept != o.concept or parts[f.mention.start] == mine], True


def in_context(doc: Analysis, m: Mention) -> bool:
    """Whether a mention stands in the clinical context ("Indikation: Prostatakarzinom", "Hx: breast
    cancer"): it tells what was known before the study, which may be there still or gone; it is not a
    finding of this study and has no level to compare (`Analysis.context`)."""
    return doc.context.get(doc.segments[m.segment].sentence) == "history"


# Words saying that what a finding is remains open, not whether it is there: "indeterminate 11 mm
# lesion", "too small to characterise", "unklare Läsion", "nicht weiter charakterisierbar".
_NATURE_OPEN = re.compile(
    r"\b(?:indeterminate|unclear|undetermined|uncharacteri[sz]ed|nonspecific|unspecific"
    r"|too\s+small\s+to\s+(?:characteri[sz]e|say\s+what)"
    r"|(?:cannot|can\s+not)\s+be\s+(?:further\s+)?characteri[sz]ed"
    r"|unklar\w*|unspezifisch\w*|unbestimmt\w*"
    r"|nicht\s+(?:weiter\s+|sicher\s+|näher\s+)?(?:charakterisierbar|einzuordnen|zuzuordnen)"
    r"|zu\s+klein\s+(?:zur|für\s+eine|um)\s+"
    r"(?:charakterisierung|sicheren\s+einordnung|\w+\s+zu\s+beurteilen))"
)


def compared_level(doc: Analysis, f: _Finding) -> str:
    """A statement's level as the comparison reads it: evidence in parentheses after a hedged finding is
    there (`_evidence`); a hedge cut off by a conjunction, or on what an example illustrates, reaches
    the statement (`_carried_hedge`)."""
    level = doc.level(f.mention)
    if level in UNCERTAIN and _evidence(doc, f):
        return "present"
    if level == "present" and (carried := _carried_hedge(doc, f)):
        return carried
    return level


def open_nature(pair: Pair, o: _Finding, known: list[_Finding], level: str, levels: set[str]) -> bool:
    """Whether a generic finding ("lesion", "spot") hedged only in what it is ("indeterminate 11 mm
    lesion", "unklare Läsion") meets a plain statement that it is there ("an 11 mm spot, too small to say
    what it is"): both say it is there, so they agree, as the hedges agree with each other. A specific
    finding said of it ("hepatocellular carcinoma") is still compared with the hedge."""

    def open_(doc: Analysis, f: _Finding) -> bool:
        return f.concept in GENERIC and bool(
            _NATURE_OPEN.search(doc.lower, *doc.sentence_span(f.mention.start))
        )

    if o.concept not in GENERIC:
        return False
    if level == "present":
        return bool(levels) and levels <= UNCERTAIN and all(open_(pair.source, f) for f in known)
    return level in UNCERTAIN and levels == {"present"} and open_(pair.output, o)


# An example of what the segment before it says ("most likely harmless, for example a fibroadenoma").
_EXAMPLE = re.compile(
    r"\s*(?:for\s+example|for\s+instance|such\s+as|e\.\s?g\.|zum\s+beispiel|z\.\s?b\.|beispielsweise|etwa)\b"
)


def _carried_hedge(doc: Analysis, f: _Finding) -> str | None:
    """The hedge a statement takes from the segment before it in its sentence, where a conjunction cut
    the hedge off from its finding ("DD Artefakt, eher | jedoch echtes Defizit": the forward cue ends
    its segment) or the statement gives an example of what that segment hedges ("most likely harmless,
    for example a fibroadenoma")."""
    index = f.mention.segment
    if index == 0 or doc.segments[index - 1].sentence != doc.segments[index].sentence:
        return None
    before, seg = doc.segments[index - 1], doc.segments[index]
    example = _EXAMPLE.match(doc.lower, seg.start)
    for segment, _, cue_end, cue, direction in doc.certainty_cues:
        if segment != index - 1 or direction != "forward" or cue not in UNCERTAIN:
            continue
        if example or not WORD.search(doc.lower, cue_end, before.end):
            return cue
    return None


def _evidence(doc: Analysis, f: _Finding) -> bool:
    """Whether a statement stands in parentheses after what a forward hedge qualifies (a finding or an
    organ's involvement): the evidence for the suspicion, which is seen ("V. a. Milzbefall
    (Splenomegalie 14,5 cm)", "possible pneumonia (consolidation in the right lower lobe)")."""
    seg, at = doc.segments[f.mention.segment], f.mention.start
    opened = doc.lower.rfind("(", seg.start, at)
    if opened < 0 or ")" in doc.lower[opened:at]:
        return False
    hedged = [
        cue_end
        for segment, _, cue_end, _, direction in doc.certainty_cues
        if segment == f.mention.segment and direction == "forward" and cue_end <= opened
    ]
    qualified = doc.mentions_between(min(hedged), opened) if hedged else []
    # A parenthesis naming what stands before it is its name, hedged alike ("most likely spread from a
    # cancer elsewhere (metastases)"); so is one holding the finding's word alone.
    word_start, word_end = doc.word_span(at, f.mention.end)
    closed = doc.lower.find(")", word_end)
    alone = closed >= 0 and not WORD.search(doc.lower, word_end, closed)
    alone = alone and not WORD.search(doc.lower, opened + 1, word_start)
    # Nor one naming a kind of what stands before it ("brain tumour (high-grade glioma)").
    named = implied(f.concept)
    return bool(qualified) and not alone and all(m.concept not in named for m in qualified if m.kind == "F")


# "14 vorbekannte Läsionen, unverändert", "the known lesion": seen before, which says nothing of whether
# it is there now; such a statement agrees with "present" and with "historical".
_KNOWN = re.compile(r"\b(?:(?:vor)?bekannte?[nmrs]?|known)\s+(?:[\w/-]+\s+){0,3}[\w/]*-?$")
NOT_NOW_OR_NOW = {"present", "historical"}


def known_before(pair: Pair, o: _Finding, known: list[_Finding]) -> bool:
    """Whether the output statement or every aligned source statement calls the finding known before
    (`_KNOWN` right before its word in its segment) and the other side says it is there or was."""

    def said_known(doc: Analysis, f: _Finding) -> bool:
        start = doc.word_span(f.mention.start, f.mention.end)[0]
        return bool(_KNOWN.search(doc.lower, doc.segments[f.mention.segment].start, start))

    return said_known(pair.output, o) or all(said_known(pair.source, f) for f in known)


def own_term(pair: Pair, o: _Finding, known: list[_Finding]) -> bool:
    """Whether the output writes a specific finding in the words of an aligned source statement, up to
    an inflected ending (same language only)."""
    if not pair.same_language or o.concept in GENERIC:  # "suspekt" names no statement of its own
        return False
    mine = pair.output.lower[o.mention.start : o.mention.end].strip()
    for f in known:
        theirs = pair.source.lower[f.mention.start : f.mention.end].strip()
        common = next(
            (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
            min(len(mine), len(theirs)),
        )
        if not f.implied and common >= 5 and common >= min(len(mine), len(theirs)) - 3:
            return True
    return False
