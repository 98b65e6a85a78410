"""Reading a report once for every check: segments, concept mentions with negation, side words.

A *sentence* ends at `. ; : ! ?` (not after abbreviations such as `li.`, `ca.`, `V.`) or a line break;
a *segment* is a piece of a sentence between commas or contrastive conjunctions ("aber", "but").
Segments are the unit that ties a side word to a finding, and the default scope of a negation.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Literal, TypeVar

from medvault.guard._cues import (
    ASKS,
    CERTAINTY_CUES,
    HEADING_KINDS,
    HOMOPHONES,
    NEG_CUES,
    NEG_SUFFIXES,
    PROCEDURE_SUFFIXES,
    PSEUDO_NEG,
    TELLS,
)
from medvault.guard._lexicon import CONCEPTS, Kind, concept_of, form_pattern
from medvault.guard._quantities import Quantity, extract_quantities
from medvault.guard._scopes import (
    _CLAUSE_END,
    _CONJUNCTION,
    _DICTATED_CUE,
    _JOINED,
    _LIST_END,
    _NEG_PREFIX,
    _NEW_CLAUSE,
    _NEXT_WORDS,
    _NICHT,
    _NO_LONGER_SEEN,
    _NOT_SEEN,
    _NOUN,
    _PARTICLE_END,
    _PLACE_CUE,
    _THAT,
    _VERB_THEN_KEIN,
)
from medvault.guard._sentences import _BOUNDARY, _ends_sentence, _open_bracket
from medvault.guard._sidewords import _DIRECTION_BEFORE, _DIRECTION_WORD, _SIDES, _UNBOUND
from medvault.guard._spelling import Replacement, _apply
from medvault.guard._spine import spinal_levels

Side = Literal["left", "right"]

_SIDE_SETS: dict[str, frozenset[Side]] = {
    "left": frozenset({"left"}),
    "right": frozenset({"right"}),
    "both": frozenset({"left", "right"}),
}

# Negation cues. "forward" scopes run to the end of the segment (and on through a list that ends in
# "oder"/"or"), "backward" ones to its start, "local" ones ("nicht", "not", "non-") cover the next
# word (two after an adverb: "not significantly enlarged"), or the segment before them when the words
# after say "not seen" ("ein Erguss ist nicht nachweisbar").
# "around" ones ("nirgends", "nowhere") cover the segment before them and the next word.
_NEG_CUES = NEG_CUES  # from data/cues.toml
_PSEUDO_NEG = PSEUDO_NEG
# A sentence ending in "?" asks (a clinical question, a lay heading "Is it leaking?"): it states nothing.
_QUESTION = "?"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    sentence: int


@dataclass(frozen=True, slots=True)
class Mention:
    """A concept found in the text; `word` is the whole (lower-case) word it was found in."""

    concept: str
    kind: Kind
    start: int
    end: int
    segment: int
    negated: bool
    word: str


@dataclass(frozen=True, slots=True)
class SideMention:
    sides: frozenset[Side]
    start: int
    end: int
    segment: int
    bound: bool = False  # part of a compound ("Rechtsherzbelastung"): names an organ's side
    direction: bool = False  # "nach rechts", "to the left", "leftward": where something points, not a side


_NORMAL_ID = "normal"  # any concept id the table has: stands in for a form the table does not know
# "Zustand nach BET mit narbiger Architekturstörung", "status post lobectomy with a small effusion": what
# follows "mit"/"with" after a past event is the state now, not history.
_WITH = re.compile(r"\s(?:mit|with)\s")


def _same_length_lower(text: str) -> str:
    """Lower-case without changing offsets (a few characters, such as 'İ', grow when lowered)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class Analysis:
    """Everything the checks read from one text; each part is computed on first use only.

    `replacements` respell words before reading (see `_respell`); every offset the analysis hands out
    refers to the respelled text, and `to_original` maps a span back to the text as given.
    """

    def __init__(self, text: str, lang: str, replacements: list[Replacement] | None = None) -> None:
        self.text = text
        self.lang = lang
        self._origin: list[int] | None = None
        if replacements:
            text, self._origin = _apply(text, replacements)
        self.respelled = text
        self.lower = _same_length_lower(text)
        self.memo: dict[Callable[..., object], object] = {}  # see `per_document`

    def to_original(self, span: tuple[int, int] | None) -> tuple[int, int] | None:
        if span is None or self._origin is None:
            return span
        return self._origin[span[0]], self._origin[span[1]]

    @cached_property
    def segments(self) -> list[Segment]:
        segments: list[Segment] = []
        start, sentence = 0, 0
        opened = 0  # where the current sentence began: a ";" inside its brackets ends a segment only
        for m in _BOUNDARY.finditer(self.lower):
            ends = bool(m.group("sentence"))
            if ends and not _ends_sentence(self.lower, m.start()):
                continue
            if ends and self.lower[m.start()] == ";" and _open_bracket(self.lower, opened, m.start()):
                ends = False
            if self.lower[start : m.start()].strip():
                segments.append(Segment(start, m.start(), sentence))
            start = m.end()
            if ends:
                sentence += 1
                opened = start
        if self.lower[start:].strip():
            segments.append(Segment(start, len(self.lower), sentence))
        return segments

    @cached_property
    def _segment_starts(self) -> list[int]:
        return [s.start for s in self.segments]

    def segment_at(self, offset: int) -> int:
        """Index of the segment holding `offset` (the nearest one before it for boundary characters)."""
        return max(0, bisect_right(self._segment_starts, offset) - 1)

    def sentence_span(self, offset: int) -> tuple[int, int]:
        """Start and end of the sentence holding `offset` (the whole text where it has no segment)."""
        if not self.segments:
            return 0, len(self.lower)
        return self.sentence_spans[self.segments[self.segment_at(offset)].sentence]

    @cached_property
    def negated_ranges(self) -> list[tuple[int, int]]:
        """Character ranges inside the scope of a negation cue."""
        masked = self._masked
        ranges: list[tuple[int, int]] = []
        for cue in self._negation_cues:
            index = self.segment_at(cue.start())
            seg = self.segments[index]
            if cue.group("forward") and _NO_LONGER_SEEN.match(masked, cue.start()):
                ranges.append((seg.start, cue.start()))
            elif cue.group("forward"):
                end = self._list_end(index, masked)
                clause = _NEW_CLAUSE.search(masked, cue.end(), end)
                ranges.append((cue.end(), self._label_start(cue.end(), clause.start() if clause else end)))
                if _PLACE_CUE.search(masked, max(seg.start, cue.start() - 5), cue.start()):
                    ranges.append((seg.start, cue.start()))
            elif cue.group("around"):  # "reichert sich nirgends an", "der Knochen ist nirgends zerstört"
                nxt = _NEXT_WORDS.match(masked, cue.end())
                ranges.append((seg.start, min(seg.end, nxt.end()) if nxt else cue.start()))
            elif cue.group("backward") or _NOT_SEEN.match(masked, cue.end()):
                ranges.append((seg.start, cue.start()))
            elif self.lang == "de" and _PARTICLE_END.match(masked, cue.end(), seg.end):
                # "drückt sie nicht ein" negates the verb; the noun the clause opens with is its
                # subject, which is there ("die frontale Läsion reichert nicht an").
                start = self._clause_start(index, cue.start())
                subject = _NOUN.search(self.respelled, start + 1, cue.start())
                ranges.append((subject.end() if subject else start, cue.start()))
            else:
                nxt = _NEXT_WORDS.match(masked, cue.end())
                if nxt is None or nxt.start() >= seg.end or not masked[cue.end() : seg.end].strip():
                    ranges.append((seg.start, cue.start()))  # "der Urin staut sich nicht."
                else:
                    ranges.append((cue.end(), min(seg.end, nxt.end())))
        return ranges

    @cached_property
    def _negation_cues(self) -> list[re.Match[str]]:
        """The negation cues of the text, read in `_masked` (no pseudo-negation, dictated ones included)."""
        return list(_NEG_CUES[self.lang].finditer(self._masked))

    @cached_property
    def negating_segments(self) -> frozenset[int]:
        """Segments holding a negation cue, whatever its scope ("none on the left", "links nicht
        abgrenzbar"); a pseudo-negation ("links nicht auszuschließen") is none (`_masked`)."""
        return frozenset(self.segment_at(cue.start()) for cue in self._negation_cues)

    def _label_start(self, start: int, end: int) -> int:
        """Where a side label ("left kidney", "linke Niere") that starts a new statement stands between
        `start` and `end`, or `end`. Unpunctuated dictation runs statements together ("right kidney
        simple cyst no hydronephrosis left kidney mild hydronephrosis"): a label not joined to the words
        before it ("in the left kidney", "right or left"), with a finding between the cue and it and
        another after it, ends a negation ("without moderate right foraminal stenosis" does not)."""
        pattern, _ = form_pattern(self.lang)

        def finding_between(a: int, b: int) -> bool:
            found = pattern.finditer(self.lower, a, b)
            return any(CONCEPTS[concept_of(self.lang, m.group()) or _NORMAL_ID].kind == "F" for m in found)

        for side in _SIDES[self.lang].finditer(self.lower, start, end):
            organ = pattern.match(self.lower, side.end() + 1)
            if (
                organ is None
                or not self.lower[side.end() : side.end() + 1].isspace()
                or CONCEPTS[concept_of(self.lang, organ.group()) or _NORMAL_ID].kind != "A"
                or _JOINED.search(self.lower, max(0, side.start() - 12), side.start())
            ):
                continue
            if finding_between(start, side.start()) and finding_between(organ.end(), end):
                return side.start()
        return end

    def _clause_start(self, index: int, before: int) -> int:
        """Where the clause of a cue in segment `index` begins: the segment's start, or the previous
        segment's where only a contrastive conjunction stands before the cue ("drückt sie | aber nicht
        ein": the conjunction split the clause)."""
        seg = self.segments[index]
        previous = self.segments[index - 1] if index else None
        if (
            previous
            and previous.sentence == seg.sentence
            and _CONJUNCTION.fullmatch(self.lower, seg.start, before)
        ):
            return previous.start
        return seg.start

    def _list_end(self, index: int, masked: str) -> int:
        """A forward scope runs through a comma list when the sentence goes on to "or"/"oder", and into
        a following "dass"/"that" clause ("kein Hinweis, dass ...")."""
        seg = self.segments[index]
        end = seg.end
        for later in self.segments[index + 1 :]:
            if later.sentence != seg.sentence:
                break
            if _LIST_END.search(masked, later.start, later.end):
                end = later.end
                break
        following = self.segments[index + 1] if index + 1 < len(self.segments) else None
        if following and following.sentence == seg.sentence and _THAT.match(masked, following.start):
            end = max(end, following.end)
        return end

    @cached_property
    def questions(self) -> frozenset[int]:
        """Sentences that ask rather than state a finding: those ending in a question mark, and those
        under a question heading ("Fragestellung:", see `context`)."""
        asked = {n for n, (_, end) in self.sentence_spans.items() if self.lower.startswith(_QUESTION, end)}
        return frozenset(asked | {n for n, kind in self.context.items() if kind == "question"})

    @cached_property
    def _asking_segments(self) -> frozenset[int]:
        """Segments holding a question cue ("Frage nach Pneumonie", "?pneumonia", "r/o fracture")."""
        return frozenset(self.segment_at(m.start()) for m in ASKS[self.lang].finditer(self.lower))

    @cached_property
    def _telling(self) -> dict[int, list[int]]:
        """Segments -> where a cue saying why the study was made ends in them ("was done because of")."""
        found: dict[int, list[int]] = {}
        for m in TELLS[self.lang].finditer(self.lower):
            found.setdefault(self.segment_at(m.start()), []).append(m.end())
        return found

    def tells(self, m: Mention) -> bool:
        """Whether mention `m` names why the study was made ("done because of your infections"): a
        reason, known before and maybe still there, states no level of its own."""
        return any(end <= m.start for end in self._telling.get(m.segment, ()))

    def asks(self, m: Mention) -> bool:
        """Whether mention `m` stands in a question (see `questions`, `_asking_segments`)."""
        return self.segments[m.segment].sentence in self.questions or m.segment in self._asking_segments

    def is_negated(self, offset: int) -> bool:
        return any(a <= offset < b for a, b in self.negated_ranges)

    @cached_property
    def mentions(self) -> list[Mention]:
        pattern, _ = form_pattern(self.lang)
        found = []
        for m in pattern.finditer(self.lower):
            cid = concept_of(self.lang, m.group())
            if cid is None:
                continue
            kind, start, end = CONCEPTS[cid].kind, m.start(), m.end()
            if kind == "F" and self._suffixed(end, PROCEDURE_SUFFIXES[self.lang]):
                continue  # "Post-lumpectomy scar": a treatment, not a lump
            if _SUSPICION_ABBREVIATION.match(self.lower, start):
                continue  # "V. a." is "Verdacht auf", a hedge (cues.toml), not "V." for a vein
            word_start, word_end = self._word_span(start, end)
            word = self.lower[word_start:word_end]
            # Only a finding has a polarity: its cues, and the affixes of its word, are read for it alone.
            negated = kind == "F" and (
                (self.is_negated(start) or self._verb_negated(word_start, word_end))
                != (self._prefixed(start, word) or self._suffixed(end, NEG_SUFFIXES[self.lang]))
            )
            found.append(Mention(cid, kind, start, end, self.segment_at(start), negated, word))
        return found

    @cached_property
    def _mention_starts(self) -> list[int]:
        """Where each mention starts, in order (for `mentions_between`; see `mention_ends`)."""
        return [m.start for m in self.mentions]

    def mentions_between(self, start: int, end: int) -> list[Mention]:
        """The mentions starting from `start` up to `end`, in order (they never overlap: bisected)."""
        starts = self._mention_starts
        return self.mentions[bisect_left(starts, start) : bisect_left(starts, end)]

    @cached_property
    def mention_ends(self) -> list[int]:
        """Where each mention ends, in order (ascending, as the mentions never overlap)."""
        return [m.end for m in self.mentions]

    def _verb_negated(self, start: int, end: int) -> bool:
        """German: a finding written as a verb (the word from `start` to `end`) before its negated
        subject ("staut sich kein Urin"), or as the verb that ends a clause holding "nicht" ("..., die
        sich nicht tiefer in den Hals ausgebreitet hat"): German puts the negated verb last, however far
        from "nicht"."""
        if self.lang != "de":
            return False
        if not self.respelled[start].islower():
            return False
        if _VERB_THEN_KEIN.match(self.lower, end):
            return True
        seg = self.segments[self.segment_at(start)]
        return bool(_CLAUSE_END.match(self.lower, end, seg.end)) and bool(
            _NICHT.search(self._masked, seg.start, start)
        )

    @cached_property
    def _masked(self) -> str:
        """The lower-case text with pseudo-negations ("nicht nur", "nicht auszuschließen") blanked."""
        masked = _PSEUDO_NEG[self.lang].sub(lambda m: " " * len(m.group()), self.lower)
        return _DICTATED_CUE[self.lang].sub(self._as_cue, masked)

    def _as_cue(self, m: re.Match[str]) -> str:
        """The dictated homophone read as the negation word it stands for, at the same length."""
        lead = m.group()[: m.start("word") - m.start()]
        return lead + HOMOPHONES[self.lang][m.group("word")].ljust(len(m.group("word")))

    def _suffixed(self, end: int, suffixes: tuple[str, ...]) -> bool:
        """Whether the concept ending at `end` has one of `suffixes` as the ending of its word, or of the
        word's part before a hyphen: a negating one ("stein|frei"), a procedure ("lump|ectomy",
        "Thromb|ektomie-Kandidat": a candidate for the procedure, not a finding)."""
        lower = self.lower
        tail = end
        while tail < len(lower) and (lower[tail].isalpha() or lower[tail] == "-"):
            tail += 1
        rest = lower[end:tail]
        if not rest:  # most concepts end their word: only an empty suffix could match
            return "" in suffixes
        parts = {rest, rest.split("-", 1)[0]}
        return any(
            part.endswith(suffix) and len(part) <= len(suffix) + 2 for part in parts for suffix in suffixes
        )

    def _prefixed(self, start: int, word: str) -> bool:
        """Whether the concept at `start` follows a negating prefix of its word ("un|kompliziert")."""
        for prefix in _NEG_PREFIX:
            begin = start - len(prefix)
            if word.startswith(prefix) and self.lower[begin:start] == prefix:
                return begin == 0 or not self.lower[begin - 1].isalpha()
        return False

    def word_span(self, start: int, end: int) -> tuple[int, int]:
        """Start and end of the whole word holding the characters `start` to `end`."""
        return self._word_span(start, end)

    def _word_span(self, start: int, end: int) -> tuple[int, int]:
        while start > 0 and self.lower[start - 1].isalpha():
            start -= 1
        while end < len(self.lower) and self.lower[end].isalpha():
            end += 1
        return start, end

    @cached_property
    def certainty_cues(self) -> list[tuple[int, int, int, str, str]]:
        """Certainty cues as (segment, start, end, level, direction): see data/cues.toml."""
        return [
            (self.segment_at(c.start()), c.start(), c.end(), c.lastgroup or "present", direction)
            for direction, pattern in CERTAINTY_CUES[self.lang].items()
            if direction != "in_word"
            for c in pattern.finditer(self.lower)
        ]

    def level(self, m: Mention) -> str:
        """A finding's assertion level: absent (negated), historical, possible, probable or present.

        A certainty cue counts in the finding's own segment, before it (forward cues) or after it
        (backward cues): "Raumforderung, am ehesten Meningeom" leaves the mass present; never the
        finding's own word ("suspekter Befund").
        """
        if m.negated:
            return "absent"
        if self.context.get(self.segments[m.segment].sentence) == "history":
            return "historical"  # "Indikation: Nachsorge nach BET (invasiv-duktales Karzinom)"
        word_start, word_end = self._word_span(m.start, m.end)
        # The hedge as the tail of the finding's word ("malignom|verdächtig"): it hedges the finding at
        # the word's start, not a concept matched inside the tail ("malignitäts|verdächtig|er" names a
        # suspicion, which is there).
        in_word = CERTAINTY_CUES[self.lang]["in_word"].fullmatch(self.lower, word_start, word_end)
        if in_word and in_word.lastgroup and m.start == word_start and m.end < word_end:
            return in_word.lastgroup
        # A time as the head of the word ("post|thrombotisch", "post-traumatic"): the finding is past.
        head_start = word_start
        while head_start > 1 and self.lower[head_start - 1] == "-" and self.lower[head_start - 2].isalpha():
            head_start = self._word_span(head_start - 2, head_start - 1)[0]
        in_word = CERTAINTY_CUES[self.lang]["in_word"].fullmatch(self.lower, head_start, word_end)
        if in_word and in_word.lastgroup == "historical" and head_start < m.start:
            return "historical"
        found = {
            level
            for segment, start, end, level, direction in self.certainty_cues
            if (
                segment == m.segment
                and (
                    (
                        direction == "forward"
                        and end <= word_start
                        and not (level == "historical" and _WITH.search(self.lower, end, word_start))
                    )
                    or (direction == "backward" and start >= word_end)
                )
            )
            or (
                direction == "backward"
                and segment == m.segment + 1
                and self._appositive(segment, m.segment, end)
            )
        }
        return next((level for level in ("historical", "possible", "probable") if level in found), "present")

    def _appositive(self, segment: int, before: int, cue_end: int) -> bool:
        """Whether `segment` adds a hedge to the segment `before` it: same sentence, no finding of its
        own, and the hedge ends it ("lesion in segment VI, indeterminate"; "ob es ein Bruch ist, ist
        nicht ganz sicher"). A hedge followed by words qualifies those ("obstruction, probably
        adhesive"; "mass, likely a fibroadenoma"), not the finding before it."""
        seg = self.segments[segment]
        return (
            seg.sentence == self.segments[before].sentence
            and segment not in self._finding_segments
            and not WORD.search(self.lower, cue_end, seg.end)
        )

    @cached_property
    def _finding_segments(self) -> frozenset[int]:
        return frozenset(m.segment for m in self.mentions if m.kind == "F")

    @cached_property
    def concepts(self) -> set[str]:
        return {m.concept for m in self.mentions}

    @cached_property
    def side_mentions(self) -> list[SideMention]:
        found = []
        for m in _SIDES[self.lang].finditer(self.lower):
            word, start = m.group(), m.start()
            direction_word = bool(_DIRECTION_WORD.fullmatch(word))
            found.append(
                SideMention(
                    _SIDE_SETS[m.lastgroup or "both"],
                    start,
                    m.end(),
                    self.segment_at(start),
                    bound=self.lang == "de" and not _UNBOUND.fullmatch(word) and not direction_word,
                    direction=direction_word
                    or bool(_DIRECTION_BEFORE.search(self.lower, max(0, start - 12), start)),
                )
            )
        return found

    @cached_property
    def sentence_spans(self) -> dict[int, tuple[int, int]]:
        """Sentences -> their start and end, in text order."""
        spans: dict[int, tuple[int, int]] = {}
        for seg in self.segments:
            spans[seg.sentence] = (spans.get(seg.sentence, (seg.start, 0))[0], seg.end)
        return spans

    @cached_property
    def headings(self) -> dict[int, int]:
        """Sentences under a heading -> the heading's sentence.

        A heading is a short sentence ending in a colon ("Rechts:", "Klinik:", "Beurteilung:"). It speaks
        for the rest of its line and, alone on its line, for the lines below it up to a blank line or
        the next heading.
        """
        under: dict[int, int] = {}
        current: int | None = None
        until = 0
        for sentence, (start, end) in sorted(self.sentence_spans.items()):
            if current is not None and start >= until:
                current = None
            if self.lower.startswith(":", end) and len(WORD.findall(self.lower, start, end)) <= 4:
                current = sentence
                line_end = self.lower.find("\n", end)
                line_end = len(self.lower) if line_end < 0 else line_end
                inline = bool(self.lower[end + 1 : line_end].strip())
                blank = _BLANK_LINE.search(self.lower, end)
                until = line_end if inline else (blank.start() if blank else len(self.lower))
            elif current is not None:
                under[sentence] = current
        return under

    @cached_property
    def heading_sides(self) -> dict[int, SideMention]:
        """Sentences under a side heading ("Rechts:", "Right breast:") -> the heading's side word: a
        heading (see `headings`) with a side word and no finding."""
        sides = [sm for sm in self.side_mentions if not sm.direction and not sm.bound]
        findings = {self.segments[m.segment].sentence for m in self.mentions if m.kind == "F"}
        own: dict[int, SideMention] = {}
        for heading in set(self.headings.values()) - findings:
            start, end = self.sentence_spans[heading]
            own.update((heading, sm) for sm in sides[::-1] if start <= sm.start < end)
        return {sentence: own[heading] for sentence, heading in self.headings.items() if heading in own}

    @cached_property
    def heading_kinds(self) -> dict[int, tuple[str, ...]]:
        """Sentences under a heading -> what its words say it introduces, in the order of
        `HEADING_KINDS` (data/cues.toml `context`): "question", "history" (see `context`) or "impression"
        ("Beurteilung:"). One heading may say two ("Clinical summary:")."""
        kinds: dict[int, tuple[str, ...]] = {}
        for heading in set(self.headings.values()):
            start, end = self.sentence_spans[heading]
            found = tuple(
                k for k, pattern in HEADING_KINDS[self.lang].items() if pattern.search(self.lower, start, end)
            )
            if found:
                kinds[heading] = found
        return {sentence: kinds[heading] for sentence, heading in self.headings.items() if heading in kinds}

    @cached_property
    def context(self) -> dict[int, str]:
        """Sentences of the clinical context -> "history" or "question": those under a heading such as
        "Klinik:", "Indikation:" (history) or "Fragestellung:" (question). They tell why the study was
        made, not what it found: history is `historical` (`level`), a question states nothing (`asks`).
        A heading saying both ("Klinik/Fragestellung:") asks: "question" comes first, "impression" last."""
        return {n: kinds[0] for n, kinds in self.heading_kinds.items() if kinds[0] != "impression"}

    @cached_property
    def spine_levels(self) -> dict[int, frozenset[str]]:
        """Sentences -> the spinal levels they name ("l5", "l4/l5"), or failing that their heading's
        ("LWK 5/SWK 1:" over "Extrusion mit Kompression der Wurzel"): a level tells two statements
        about one finding apart as a side does."""
        own: dict[int, set[str]] = {}
        for start, level in spinal_levels(self.lower):
            sentence = self.segments[self.segment_at(start)].sentence if self.segments else 0
            own.setdefault(sentence, set()).add(level)
        levels = {n: frozenset(found) for n, found in own.items()}
        for sentence, heading in self.headings.items():
            if sentence not in levels and heading in levels:
                levels[sentence] = levels[heading]
        return levels

    @cached_property
    def quantities(self) -> list[Quantity]:
        return extract_quantities(self.respelled, self.lang)

    @cached_property
    def words(self) -> list[re.Match[str]]:
        return list(WORD.finditer(self.lower))

    @cached_property
    def word_set(self) -> frozenset[str]:
        return frozenset(m.group() for m in self.words)


#: "V. a." / "V.a." (Verdacht auf): the German hedge, whose "V." the vein's abbreviation would take.
_SUSPICION_ABBREVIATION = re.compile(r"v\.\s?a\.")


_T = TypeVar("_T")


def per_document(read: Callable[[Analysis], _T]) -> Callable[[Analysis], _T]:
    """`read(doc)` computed once per document and kept on it, so it lives and dies with the check that
    made it: a module-level cache would keep the last reports' text alive in a gateway worker."""

    @wraps(read)
    def cached(doc: Analysis) -> _T:
        try:
            return doc.memo[read]  # type: ignore[return-value]
        except KeyError:
            value = doc.memo[read] = read(doc)
            return value

    return cached
