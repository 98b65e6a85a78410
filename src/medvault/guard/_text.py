"""Reading a report once for every check: segments, concept mentions with negation, side words.

A *sentence* ends at `. ; : ! ?` (not after abbreviations such as `li.`, `ca.`, `V.`) or a line break;
a *segment* is a piece of a sentence between commas or contrastive conjunctions ("aber", "but").
Segments are the unit that ties a side word to a finding, and the default scope of a negation.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from medvault.guard._cues import CERTAINTY_CUES, NEG_CUES, NEG_SUFFIXES, PSEUDO_NEG
from medvault.guard._lexicon import CONCEPTS, Kind, concept_of, form_pattern
from medvault.guard._quantities import Quantity, extract_quantities

Side = Literal["left", "right"]

_LETTER = r"[^\W\d_]"
_BOUNDARY = re.compile(
    r"(?P<sentence>[.!?;:](?=\s|$)|\n)"
    r"|(?P<segment>,(?=\s)|\s(?=(?:aber|jedoch|allerdings|sondern|während|but|however|whereas|while)\b))",
    re.IGNORECASE,
)
# A dot after one of these (or after a single letter, or inside "a.p.") does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"ca", "bzw", "vs", "li", "re", "bds", "ggf", "evtl", "max", "min", "mind", "zn", "va", "dd", "st"}
    | {"approx", "incl", "etc", "eg", "ie", "dr", "prof", "nr"}
)

_SIDES = {
    "de": re.compile(
        rf"(?<!{_LETTER})(?:(?P<left>links\w*|linke[nmrs]?|li\.)|(?P<right>rechts\w*|rechte[nmrs]?|re\.)"
        rf"|(?P<both>beid\w*seit\w*|bds\.|bilateral\w*|beide[nrs]?(?!\w)))(?!{_LETTER})",
    ),
    "en": re.compile(
        rf"(?<!{_LETTER})(?:(?P<left>left\w*|lt\.)|(?P<right>right\w*|rt\.)"
        r"|(?P<both>bilateral\w*|both|either(?=\s+(?:side|hemi))))"
        rf"(?!{_LETTER})",
    ),
}
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
_THAT = re.compile(r"\s*(?:dass|ob|that|whether)\b")
_LIST_END = re.compile(r"\b(?:oder|noch|bzw|or|nor)\b")
# The verb of a clause that says a finding is not seen: the negation then looks back over the clause
# ("X was not seen", "X lässt sich nicht nachweisen", "X ist nicht mehr abgrenzbar").
_SEEN = (
    r"(?:nachweisbar|abgrenzbar|erkennbar|sichtbar|vorhanden|darstellbar|nachzuweisen|nachweisen|"
    r"nachgewiesen|abzugrenzen|abgrenzen|abgegrenzt|erkennen|erkannt|darstellen|dargestellt|sehen|"
    r"gesehen|feststellbar|festgestellt|zu sehen|gefunden|zu finden|finden|beschrieben|seen|identified|"
    r"present|visuali[sz]ed|visible|apparent|appreciated|depicted|shown|demonstrable|detectable|"
    r"demonstrated|detected|evident|found|noted|observed)\b"
)
_NOT_SEEN = re.compile(rf"\s*(?:\w+\s+)?{_SEEN}")
# "no longer visible": a forward cue whose clause is the verb of seeing looks back instead
# ("the previously seen pneumothorax is no longer visible").
_NO_LONGER_SEEN = re.compile(rf"no\s+longer\s+(?:be\s+)?(?:\w+ly\s+)?{_SEEN}")
# A sentence ending in "?" asks (a clinical question, a lay heading "Is it leaking?"): it states nothing.
_QUESTION = "?"
# The word(s) a local "nicht"/"not" negates: the next word, two after an adverb, and across a
# preposition and article ("nicht nach einem Tumor", "not a tumour", "not in keeping with").
_NEXT_WORDS = re.compile(
    r"\s*(?:(?:\w+ly|wesentlich|sicher|signifikant|mehr|ganz|eindeutig)\s+)?"
    r"(?:(?:nach|für|auf|wie|um|like|of|for)\s+)?"
    r"(?:(?:eine?[mnrs]?|der|die|das|den|dem|des|a|an|the)\s+)?[\w-]+"
)
# German word order puts a clause's negated subject or object after its verb: "In den Nieren staut
# sich kein Urin", "berührt keinen Nerv": a finding written as a verb (lower case) before "(sich/es)
# kein..." is negated.
_VERB_THEN_KEIN = re.compile(r"\s+(?:(?:sich|es)\s+)?kein")
# The end of a German clause after its main verb: auxiliaries only ("ausgebreitet hat.").
_CLAUSE_END = re.compile(r"(?:\s+(?:hat|haben|ist|sind|war|waren|wird|werden|wurde|wurden|worden|sein))*\W*$")
_NICHT = re.compile(r"\bnicht\b")
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


# A side word that names a direction ("Mittellinienverlagerung nach rechts", "shift to the left").
_DIRECTION_BEFORE = re.compile(r"(?:\bnach|\bto\s+the|\btowards?\s+the)\s+$")
_DIRECTION_WORD = re.compile(r"(?:links|rechts)wärts|(?:left|right)wards?")
# A finding word that starts with a negating prefix ("unkompliziert", "uncomplicated", "nonobstructing").
_NEG_PREFIX = ("un", "non")
# "kein Erguss, und es besteht ...": a new clause after "und"/"and" ends a forward negation scope
# ("no X and Y" still negates both, as radiology reads it).
_NEW_CLAUSE = re.compile(r"\s(?:und|and)\s+(?:there\s+(?:is|are)|it\s+is|es\s+(?:gibt|ist|besteht|zeigt))\b")

_UNBOUND = re.compile(
    r"(?:links|rechts)(?:seitig\w*|betont\w*)?|linke[nmrs]?|rechte[nmrs]?|li\.|re\.|beid\w*|bds\.|bilateral\w*"
)


def _same_length_lower(text: str) -> str:
    """Lower-case without changing offsets (a few characters, such as 'İ', grow when lowered)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _apply(text: str, replacements: list[Replacement]) -> tuple[str, list[int]]:
    """The respelled text, and for each of its offsets (and its end) the offset in `text`."""
    parts: list[str] = []
    origin: list[int] = []
    pos = 0
    for start, end, new in sorted(replacements):
        parts.append(text[pos:start])
        origin.extend(range(pos, start))
        parts.append(new)
        origin.extend(min(start + i, end - 1) for i in range(len(new)))
        pos = end
    parts.append(text[pos:])
    origin.extend(range(pos, len(text) + 1))
    return "".join(parts), origin


