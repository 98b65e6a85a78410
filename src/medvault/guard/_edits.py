"""Edit budget: a correction fixes spelling, punctuation and grammar; it does not rewrite the report.

Words are aligned with difflib. A replaced word that differs only in spelling (umlauts, one or two
typos, case) is a correction and costs nothing; every other inserted, deleted or replaced word counts.
The share of changed words against the source's word count is compared with two limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from medvault.guard._context import Pair
from medvault.guard._model import Flag, Severity, Span
from medvault.guard._text import similar


@dataclass(frozen=True, slots=True)
class EditBudget:
    """Flag a correction that changed more than `minor` (minor flag) or `major` (major flag) of its words."""

    minor: float = 0.15
    major: float = 0.30
    min_words: int = 5  # below this many changed words a short text is never over budget

    def __call__(self, pair: Pair) -> list[Flag]:
        src, out = pair.source.words, pair.output.words
        a, b = [m.group() for m in src], [m.group() for m in out]
        changed = 0
        biggest: tuple[int, Span | None, Span | None] = (0, None, None)
        for op, i1, i2, j1, j2 in pair.word_opcodes:
            if op == "equal":
                continue
            cost = max(i2 - i1, j2 - j1)
            if op == "replace":
                cost -= sum(similar(x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=False))
            changed += cost
            if cost > biggest[0]:
                src_span = (src[i1].start(), src[i2 - 1].end()) if i2 > i1 else None
                out_span = (out[j1].start(), out[j2 - 1].end()) if j2 > j1 else None
                biggest = (cost, src_span, out_span)
        share = changed / max(1, len(a))
        if share <= self.minor or changed < self.min_words:
            return []
        severity: Severity = "major" if share > self.major else "minor"
        limit = self.major if severity == "major" else self.minor
        message = f"the correction changed {share:.0%} of the words (limit {limit:.0%})"
        return [Flag("edit_budget", message, severity, biggest[1], biggest[2])]
