"""Shared by the guard tests: the benchmark script as a module, and the verdict a table row expects."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from medvault.guard import check
from medvault.guard._text import Analysis

BENCH = Path(__file__).resolve().parents[2] / "bench" / "guard_eval.py"


@pytest.fixture(scope="module")
def guard_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("guard_eval", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["guard_eval"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def assert_expected(
    source: str, output: str, task: str, lang: str, target: str | None, expected: str
) -> None:
    """`expected` is a verdict ("ok", "unchecked") or the code of a major flag that makes it "review"."""
    result = check(source, output, task=task, lang=lang, target_lang=target)
    majors = {f.stable_code for f in result.flags if f.severity == "major"}
    if expected in ("ok", "unchecked"):
        assert result.verdict == expected, (result.verdict, result.flags, result.unchecked)
    else:
        assert result.verdict == "review" and expected in majors, (result.verdict, result.flags)


def assert_level(text: str, lang: str, concept: str, level: str) -> None:
    """The first mention of `concept` in `text` has the certainty `level`."""
    doc = Analysis(text, lang)
    mention = next(m for m in doc.mentions if m.concept == concept)
    assert doc.level(mention) == level


def assert_asked(text: str, lang: str, asked: bool) -> None:
    """Whether the first finding of `text` is asked (a question, a question heading) or stated."""
    doc = Analysis(text, lang)
    findings = [m for m in doc.mentions if m.kind == "F"]
    assert findings and doc.asks(findings[0]) is asked


def assert_reading(text: str, lang: str, word: str, concept: str | None) -> None:
    """`word` in `text` is read as the finding `concept`, or as no finding at all (None)."""
    doc = Analysis(text, lang)
    start = doc.lower.index(word)
    found = [m.concept for m in doc.mentions if m.kind == "F" and start <= m.start < start + len(word)]
    assert found == ([concept] if concept else [])
