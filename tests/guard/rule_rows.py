"""Table rows for the rule-named guard tests: (id, source, output, task, lang, target, expected), and
`CheckedRow`s that also name the one check to run."""

from __future__ import annotations

from medvault.guard import check
from tests.guard.conftest import assert_expected

Row = tuple[str, str, str, str, str, str | None, str]
# (id, source, output, task, lang, target, check, expected): the row runs the named check only, so that a
# finding word another check reads differently cannot hide what the row is about.
CheckedRow = tuple[str, str, str, str, str, str | None, str, str]


def assert_row(row: Row) -> None:
    """`expected` as in `assert_expected`, "review" (caught, whichever check names it) or "not review"."""
    _, source, output, task, lang, target, expected = row
    if expected in ("review", "not review"):
        result = check(source, output, task=task, lang=lang, target_lang=target)
        assert (result.verdict == "review") == (expected == "review"), (result.flags, result.unchecked)
    else:
        assert_expected(source, output, task, lang, target, expected)


def assert_checked_row(row: CheckedRow) -> None:
    """`expected` is "ok", "unchecked", "not review" (ok or unchecked), "review" (a control whose flag code
    varies by check: any major flag will do) or the code of a major flag that makes the verdict "review"."""
    _, source, output, task, lang, target, name, expected = row
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=[name])
    majors = {f.stable_code for f in result.flags if f.severity == "major"}
    detail = (result.verdict, result.flags, result.unchecked)
    if expected == "not review":
        assert result.verdict != "review", detail
    elif expected == "review":
        assert result.verdict == "review", detail
    elif expected in ("ok", "unchecked"):
        assert result.verdict == expected, detail
    else:
        assert result.verdict == "review" and expected in majors, detail


def assert_confident_change(source: str, output: str, lang: str, task: str, flagged: bool) -> None:
    """Whether the output gets a confident negation or certainty change; a translation goes to the other
    of "de" and "en"."""
    target = "de" if task == "translation" and lang == "en" else "en" if task == "translation" else lang
    result = check(source, output, task=task, lang=lang, target_lang=target)
    major = [f for f in result.flags if f.code in ("negation_changed", "certainty_changed") and f.confident]
    assert bool(major) is flagged, [(f.code, f.params) for f in result.flags]
