"""A JSON answer too deep or with too long a number for Python is a format error, never an exception."""

from __future__ import annotations

import json

import pytest

from medvault.templates import TemplateLibrary

LIB = TemplateLibrary.load()
ERROR_LIST = {"errors": [{"category": "laterality", "quote": "rechts", "explanation": "Seite?"}]}


@pytest.mark.parametrize(
    "answer",
    ["[" * 100_000, '{"errors": ' * 5_000 + "[]" + "}" * 5_000, '{"errors": [], "n": ' + "9" * 5_000 + "}"],
    ids=["deep-array", "deep-object", "long-number"],
)
def test_unusable_json_is_a_format_error(answer: str) -> None:
    """The parser's RecursionError or ValueError becomes the template's format error."""
    with pytest.raises((RecursionError, ValueError)):  # positive control: the answer does break json
        json.loads(answer)
    result = LIB.get("error-check", "de").postprocess(answer)
    assert not result.ok and result.data is None
    assert result.errors == ("the answer is not usable JSON: nested too deeply or a number too long",)
    assert result.text == answer


def test_a_usable_answer_still_parses() -> None:
    """Positive control: a well-formed answer of the same template is accepted."""
    result = LIB.get("error-check", "de").postprocess(json.dumps(ERROR_LIST))
    assert result.ok and result.data == ERROR_LIST
