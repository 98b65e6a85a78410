"""A word-level diff of a model's output against its source text, with character spans on both sides.

The spans let the page highlight exactly the words a guard flag points at (flags carry character
offsets into the source and the output).

difflib's matcher is near-cubic on repetitive text (thousands of "x x x ..." words take minutes), so
the diff runs under a work budget: the exact matcher first (what every report of ordinary size gets),
then the matcher that ignores very frequent words, and no diff at all when both would cost too much.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from typing import Any, Literal

_WORD = re.compile(r"\S+")
# Candidate word pairs the matcher may examine (about 50 ns each): well over what a real report needs,
# well under a second of CPU.
BUDGET = 5_000_000

Op = Literal["equal", "delete", "insert"]


class _OverBudget(Exception):
    """The matcher would examine more candidate pairs than the budget allows."""


class _BudgetedMatcher(difflib.SequenceMatcher[str]):
    """difflib's matcher, unchanged in its result, that gives up once its work passes `budget`.

    Each `find_longest_match` call walks, for every word of `a` in its range, that word's positions
    in `b`: a prefix sum of those counts bounds the call's work before it starts.
    """

    def __init__(self, a: list[str], b: list[str], autojunk: bool, budget: int) -> None:
        super().__init__(None, a, b, autojunk=autojunk)
        self._left = budget
        self._length = len(a)
        positions: dict[str, list[int]] = self.b2j  # type: ignore[attr-defined]  # set by set_seq2
        self._work = list(itertools.accumulate((len(positions.get(w, ())) for w in a), initial=0))

    def find_longest_match(
        self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None
    ) -> difflib.Match:
        end = self._length if ahi is None else ahi
        self._left -= self._work[end] - self._work[alo] + (end - alo)
        if self._left < 0:
            raise _OverBudget
        return super().find_longest_match(alo, ahi, blo, bhi)


def _segment(op: Op, text: str, spans: list[tuple[int, int]], side: str) -> dict[str, Any]:
    start, end = spans[0][0], spans[-1][1]
    return {
        "op": op,
        "text": text[start:end],
        "source_span": [start, end] if side == "source" else None,
        "output_span": [start, end] if side == "output" else None,
    }


def _opcodes(a: list[str], b: list[str], budget: int) -> Sequence[tuple[str, int, int, int, int]] | None:
    """The exact matcher's opcodes, else those ignoring frequent words, else None (both over budget)."""
    for autojunk in (False, True):
        try:
            return _BudgetedMatcher(a, b, autojunk, budget).get_opcodes()
        except _OverBudget:
            continue
    return None


def word_diff(source: str, output: str, budget: int = BUDGET) -> list[dict[str, Any]] | None:
    """Segments in reading order: `equal` (output side), `delete` (source only), `insert` (output only);
    None when the texts are too large and repetitive to diff within `budget`.

    A replaced run of words appears as its deletion followed by its insertion.
    """
    src = [(m.start(), m.end()) for m in _WORD.finditer(source)]
    out = [(m.start(), m.end()) for m in _WORD.finditer(output)]
    opcodes = _opcodes([source[s:e] for s, e in src], [output[s:e] for s, e in out], budget)
    if opcodes is None:
        return None
    segments: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            equal = _segment("equal", output, out[j1:j2], "output")
            equal["source_span"] = [src[i1][0], src[i2 - 1][1]]
            segments.append(equal)
            continue
        if i2 > i1:
            segments.append(_segment("delete", source, src[i1:i2], "source"))
        if j2 > j1:
            segments.append(_segment("insert", output, out[j1:j2], "output"))
    return segments
