"""Table-driven tests of quantity reading and of the numbers check."""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._quantities import extract_quantities

READ = [
    ("1,5 cm", [("length", 15.0)]),
    ("15 mm", [("length", 15.0)]),
    ("3–5 mm", [("length", 3.0), ("length", 5.0)]),
    ("3 bis 5 mm", [("length", 3.0), ("length", 5.0)]),
    ("3 x 4 x 5 cm", [("length", 30.0), ("length", 40.0), ("length", 50.0)]),
    ("18 ml", [("volume", 18.0)]),
    ("45 HU", [("density", 45.0)]),
    ("SUVmax 5,2", [("uptake", 5.2)]),
    ("70-79%", [("percent", 70.0), ("percent", 79.0)]),
    ("14.03.2024", [("date", 20240314.0)]),
    ("14 March 2024", [("date", 20240314.0)]),
    ("2024-03-14", [("date", 20240314.0)]),
    ("um 14:20 Uhr", [("time", 860.0)]),
    ("zwei Zysten", [("count", 2.0)]),
    ("1. Befund", []),
]


@pytest.mark.parametrize(("text", "keys"), READ, ids=[r[0] for r in READ])
def test_reading_quantities(text: str, keys: list[tuple[str, float]]) -> None:
    """Each written form reads as the expected dimensions and base values."""
    assert [q.keys[0] for q in extract_quantities(text, "de")] == keys


CASES = [
    ("same-size-other-unit", "Rundherd 1,5 cm.", "Rundherd 15 mm.", "correction", "de", None, False),
    ("decimal-point-translation", "Rundherd 1,5 cm.", "Nodule 1.5 cm.", "translation", "de", "en", False),
    ("unit-change", "Rundherd 5 mm.", "Rundherd 5 cm.", "correction", "de", None, True),
    ("number-change", "Rundherd 12 mm.", "Rundherd 21 mm.", "correction", "de", None, True),
    ("range-kept", "Lymphknoten 3–5 mm.", "Lymphknoten 3 bis 5 mm.", "correction", "de", None, False),
    ("range-changed", "Lymphknoten 3–5 mm.", "Lymphknoten 3–6 mm.", "correction", "de", None, True),
    ("dimension-changed", "Zyste 3 x 4 cm.", "Zyste 3 x 4 mm.", "correction", "de", None, True),
    ("date-translated", "CT vom 14.03.2024.", "CT of 14/03/2024.", "translation", "de", "en", False),
    ("date-changed", "CT vom 14.03.2024.", "CT vom 14.03.2023.", "correction", "de", None, True),
    (
        "dropped-in-correction",
        "Rundherd 12 mm, Zyste 4 mm.",
        "Rundherd 12 mm, Zyste.",
        "correction",
        "de",
        None,
        True,
    ),
    ("dropped-in-summary", "Rundherd 12 mm, Zyste 4 mm.", "Rundherd 12 mm.", "summary", "de", None, False),
    ("count-as-word", "2 Zysten links.", "Zwei Zysten links.", "correction", "de", None, False),
    ("en-same-size", "Nodule 1.5 cm.", "Nodule 15 mm.", "correction", "en", None, False),
    ("en-unit-change", "Calculus of 7 mm.", "Calculus of 7 cm.", "correction", "en", None, True),
    ("en-number-change", "Aneurysm 5.8 cm.", "Aneurysm 5.3 cm.", "correction", "en", None, True),
    ("en-range-kept", "Stenosis 70-79%.", "Stenosis 70–79%.", "correction", "en", None, False),
    ("en-range-changed", "Stenosis 70-79%.", "Stenosis 60-69%.", "correction", "en", None, True),
    ("en-dimensions", "Cyst 3 x 4 cm.", "Cyst 3 x 4 mm.", "correction", "en", None, True),
    ("en-volume", "Collection of 45 ml.", "Collection of 45 l.", "correction", "en", None, True),
    ("en-date-to-de", "CT of 14 March 2024.", "CT vom 14.03.2024.", "translation", "en", "de", False),
    (
        "en-dropped-in-translation",
        "Nodule 12 mm, cyst 4 mm.",
        "Rundherd 12 mm, Zyste.",
        "translation",
        "en",
        "de",
        True,
    ),
]


@pytest.mark.parametrize(
    ("source", "output", "task", "lang", "target", "flagged"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_numbers_table(
    source: str, output: str, task: str, lang: str, target: str | None, flagged: bool
) -> None:
    """Each row flags a major numbers problem exactly when a measurement changed or went missing."""
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=["numbers"])
    kinds = {f.kind for f in result.flags if f.severity == "major"}
    assert ("numbers" in kinds) is flagged, result.flags


def test_unit_change_message_names_both_values() -> None:
    """A unit change is reported as one flag with both spans and both values."""
    source, output = "Rundherd 5 mm.", "Rundherd 5 cm."
    (flag,) = check(source, output, task="correction", lang="de", checks=["numbers"]).flags
    assert flag.message == "unit changed: '5 mm' -> '5 cm'"
    assert source[slice(*flag.source_span)] == "5 mm"
    assert output[slice(*flag.output_span)] == "5 cm"
