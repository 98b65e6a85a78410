"""Table-driven tests of the laterality check, German and English."""

from __future__ import annotations

import pytest

from medvault.guard import check

CASES = [
    # (id, source, output, task, lang, target_lang, flagged)
    (
        "de-swap",
        "Kleiner Pleuraerguss rechts. Kein Pneumothorax.",
        "Kleiner Pleuraerguss links. Kein Pneumothorax.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "de-same",
        "Kleiner Pleuraerguss rechts.",
        "Kleiner Pleuraerguss rechts.",
        "correction",
        "de",
        None,
        False,
    ),
    (
        "de-abbrev",
        "Pleuraerguss re., Rundherd li. 8 mm.",
        "Pleuraerguss rechts, Rundherd links 8 mm.",
        "correction",
        "de",
        None,
        False,
    ),
    (
        "de-abbrev-swap",
        "Pleuraerguss re., Rundherd li. 8 mm.",
        "Pleuraerguss links, Rundherd rechts 8 mm.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "de-bilateral-equals",
        "Pleuraergüsse bds.",
        "Pleuraergüsse beidseits.",
        "correction",
        "de",
        None,
        False,
    ),
    ("de-bilateral-lost", "Pleuraergüsse beidseits.", "Pleuraergüsse links.", "correction", "de", None, True),
    (
        "per-finding",
        "Erguss links, rechts kein Erguss. Infiltrat rechts.",
        "Erguss links, rechts kein Erguss. Infiltrat links.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "measurement-anchor",
        "Rechte Niere 11,2 cm. Linke Niere 10,8 cm.",
        "Linke Niere 11,2 cm. Linke Niere 10,8 cm.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "comparison-swap",
        "Pleuraergüsse beidseits, rechts mehr als links.",
        "Pleuraergüsse beidseits, links mehr als rechts.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "comparison-kept",
        "Effusions on both sides, right more than left.",
        "Bilateral effusions, right more than left.",
        "correction",
        "en",
        None,
        False,
    ),
    (
        "translation-ok",
        "Kleiner Pleuraerguss links.",
        "Small left pleural effusion.",
        "translation",
        "de",
        "en",
        False,
    ),
    (
        "translation-swap",
        "Kleiner Pleuraerguss links.",
        "Small right pleural effusion.",
        "translation",
        "de",
        "en",
        True,
    ),
    (
        "en-swap",
        "Nodule in the right lower lobe.",
        "Nodule in the left lower lobe.",
        "correction",
        "en",
        None,
        True,
    ),
    (
        "lay-organ",
        "Harnstau links. Rechte Niere regelrecht.",
        "Der Urin staut sich in der linken Niere. Die rechte Niere ist normal.",
        "simplification",
        "de",
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("source", "output", "task", "lang", "target", "flagged"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_laterality_table(
    source: str, output: str, task: str, lang: str, target: str | None, flagged: bool
) -> None:
    """Each row flags a major laterality problem exactly when the side of a finding changed."""
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=["laterality"])
    kinds = {f.kind for f in result.flags if f.severity == "major"}
    assert ("laterality" in kinds) is flagged, result.flags


def test_flag_spans_point_at_the_side_words() -> None:
    """The flag's spans select the side word in source and output, for the workbench's highlighting."""
    source, output = "Erguss rechts.", "Erguss links."
    (flag,) = check(source, output, task="correction", lang="de", checks=["laterality"]).flags
    assert output[slice(*flag.output_span)] == "links"
    assert source[slice(*flag.source_span)] == "rechts"
