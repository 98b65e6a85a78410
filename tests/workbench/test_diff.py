"""Table-driven tests of the word-level diff and its character spans."""

from __future__ import annotations

import pytest

from medvault.workbench._diff import word_diff

CASES = [
    ("identical", "Lunge frei.", "Lunge frei.", [("equal", "Lunge frei.")]),
    ("one word replaced", "links kein Erguss", "rechts kein Erguss",
     [("delete", "links"), ("insert", "rechts"), ("equal", "kein Erguss")]),
    ("word inserted", "kein Erguss", "kein neuer Erguss",
     [("equal", "kein"), ("insert", "neuer"), ("equal", "Erguss")]),
    ("word removed", "kein Erguss links", "kein Erguss", [("equal", "kein Erguss"), ("delete", "links")]),
    ("empty output", "Herz normal", "", [("delete", "Herz normal")]),
    ("empty source", "", "neu", [("insert", "neu")]),
    ("whitespace only differs", "a  b\nc", "a b c", [("equal", "a b c")]),
]  # fmt: skip


@pytest.mark.parametrize(("source", "output", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_segments(source: str, output: str, expected: list[tuple[str, str]]) -> None:
    """The diff lists equal, deleted and inserted word runs in reading order."""
    assert [(s["op"], s["text"]) for s in word_diff(source, output)] == expected


def test_spans_point_into_source_and_output() -> None:
    """Every span cuts exactly its segment's words out of the text it belongs to."""
    source, output = "Der Befund links ist unauffällig.", "Der Befund rechts ist auffällig."
    for segment in word_diff(source, output):
        if segment["op"] in ("equal", "insert"):
            start, end = segment["output_span"]
            assert output[start:end] == segment["text"]
        if segment["op"] in ("equal", "delete"):
            start, end = segment["source_span"]
            assert source[start:end].split() == segment["text"].split()
        if segment["op"] == "delete":
            assert segment["output_span"] is None
        if segment["op"] == "insert":
            assert segment["source_span"] is None
