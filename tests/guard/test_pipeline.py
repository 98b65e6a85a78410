"""The public API: profiles, argument errors, result shapes, speed."""

from __future__ import annotations

import json

import pytest

from medvault.errors import GuardError
from medvault.guard import CHECKS, TASKS, Flag, GuardResult, check

SOURCE = "Befund: Rundherd im rechten Unterlappen, 12 mm. Kein Pleuraerguss."
BAD = "Befund: Rundherd im linken Unterlappen, 12 cm. Pleuraerguss."


def test_clean_output_is_ok() -> None:
    """An unchanged output has no flags and the verdict ok."""
    result = check(SOURCE, SOURCE, task="correction", lang="de")
    assert result.verdict == "ok"
    assert result.flags == []
    assert result.counts() == {}


def test_errors_give_review_and_counts() -> None:
    """Side, unit and negation errors give review and are counted by kind, without any text."""
    result = check(SOURCE, BAD, task="correction", lang="de")
    assert result.verdict == "review"
    counts = result.counts()
    assert counts["laterality"] >= 1 and counts["numbers"] >= 1 and counts["negation"] >= 1
    assert all(isinstance(k, str) and isinstance(v, int) for k, v in counts.items())


def test_to_dict_is_json() -> None:
    """to_dict() survives a JSON round trip and carries verdict, counts and spans."""
    data = json.loads(json.dumps(check(SOURCE, BAD, task="correction", lang="de").to_dict()))
    assert data["verdict"] == "review"
    for flag in data["flags"]:  # every span is a [start, end] pair inside its text
        for span, text in ((flag["source_span"], SOURCE), (flag["output_span"], BAD)):
            assert span is None or (len(span) == 2 and 0 <= span[0] < span[1] <= len(text))
    assert any(flag["output_span"] and BAD[slice(*flag["output_span"])] == "12 cm" for flag in data["flags"])
    assert set(data) == {
        "verdict",
        "task",
        "checks",
        "checked",
        "not_checked",
        "counts",
        "flags",
        "unchecked",
    }


def test_profile_limits_checks() -> None:
    """Only the named checks run."""
    result = check(SOURCE, BAD, task="correction", lang="de", checks=["numbers"])
    assert result.checks == ("numbers",)
    assert {f.kind for f in result.flags} == {"numbers"}


def test_every_task_has_a_profile_of_known_checks() -> None:
    """Each task's default profile names existing checks."""
    assert set(TASKS) == {"correction", "simplification", "translation", "summary", "structured"}
    for rules in TASKS.values():
        assert set(rules.checks) <= set(CHECKS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"task": "poem", "lang": "de"},
        {"task": "correction", "lang": "fr"},
        {"task": "translation", "lang": "de"},
        {"task": "correction", "lang": "de", "checks": ["spelling"]},
    ],
)
def test_bad_arguments_raise_guard_error(kwargs: dict) -> None:
    """Unknown task, language or check, or a translation without target language, raise GuardError."""
    with pytest.raises(GuardError):
        check(SOURCE, SOURCE, **kwargs)


def test_verdict_follows_major_flags() -> None:
    """Minor flags alone leave the verdict ok."""
    minor = GuardResult("summary", ("numbers",), [Flag("numbers", "x", "minor")])
    major = GuardResult("summary", ("numbers",), [Flag("numbers", "x", "major", (0, 1), None)])
    assert minor.verdict == "ok" and major.verdict == "review"
    assert major.to_dict()["flags"][0]["source_span"] == [0, 1]
