"""Edit budget: a correction fixes spelling, punctuation and grammar; it does not rewrite the report.

Typo fixes must keep the meaning: a dictated word is read as the side, direction or negation word it is
spelled nearest to (data/cues.toml, `meaning`), and a "correction" into another of those classes
("laterall" -> "medial", "Kine" -> "Eine") is a major flag even when the budget holds.

Words are aligned with difflib. A replaced word that differs only in spelling (umlauts, one or two
typos, case) is a correction and costs nothing; every other inserted, deleted or replaced word counts.
The share of changed words against the source's word count is compared with two limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from medvault.guard._context import Pair
from medvault.guard._cues import DICTATION, MEANING, MEANING_PREFIX
from medvault.guard._model import Flag, Severity, Span
from medvault.guard._quantities import spelled_number
from medvault.guard._spelling import _distance, similar


@dataclass(frozen=True, slots=True)
class EditBudget:
    """Flag a correction that changed more than `minor` (minor flag) or `major` (major flag) of its words."""

    minor: float = 0.15
    major: float = 0.30
    min_words: int = 5  # below this many changed words a short text is never over budget

    def __call__(self, pair: Pair) -> list[Flag]:
        src, out = pair.source.words, pair.output.words
        a, b = [m.group() for m in src], [m.group() for m in out]
        spoken = DICTATION[pair.source.lang]
        changed = 0
        biggest: tuple[int, Span | None, Span | None] = (0, None, None)
        for op, i1, i2, j1, j2 in pair.word_opcodes:
            if op == "equal":
                continue
            # "Punkt" written as "." is no change, nor is "twenty twenty one" written as "2021": the
            # numbers check compares their values.
            dictated = [x for x in a[i1:i2] if x not in spoken and not _number_word(x)]
            written = [y for y in b[j1:j2] if not y.isdigit()]
            cost = max(len(dictated), len(written))
            if op == "replace":
                cost -= sum(similar(x, y) for x, y in zip(dictated, written, strict=False))
            changed += cost
            if cost > biggest[0]:
                src_span = (src[i1].start(), src[i2 - 1].end()) if i2 > i1 else None
                out_span = (out[j1].start(), out[j2 - 1].end()) if j2 > j1 else None
                biggest = (cost, src_span, out_span)
        flags = list(_meaning_changes(pair))
        share = changed / max(1, sum(x not in spoken for x in a))
        if share <= self.minor or changed < self.min_words:
            return flags
        severity: Severity = "major" if share > self.major else "minor"
        limit = self.major if severity == "major" else self.minor
        message = f"the correction changed {share:.0%} of the words (limit {limit:.0%})"
        return [*flags, Flag("edit_budget", message, severity, biggest[1], biggest[2])]


#: Dictated words at least this long are read as the class word they are at most two edits from
#: ("mitial" is "medial"), even where `similar` allows one edit only: the nearest plausible reading.
NEAREST_MIN_LENGTH = 5


def _number_word(word: str) -> bool:
    return spelled_number(word) is not None


@lru_cache(maxsize=4096)
def _near(word: str, lang: str) -> dict[str, int]:
    """The meaning classes whose words `word` is a misspelling of, with the smallest distance."""
    near: dict[str, int] = {}
    for known, cls in MEANING[lang].items():
        if abs(len(known) - len(word)) <= 2 and (similar(word, known) or len(word) >= NEAREST_MIN_LENGTH):
            d = _distance(word, known, 2)
            if d is not None:
                near[cls] = min(d, near.get(cls, d))
    return near


@lru_cache(maxsize=4096)
def _reading(word: str, lang: str, chosen: str) -> str | None:
    """The meaning class of a dictated word: its own; else that of a class word it is spelled nearer to
    than to the word the correction `chosen` (on a tie, negation wins: dropping it is the danger);
    else the chosen word's class, when that is a plausible fix at all."""
    classes = MEANING[lang]
    if word in classes:
        return classes[word]
    if chosen.startswith(word) or word.startswith(chosen):
        return classes.get(chosen)  # another ending of the same word ("kleine" -> "kleines")
    limit = _distance(word, chosen, 2) if similar(word, chosen) else None
    near = _near(word, lang)
    closest = min(near.values(), default=0)  # the nearest reading only: "dostalen" is distal, not dorsal
    nearer = {
        cls
        for cls, d in near.items()
        if d == closest
        and cls != classes.get(chosen)
        and (limit is None or d < limit or (d == limit and cls == "negation"))
    }
    if nearer:
        return nearer.pop() if len(nearer) == 1 else None
    return classes.get(chosen) if limit is not None else None


def _split(word: str, lang: str) -> tuple[str, str] | None:
    """(meaning class, rest) of a compound that starts with a side or direction ("innen|knöchel")."""
    for prefix, cls in MEANING_PREFIX[lang]:
        if word.startswith(prefix) and len(word) >= len(prefix) + 4:
            return cls, word[len(prefix) :]
    return None


def _swapped_prefix(x: str, y: str, lang: str) -> tuple[str, str] | None:
    """The two classes when `y` swaps the side or direction part of compound `x` and keeps the rest."""
    a, b = _split(x, lang), _split(y, lang)
    if a and b and a[0] != b[0] and similar(a[1], b[1]):
        return a[0], b[0]
    return None


def _meaning_changes(pair: Pair) -> Iterator[Flag]:
    """Replaced words whose reading (side, direction, negation) differs from the word put in their place."""
    if not pair.same_language:
        return
    lang = pair.source.lang
    src, out = pair.source.words, pair.output.words
    for op, i1, i2, j1, j2 in pair.word_opcodes:
        if op == "delete" or op == "insert" or i2 - i1 != j2 - j1:
            continue  # a rewrite, not a word-for-word fix: the budget speaks about it
        for a, b in zip(src[i1:i2], out[j1:j2], strict=True):
            # The dictated word as given: respelling (see _respell) may already have put the output's
            # spelling in its place.
            span = pair.source.to_original(a.span()) or a.span()
            x, y = pair.source.text[span[0] : span[1]].lower(), b.group()
            if x == y:
                continue
            swapped = _swapped_prefix(x, y, lang)
            if swapped:
                message = f"correction changed the meaning: '{x}' ({swapped[0]}) -> '{y}' ({swapped[1]})"
                yield Flag("edit_budget", message, "major", a.span(), b.span(), "correction_changed_meaning")
                continue
            # The output is the corrected text: its words mean what they say, no nearest reading.
            before, after = _reading(x, lang, y), MEANING[lang].get(y)
            fixed_typo = similar(x, y) or (
                x not in MEANING[lang] and before is not None and after is not None
            )
            # The output misspells the same word ("proximal" -> "proxiimal"): no change of meaning.
            kept = x in MEANING[lang] and before in _near(y, lang)
            if fixed_typo and before != after and not kept:
                message = f"correction changed the meaning: '{x}' ({before}) -> '{y}' ({after})"
                yield Flag("edit_budget", message, "major", a.span(), b.span(), "correction_changed_meaning")
