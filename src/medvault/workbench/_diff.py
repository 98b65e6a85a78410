"""A word-level diff of a model's output against its source text, with character spans on both sides.

The spans let the page highlight exactly the words a guard flag points at (flags carry character
offsets into the source and the output).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

_WORD = re.compile(r"\S+")

Op = Literal["equal", "delete", "insert"]


def _segment(op: Op, text: str, spans: list[tuple[int, int]], side: str) -> dict[str, Any]:
    start, end = spans[0][0], spans[-1][1]
    return {
        "op": op,
        "text": text[start:end],
        "source_span": [start, end] if side == "source" else None,
        "output_span": [start, end] if side == "output" else None,
    }


def word_diff(source: str, output: str) -> list[dict[str, Any]]:
    """Segments in reading order: `equal` (output side), `delete` (source only), `insert` (output only).

    A replaced run of words appears as its deletion followed by its insertion.
    """
    src = [(m.start(), m.end()) for m in _WORD.finditer(source)]
    out = [(m.start(), m.end()) for m in _WORD.finditer(output)]
    matcher = difflib.SequenceMatcher(
        None, [source[s:e] for s, e in src], [output[s:e] for s, e in out], autojunk=False
    )
    segments: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
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
