"""New findings and omissions: concepts on one side of the pair without a counterpart on the other.

Concepts come from the shared German/English lexicon, so a translation is compared concept by
concept. A concept counts as grounded when the source names it, names a concept that implies it (a
broader term, the organ of an organ-specific finding, a lay paraphrase), or, within one language,
has a word that differs only in spelling (the source of a correction is full of typos).
"""

from __future__ import annotations

import re

from medvault.guard._context import Pair
from medvault.guard._cues import ACTIONABLE, DEPENDENT, GENERIC, GRADED, RECOMMENDATION, UNCERTAIN
from medvault.guard._lexicon import CONCEPTS, closure, implied
from medvault.guard._model import Flag, Severity
from medvault.guard._spelling import similar
from medvault.guard._statements import apart, statements
from medvault.guard._text import Analysis, Mention


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
    # A question ("Is it leaking?") names a finding without stating it.
    stated = [m for m in pair.output.mentions if not pair.output.asks(m)]
    affirmed_source = closure(m.concept for m in pair.source.mentions if not m.negated)
    denied_only = _denied_only(pair, affirmed_source)
    for concept, mentions in _first_per_concept(stated).items():
        if concept in grounded and concept not in denied_only:
            continue
        if all(_as_at_bone(pair.output, m) in affirmed_source for m in mentions):
            continue  # "ein Riss im Kreuzbein" for "Fissur des Os sacrum"
        if (
            concept not in denied_only
            and pair.same_language
            and any(_spelled_in(m.word, pair.source) for m in mentions)
        ):
            continue
        first = mentions[0]
        severity: Severity | None
        if CONCEPTS[concept].kind == "N":
            continue
        if concept in denied_only:
            first = denied_only[concept]
            severity, what = "major", "finding (the source denies it elsewhere only)"
        elif CONCEPTS[concept].kind != "F":
            severity, what = pair.rules.new_anatomy, "organ or device"
        elif CONCEPTS[concept].implies & pair.source.concepts or all(m.negated for m in mentions):
            severity, what = "minor", "finding (more specific, or negated)"
        else:
            severity, what = "major", "finding"
        if severity:
            message = f"'{first.word}': {what} not in the source"
            # In lay text or another language the vocabulary misses paraphrases ("flow" for
            # "Durchblutung"): a new finding there is sure when it is actionable, or when its sentence
            # names nothing the source has (a sentence of its own, not a reworded one).
            # Outside corrections, a new finding in a sentence that keeps a measurement of the source
            # ("a 7 mm obstructing stone" for "a 7 mm echogenic focus with shadowing") rewords what the
            # source describes: unsure, whatever the finding.
            # A new finding lay text only speculates about, in a sentence about a finding of the
            # source ("it is most likely swollen because it reacts to an infection"), explains rather
            # than reports: unsure.
            speculated = (
                pair.rules.lay
                and pair.output.level(first) in UNCERTAIN
                and _grounded_nearby(pair.output, first, grounded)
            )
            # Lay text explaining what a doubtful finding of the source could mean ("Solche
            # Kalkgruppen können harmlos sein, aber auch ein Zeichen einer bösartigen Veränderung"
            # for "BI-RADS 4, Biopsie empfohlen") repeats the source's doubt: shown, not a verdict.
            if (
                pair.rules.lay
                and _hedged_sentence(pair.output, first)
                and _doubtful(pair.source)
                and not _foreign_organs(pair.output, first, grounded)
            ):
                severity = "minor"
            sure = not (speculated or (not pair.rules.verbatim and _measured_nearby(pair, first))) and (
                (pair.same_language and not pair.rules.lay)
                or concept in ACTIONABLE
                or not _grounded_nearby(pair.output, first, grounded)
            )
            # A doubt about a finding that is not actionable is shown (minor) rather than withheld:
            # "not checked" stays for what could be a major problem.
            if not sure and concept not in ACTIONABLE:
                severity, sure = "minor", True
            flags.append(
                Flag("new_findings", message, severity, None, (first.start, first.end), confident=sure)
            )
    return flags


