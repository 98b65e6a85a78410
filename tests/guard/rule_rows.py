"""Table rows for the rule-named guard tests: (id, source, output, task, lang, target, expected)."""

from __future__ import annotations

from medvault.guard import check
from tests.guard.conftest import assert_expected

Row = tuple[str, str, str, str, str, str | None, str]


def assert_row(row: Row) -> None:
    """`expected` as in `assert_expected`, "review" (caught, whichever check names it) or "not review"."""
    _, source, output, task, lang, target, expected = row
    if expected in ("review", "not review"):
        result = check(source, output, task=task, lang=lang, target_lang=target)
        assert (result.verdict == "review") == (expected == "review"), (result.flags, result.unchecked)
    else:
        assert_expected(source, output, task, lang, target, expected)
