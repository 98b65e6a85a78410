"""Numbers and units: every measurement, count, date and time of the source must survive unchanged.

Quantities are compared by dimension and value in a base unit, so `1,5 cm` in the source and `15 mm`
in the output match, and so do `14.03.2024` and `14/03/2024`. A number without a unit matches the same
number with one (a paraphrase may drop "mm" after a range). Whatever is left over is paired up to say
what happened: the same number with another unit ("unit changed"), or another number of the same
dimension ("5 mm -> 50 mm, ×10"); the rest is new in the output or missing from it.
"""

from __future__ import annotations

import re

from medvault.guard._context import Pair
from medvault.guard._model import Flag
from medvault.guard._quantities import Quantity
from medvault.guard._text import Analysis


def _match(src: list[Quantity], out: list[Quantity], counts: bool) -> tuple[list[Quantity], list[Quantity]]:
    """Pair equal quantities; return what is left of the source and of the output.

    With `counts`, each source quantity may answer for one output quantity only (a correction must keep
    every occurrence); otherwise values are compared as sets (a simplification may repeat or merge).
    """
    used: set[int] = set()
    left_out: list[Quantity] = []
    for strict in (True, False):
        pending, left_out = left_out if not strict else out, []
        for q in pending:
            hit = next(
                (i for i, p in enumerate(src) if (not counts or i not in used) and _same(p, q, strict)), None
            )
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


def _scale_explained(doc: Analysis, q: Quantity) -> bool:
    """Whether `q` is an end of a scale that its sentence explains (lay text)."""
    start, end = doc.sentence_span(q.start)
    return any(m.start() <= q.start < m.end() for m in _SCALE_ENDS.finditer(doc.lower, start, end)) and bool(
        _SCALE_WORD.search(doc.lower, start, end)
    )


def numbers(pair: Pair) -> list[Flag]:
    """Flag measurements, counts, dates and times that changed, appeared or disappeared."""
    src_all, out_all = pair.source.quantities, pair.output.quantities
    missing, new = _match(src_all, out_all, pair.rules.number_counts)
    new = [q for q in new if not q.soft and not (pair.rules.lay and _scale_explained(pair.output, q))]
    missing = [p for p in missing if not p.soft]
    if not pair.rules.number_counts:  # a value counts as kept when it occurs anywhere in the output
        missing = [
            p for p in missing if not any(_same(p, q, strict) for q in out_all for strict in (True, False))
        ]
    flags = []
    src_len, out_len = max(1, len(pair.source.text)), max(1, len(pair.output.text))
    for q in new:
        # The counterpart is the same number in another unit, else the nearest one of the same dimension.
        candidates = [p for p in missing if p.value == q.value and p.unit != q.unit] or [
            p for p in missing if p.dim == q.dim or "count" in (p.dim, q.dim)
        ]
        if candidates:
            p = min(candidates, key=lambda p: abs(p.start / src_len - q.start / out_len))
            missing.remove(p)
            code = "unit_changed" if _unit_only(p, q) else "number_changed"
            span = (q.start, q.end)
            flags.append(Flag("numbers", _change(p, q), "major", (p.start, p.end), span, code))
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