def _open_bracket(text: str, start: int, end: int) -> bool:
    return text.count("(", start, end) > text.count(")", start, end)


def _ends_sentence(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return True
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot]
    if any(c.isdigit() for c in word):
        return True  # "RV/LV 1,1. Kleiner ...": a number ends a sentence more often than it is an ordinal
    return not ((len(word) == 1 and word.isalpha()) or "." in word or word.lower() in _ABBREVIATIONS)


Replacement = tuple[int, int, str]  # (start, end, new spelling) in the original text


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
        """Start and end of the sentence holding `offset`."""
        sentence = self.segments[self.segment_at(offset)].sentence if self.segments else 0
        parts = [s for s in self.segments if s.sentence == sentence] or [Segment(0, len(self.lower), 0)]
        return parts[0].start, parts[-1].end

    @cached_property
    def negated_ranges(self) -> list[tuple[int, int]]:
        """Character ranges inside the scope of a negation cue."""
        masked = self._masked
        ranges: list[tuple[int, int]] = []
        for cue in _NEG_CUES[self.lang].finditer(masked):
            index = self.segment_at(cue.start())
            seg = self.segments[index]
            if cue.group("forward") and _NO_LONGER_SEEN.match(masked, cue.start()):
                ranges.append((seg.start, cue.start()))
            elif cue.group("forward"):
                end = self._list_end(index, masked)
                clause = _NEW_CLAUSE.search(masked, cue.end(), end)
                ranges.append((cue.end(), clause.start() if clause else end))
            elif cue.group("around"):  # "reichert sich nirgends an", "der Knochen ist nirgends zerstört"
                nxt = _NEXT_WORDS.match(masked, cue.end())
                ranges.append((seg.start, min(seg.end, nxt.end()) if nxt else cue.start()))
            elif cue.group("backward") or _NOT_SEEN.match(masked, cue.end()):
                ranges.append((seg.start, cue.start()))
            else:
                nxt = _NEXT_WORDS.match(masked, cue.end())
                if nxt is None or nxt.start() >= seg.end or not masked[cue.end() : seg.end].strip():
                    ranges.append((seg.start, cue.start()))  # "der Urin staut sich nicht."
                else:
                    ranges.append((cue.end(), min(seg.end, nxt.end())))
        return ranges

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
        """Sentences that end in a question mark: they ask, they do not state a finding."""
        last: dict[int, Segment] = {}
        for seg in self.segments:
            last[seg.sentence] = seg
        return frozenset(n for n, seg in last.items() if self.lower.startswith(_QUESTION, seg.end))

    def asks(self, m: Mention) -> bool:
        """Whether mention `m` stands in a question (see `questions`)."""
        return self.segments[m.segment].sentence in self.questions

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
            kind = CONCEPTS[cid].kind
            word = self._word_around(m.start(), m.end())
            affixed = self._prefixed(m.start(), word) or self._suffixed(m.end())
            negated = kind == "F" and ((self.is_negated(m.start()) or self._verb_negated(m)) != affixed)
            found.append(Mention(cid, kind, m.start(), m.end(), self.segment_at(m.start()), negated, word))
        return found

    def _verb_negated(self, m: re.Match[str]) -> bool:
        """German: a finding written as a verb before its negated subject ("staut sich kein Urin"), or
        as the verb that ends a clause holding "nicht" ("..., die sich nicht tiefer in den Hals
        ausgebreitet hat"): German puts the negated verb last, however far from "nicht"."""
        if self.lang != "de":
            return False
        start, end = self._word_span(m.start(), m.end())
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
        return _PSEUDO_NEG[self.lang].sub(lambda m: " " * len(m.group()), self.lower)

    def _suffixed(self, end: int) -> bool:
        """Whether the concept ending at `end` has a negating ending in its compound ("stein|frei")."""
        tail = end
        while tail < len(self.lower) and (self.lower[tail].isalpha() or self.lower[tail] == "-"):
            tail += 1
        rest = self.lower[end:tail]
        return any(
            rest.endswith(suffix) and len(rest) <= len(suffix) + 2 for suffix in NEG_SUFFIXES[self.lang]
        )

    def _prefixed(self, start: int, word: str) -> bool:
        """Whether the concept at `start` follows a negating prefix of its word ("un|kompliziert")."""
        for prefix in _NEG_PREFIX:
            begin = start - len(prefix)
            if word.startswith(prefix) and self.lower[begin:start] == prefix:
                return begin == 0 or not self.lower[begin - 1].isalpha()
        return False

    def _word_around(self, start: int, end: int) -> str:
        start, end = self._word_span(start, end)
        return self.lower[start:end]

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
                    (direction == "forward" and end <= word_start)
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
        return [
            SideMention(
                _SIDE_SETS[m.lastgroup or "both"],
                m.start(),
                m.end(),
                self.segment_at(m.start()),
                bound=self.lang == "de"
                and not _UNBOUND.fullmatch(m.group())
                and not _DIRECTION_WORD.fullmatch(m.group()),
                direction=bool(
                    _DIRECTION_WORD.fullmatch(m.group())
                    or _DIRECTION_BEFORE.search(self.lower, max(0, m.start() - 12), m.start())
                ),
            )
            for m in _SIDES[self.lang].finditer(self.lower)
        ]

    @cached_property
    def heading_sides(self) -> dict[int, SideMention]:
        """Sentences under a side heading ("Rechts:", "Right breast:") -> the heading's side word.

        A heading is a short sentence ending in a colon, with a side word and no finding. It speaks for
        the rest of its line and, alone on its line, for the lines below it up to a blank line or the
        next heading ("Beurteilung:" ends it too).
        """
        by_sentence: dict[int, list[Segment]] = defaultdict(list)
        for seg in self.segments:
            by_sentence[seg.sentence].append(seg)
        sides = [sm for sm in self.side_mentions if not sm.direction and not sm.bound]
        findings = {self.segments[m.segment].sentence for m in self.mentions if m.kind == "F"}
        inherited: dict[int, SideMention] = {}
        current: SideMention | None = None
        until = 0
        for sentence, parts in sorted(by_sentence.items()):
            start, end = parts[0].start, parts[-1].end
            if current and start >= until:
                current = None
            if self.lower.startswith(":", end) and len(WORD.findall(self.lower, start, end)) <= 4:
                own = [sm for sm in sides if start <= sm.start < end]
                current = own[0] if own and sentence not in findings else None
                line_end = self.lower.find("\n", end)
                line_end = len(self.lower) if line_end < 0 else line_end
                inline = bool(self.lower[end + 1 : line_end].strip())
                blank = _BLANK_LINE.search(self.lower, end)
                until = line_end if inline else (blank.start() if blank else len(self.lower))
            elif current:
                inherited[sentence] = current
        return inherited

    @cached_property
    def quantities(self) -> list[Quantity]:
        return extract_quantities(self.respelled, self.lang)

    @cached_property
    def words(self) -> list[re.Match[str]]:
        return list(WORD.finditer(self.lower))

    @cached_property
    def word_set(self) -> frozenset[str]:
        return frozenset(m.group() for m in self.words)


def recognised(word: str, lang: str) -> int:
    """How much of the guard's vocabulary (concepts, side words, negation cues) a word contains."""
    lower = word.lower()
    return (
        len(form_pattern(lang)[0].findall(lower))
        + bool(_SIDES[lang].fullmatch(lower))
        + bool(_NEG_CUES[lang].fullmatch(lower))
    )


_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def similar(a: str, b: str) -> bool:
    """Whether two lower-case words differ by spelling only (umlaut folding, one or two typos)."""
    a, b = a.translate(_FOLD), b.translate(_FOLD)
    if a == b:
        return True
    longest = max(len(a), len(b))
    if min(len(a), len(b)) < 4:
        return False
    return _distance(a, b, limit=1 if longest <= 6 else 2) is not None


def _distance(a: str, b: str, limit: int) -> int | None:
    """Optimal-string-alignment distance between a and b, or None when it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return None
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return None
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else None