#: A lay word for a split, which at a bone names a fracture ("ein feiner Riss im Kreuzbein" for "Fissur
#: des Os sacrum", "a small tear in the rib"): grounded there by the source's fracture.
_AT_BONE = {"rupture": "fracture"}


def _as_at_bone(doc: Analysis, m: Mention) -> str | None:
    """The finding `m` names where its segment names a bone and no other organ ("Riss im Kreuzbein", not
    "Riss der Sehne am Oberarmknochen"); None for a mention that is read the same everywhere."""
    if m.concept not in _AT_BONE:
        return None
    organs = {o.concept for o in doc.mentions if o.segment == m.segment and o.kind == "A"}
    return _AT_BONE[m.concept] if organs and all("bone" in implied(o) for o in organs) else None


def _denied_only(pair: Pair, affirmed: set[str]) -> dict[str, Mention]:
    """Findings the output affirms where the source only denies them, at other places: "Frische
    Rippenfraktur" added to "Keine Fraktur der Schädelkalotte" (by concept -> the output mention).
    Organs tell places apart within one language outside lay text; sides always (see `apart`).
    `affirmed`: what the source affirms, with what that implies."""
    denied = [s for s in statements(pair.source) if s.concept not in affirmed]
    if not denied:
        return {}
    organs = pair.same_language and not pair.rules.lay
    found: dict[str, Mention] = {}
    for o in statements(pair.output):
        same = [s for s in denied if s.concept == o.concept]
        # Generic words ("suspekt", "lesion") stand for whatever their organ has: no new finding.
        if o.mention.negated or o.concept in found or o.concept in GENERIC or not same:
            continue
        if all(apart(s, o, organs) for s in same):
            found[o.concept] = o.mention
    return found


def _hedged_sentence(doc: Analysis, m: Mention) -> bool:
    """Whether the sentence of `m` holds a hedge ("können", "might"), wherever it stands in it."""
    start, end = doc.sentence_span(m.start)
    return doc.level(m) in UNCERTAIN or any(
        start <= cue_start < end and level in UNCERTAIN for _, cue_start, _, level, _ in doc.certainty_cues
    )


def _foreign_organs(doc: Analysis, m: Mention, grounded: set[str]) -> bool:
    """Whether the sentence of `m` names an organ the source does not ("suspected pneumonia in the
    middle lobe" below a kidney scan): then it is no explanation of the source's doubt."""
    start, end = doc.sentence_span(m.start)
    return any(start <= o.start < end and o.kind == "A" and o.concept not in grounded for o in doc.mentions)


def _doubtful(doc: Analysis) -> bool:
    """Whether a text leaves a finding open: a hedged finding, a suspicion or a recommendation."""
    return any(m.kind == "F" and doc.level(m) in UNCERTAIN for m in doc.mentions) or bool(
        RECOMMENDATION[doc.lang].search(doc.lower)
    )


def _grounded_nearby(doc: Analysis, m: Mention, grounded: set[str]) -> bool:
    """Whether the sentence holding `m` names a concept the source has."""
    start, end = doc.sentence_span(m.start)
    return any(start <= other.start < end and other.concept in grounded for other in doc.mentions)


def _measured_nearby(pair: Pair, m: Mention) -> bool:
    """Whether the sentence holding output mention `m` has a measurement the source has too."""
    start, end = pair.output.sentence_span(m.start)
    values = {q.value for q in pair.output.quantities if start <= q.start < end and q.dim not in _SOFT_DIMS}
    return bool(values & {q.value for q in pair.source.quantities if q.dim not in _SOFT_DIMS})


_SOFT_DIMS = ("count", "date", "time")


