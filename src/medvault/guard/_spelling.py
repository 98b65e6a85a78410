"""Spelling alone: whether two words differ by spelling only, and a text with words respelled."""

from __future__ import annotations

from functools import lru_cache

Replacement = tuple[int, int, str]  # (start, end, new spelling) in the original text


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


_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@lru_cache(maxsize=65536)
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
