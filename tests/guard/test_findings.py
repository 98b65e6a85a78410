"""Table-driven tests of the new_findings and omissions checks."""

from __future__ import annotations

import pytest

from medvault.guard import check

CASES = [
    # (id, check, source, output, task, lang, target, flagged major)
    (
        "inserted",
        "new_findings",
        "Leber unauffällig.",
        "Leber unauffällig. Kleine Leberzyste.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "typo-source",
        "new_findings",
        "Kleiner Pleuraergus rechts.",
        "Kleiner Pleuraerguss rechts.",
        "correction",
        "de",
        None,
        False,
    ),
    (
        "translated",
        "new_findings",
        "Kleiner Pleuraerguss rechts.",
        "Small right pleural effusion.",
        "translation",
        "de",
        "en",
        False,
    ),
    (
        "translated-inserted",
        "new_findings",
        "Kleiner Pleuraerguss rechts.",
        "Small right pleural effusion. Mild splenomegaly.",
        "translation",
        "de",
        "en",
        True,
    ),
    (
        "lay-words",
        "new_findings",
        "Pneumonie im rechten Unterfeld.",
        "Lungenentzündung unten in der rechten Lunge.",
        "simplification",
        "de",
        None,
        False,
    ),
    (
        "broader-term",
        "new_findings",
        "Cholecystitis.",
        "Inflammation of the gallbladder.",
        "simplification",
        "en",
        None,
        False,
    ),
    (
        "dropped",
        "omissions",
        "Kein Pneumothorax. Kleiner Erguss.",
        "Kleiner Erguss.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "dropped-in-lay-text",
        "omissions",
        "Kein Pneumothorax. Kleiner Erguss.",
        "Etwas Flüssigkeit.",
        "simplification",
        "de",
        None,
        False,
    ),
    (
        "kept-translated",
        "omissions",
        "Kein Pneumothorax.",
        "No pneumothorax.",
        "translation",
        "de",
        "en",
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "source", "output", "task", "lang", "target", "flagged"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_findings_table(
    name: str, source: str, output: str, task: str, lang: str, target: str | None, flagged: bool
) -> None:
    """Each row raises a major flag of its check exactly when a finding was invented or lost."""
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=[name])
    assert any(f.kind == name and f.severity == "major" for f in result.flags) is flagged, result.flags


def test_new_finding_has_only_an_output_span() -> None:
    """An invented finding has nothing to point at in the source."""
    output = "Leber unauffällig. Kleine Leberzyste."
    (flag,) = check("Leber unauffällig.", output, task="correction", lang="de", checks=["new_findings"]).flags
    assert flag.source_span is None
    assert output[slice(*flag.output_span)] == "zyste"