def omissions(pair: Pair) -> list[Flag]:
    """Flag findings of the source that the output no longer mentions.

    An actionable finding (data/importance.toml) that the source states as present or suspected is
    major for every task when the output does not affirm it or a broader or narrower finding; the
    flag is unsure (reported as not checked) when the output keeps the numbers of its sentence, as
    a lay paraphrase the vocabulary does not know would. Other findings keep the task's severity.
    """
    at_bone = {c for m in pair.output.mentions if not m.negated and (c := _as_at_bone(pair.output, m))}
    present = pair.output.concepts | at_bone
    # What the output affirms, a lay split at a bone as the fracture it names: one set for keeping a
    # finding and for keeping the impression sentence of one (`_sentence_kept`).
    affirmed = {m.concept for m in pair.output.mentions if m.kind == "F" and not m.negated} | at_bone
    flags = []
    # The source's questions ("Fragestellung: Fraktur?") are not findings an output has to keep.
    stated = [m for m in pair.source.mentions if not pair.source.asks(m)]
    for concept, mentions in _first_per_concept(stated).items():
        if CONCEPTS[concept].kind != "F":
            continue
        important = _important(pair, mentions, affirmed)
        elsewhere = None
        if important:
            # A broader word the source affirms for something else of its own ("Läsion" beside "DD
            # Metastase", "Kolonkarzinom" beside "metastasenverdächtig") does not say this finding.
            affirmed_own = {m.concept for m in pair.source.mentions if not m.negated} - {concept}
            broader_own = {c for c in affirmed_own & implied(concept) if not _restated(pair, important, c)}
            keeping = affirmed - broader_own
            if _said(concept, keeping, findings_only=True):
                elsewhere = _kept_elsewhere_only(pair, important, keeping)
                if elsewhere is None:
                    continue
        elif concept in present or _said(concept, present, findings_only=False):
            continue
        if not elsewhere and pair.same_language and any(_spelled_in(m.word, pair.output) for m in mentions):
            continue
        negative = all(m.negated for m in mentions)
        first = elsewhere or next((m for m in mentions if not m.negated), mentions[0])
        if important:
            severity: Severity | None = "major"
        else:
            severity = pair.rules.omission_negated if negative else pair.rules.omission
            if severity and concept in DEPENDENT and not negative:
                severity = "minor"  # how far a kept finding reaches: shown, the finding itself counts
        if severity:
            message = f"'{first.word}': {'negative ' if negative else ''}finding of the source is missing"
            # Unsure where the output keeps the numbers of the sentence (a finding paraphrased; in
            # a correction only an actionable one, as a correction keeps the words). Minor, for a
            # finding that is not actionable, where the output likely says it in words read as
            # something else: a denial the vocabulary does not match ("No extraprostatic extension"
            # -> "Kein extraprostatisches Wachstum"), or in a translation a finding of its own in the
            # same place ("collapsed" -> "kollabiert").
            confident = not ((important or not pair.rules.verbatim) and _anchored(pair, first))
            if not important and (
                not confident  # a doubt about what is not actionable: shown, not withheld
                or (negative and not pair.rules.verbatim and _unread_denial(pair))
                or (not pair.same_language and _read_otherwise(pair, first))
            ):
                severity = "minor"
            flags.append(
                Flag("omissions", message, severity, (first.start, first.end), None, confident=confident)
            )
    return flags


def _said(concept: str, concepts: set[str], findings_only: bool) -> bool:
    """Whether `concepts` name `concept` in the same, broader or narrower words."""
    broader = set(CONCEPTS[concept].implies)
    if findings_only:
        broader = {c for c in broader if CONCEPTS[c].kind == "F"}
    return concept in concepts or bool(broader & concepts) or any(concept in implied(c) for c in concepts)


def _important(pair: Pair, mentions: list[Mention], affirmed: set[str]) -> list[Mention]:
    """The mentions of an actionable finding, of one a recommendation hangs on, or of one the impression
    states and the output drops with its whole statement, stated as there now (maybe suspected).
    `affirmed`: the findings the output affirms (see `omissions`)."""
    doc = pair.source
    current = [m for m in mentions if doc.level(m) not in ("absent", "historical")]
    if not current:
        return []
    concept = current[0].concept
    if concept in GRADED:
        current = [m for m in current if not _mild(doc, m) or _in_impression(doc, m)]
        if not current:
            return []
    if concept in ACTIONABLE:
        return current
    if concept not in GENERIC and concept not in DEPENDENT:
        # What the radiologist put in the impression matters by that fact (not "suspekt", a hedge, nor
        # how far another finding reaches).
        # Where the output keeps another finding of the impression's sentence it restates that sentence,
        # and a word it lacks is more likely a paraphrase ("cloudy areas ... have become worse") than a
        # dropped finding.
        summed_up = [m for m in current if _in_impression(doc, m) and not _sentence_kept(pair, m, affirmed)]
        if summed_up:
            return summed_up
    if concept in DEPENDENT:
        beside = [m for m in current if _beside(doc, m, DEPENDENT[concept])]
        if beside:
            return beside
    return [m for m in current if RECOMMENDATION[doc.lang].search(doc.lower, *doc.sentence_span(m.start))]


#: A mild grade in the words before a finding in its clause; a higher grade beside it ("mild to moderate")
#: keeps the finding's importance.
_MILD = {
    "de": re.compile(r"\b(?:gering\w*|leicht\w*|diskret\w*|minimal\w*|dezent\w*)\b"),
    "en": re.compile(r"\b(?:mild\w*|minimal\w*|slight\w*|minor|trace)\b"),
}
_HIGHER = re.compile(
    r"\b(?:moderat\w*|mittel\w*|mäßig\w*|severe\w*|schwer\w*|hochgradig\w*|höhergradig\w*|"
    r"ausgeprägt\w*|marked\w*|significant\w*|high-grade|critical\w*|kritisch\w*)"
)
_CLAUSE_START = re.compile(r"[.;:,(\n][^.;:,(\n]*$")


def _mild(doc: Analysis, m: Mention) -> bool:
    """Whether the clause of `m` grades it mild or minimal, and no more, before it names it."""
    start = doc.sentence_span(m.start)[0]
    before = doc.lower[start : m.start]
    opened = _CLAUSE_START.search(before)
    clause = before[opened.start() + 1 :] if opened else before
    return bool(_MILD[doc.lang].search(clause)) and not _HIGHER.search(clause)


def _in_impression(doc: Analysis, m: Mention) -> bool:
    """Whether `m` stands under an impression heading ("Beurteilung:", see `Analysis.heading_kinds`)."""
    return "impression" in doc.heading_kinds.get(doc.segments[m.segment].sentence, ())


def _sentence_kept(pair: Pair, m: Mention, affirmed: set[str]) -> bool:
    """Whether the output affirms (`affirmed`, see `omissions`) another finding of the source sentence
    holding `m`."""
    start, end = pair.source.sentence_span(m.start)
    return any(
        start <= o.start < end
        and o.kind == "F"
        and o.concept != m.concept
        and _said(o.concept, affirmed, findings_only=True)
        for o in pair.source.mentions
    )


def _restated(pair: Pair, important: list[Mention], broader: str) -> bool:
    """Whether the source says a finding again in a broader word, at the same place and level
    ("Splenic laceration …" and "Impression: splenic injury"): the broader word then keeps it. A
    broader word at another level ("Läsion" beside "DD Metastase") is about something else."""
    doc = pair.source
    wanted = {(m.start, m.concept) for m in important}
    own = [s for s in statements(doc) if (s.mention.start, s.concept) in wanted]
    return any(
        b.concept == broader
        and doc.level(b.mention) == doc.level(s.mention)
        and (b.near or s.near)
        and not apart(s, b)
        for b in statements(doc)
        for s in own
    )


def _kept_elsewhere_only(pair: Pair, important: list[Mention], keeping: set[str]) -> Mention | None:
    """An important source mention that the output keeps only for another place: the output's every
    statement of it (or of a broader or narrower finding) is about other sides or organs ("vordere
    Kreuzbandruptur" kept, "Riss des Innenmeniskus" dropped; calcifications kept on the right, the
    suspicious ones on the left dropped). None where each is kept somewhere it may be.

    Only the same or a broader finding counts as kept elsewhere: a narrower one ("liver metastases"
    beside "primary tumour of the colon") may be about something else. Organs tell places apart only
    within one language and outside lay text, where both texts name them in the same words; a side
    always does."""
    concept = important[0].concept
    broader = implied(concept)
    said = [
        o
        for o in statements(pair.output)
        if not o.mention.negated and o.concept in keeping & broader and CONCEPTS[o.concept].kind == "F"
    ]
    own = [o for o in said if not _named_as_other(pair, o.mention)]
    if said and not own:
        return important[0]  # "a lump of stool, called an appendicolith": no word for the nodule
    said = own
    organs = pair.same_language and not pair.rules.lay
    # Where the impression states the finding, its statements are the ones to keep in place; the
    # findings part may add lesser ones elsewhere ("minimal stenosis" of another artery).
    summed_up = [m for m in important if _in_impression(pair.source, m)] or important
    wanted = {(m.start, m.concept) for m in summed_up}
    for s in statements(pair.source):
        if (s.mention.start, s.concept) in wanted and said and all(apart(s, o, organs) for o in said):
            return s.mention
    return None


# A lay description followed by the name of what it describes: "a hardened lump of stool, called an
# appendicolith", "ein Stein (ein sogenannter Kotstein)".
_NAMING = re.compile(
    r"[,(]?\s*(?:called|known\s+as|termed|named|(?:ein\w*\s+)?sogenannte\w*|genannt|auch\s+\w+\s+genannt|\()\s*"
    r"(?:(?:an?|the|eine?[nmrs]?|der|die|das)\s+)?$"
)


def _named_as_other(pair: Pair, m: Mention) -> bool:
    """Whether an output finding the source never names is a lay description of another finding the
    source does name, which the output names right after it ("a small lump of stool, called an
    appendicolith"): it says that finding, not one the vocabulary reads into its words."""
    doc = pair.output
    if m.concept in pair.source.concepts:
        return False
    _, end = doc.sentence_span(m.start)
    for other in doc.mentions:
        if m.end < other.start < end and other.kind == "F" and other.concept in pair.source.concepts:
            return bool(_NAMING.search(doc.lower, m.end, other.start)) and other.concept != m.concept
    return False


def _beside(doc: Analysis, m: Mention, heads: frozenset[str]) -> bool:
    """Whether the sentence of `m` names another finding that implies one of `heads`."""
    start, end = doc.sentence_span(m.start)
    return any(
        start <= o.start < end and o.concept != m.concept and implied(o.concept) & heads
        for o in doc.mentions
        if o.kind == "F"
    )


def _read_otherwise(pair: Pair, m: Mention) -> bool:
    """Translations keep the order of sentences: whether the output's sentence at the place of the
    one holding source mention `m` (or a neighbour) names a finding the source does not, which is
    then likely the same finding read as another concept ("collapsed" -> "kollabiert")."""
    sentence = pair.source.segments[m.segment].sentence
    grounded = closure(pair.source.concepts)
    return any(
        o.kind == "F"
        and o.concept not in grounded
        and abs(pair.output.segments[o.segment].sentence - sentence) <= 1
        for o in pair.output.mentions
    )


def _unread_denial(pair: Pair) -> bool:
    """Whether a negation scope of the output covers no finding the source names: the denial of
    something the vocabulary reads differently in the two texts ("No mass effect" -> "Keine
    Raumforderung") or not at all."""
    grounded = closure(pair.source.concepts)
    doc = pair.output
    starts = [m.start for m in doc.mentions if m.kind == "F" and m.concept in grounded]
    return any(not any(a <= s < b for s in starts) for a, b in doc.negated_ranges if b > a)


def _anchored(pair: Pair, m: Mention) -> bool:
    """Whether the output keeps a number of the sentence that holds `m` (so it likely paraphrased it)."""
    start, end = pair.source.sentence_span(m.start)
    # By value and dimension: "at most 6 mm" is not kept by "in 3 to 6 months".
    kept = {k for q in pair.source.quantities if start <= q.start < end and q.dim != "count" for k in q.keys}
    return bool(kept & {k for q in pair.output.quantities for k in q.keys})
