"""Table-driven tests of the edit budget for corrections."""

from __future__ import annotations

import pytest

from medvault.guard import TASKS, check
from medvault.guard._context import Pair
from medvault.guard._edits import EditBudget
from medvault.guard._text import Analysis

SOURCE = (
    "Befund: Kleiner Pleuraerguss rechts. Kein Pneumothorax. Herz normal groß. Mediastinum mittelständig. "
    "Zwerchfell beidseits glatt begrenzt. Keine Rippenfraktur. Einliegender zentraler Venenkatheter über "
    "die rechte Vena jugularis interna mit Spitze in der oberen Hohlvene."
)
CASES = [
    ("identical", SOURCE, None),
    (
        "typos-fixed",
        SOURCE.replace("Pleuraerguss", "Pleuraergus").replace("mittelständig", "mittelstaendig"),
        None,
    ),
    (
        "rewritten",
        "Befund: Am Herzen und im Mediastinum zeigt sich alles regelrecht, es besteht ein kleiner "
        "Erguss der rechten Pleura ohne Luft.",
        "major",
    ),
    ("some-words", SOURCE.replace("Herz normal groß", "Das Herz ist insgesamt von normaler Größe"), "minor"),
]


@pytest.mark.parametrize(("output", "severity"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_edit_budget_table(output: str, severity: str | None) -> None:
    """Spelling fixes are free; rewording costs, and past the limits gives a minor or major flag."""
    flags = check(SOURCE, output, task="correction", lang="de", checks=["edit_budget"]).flags
    assert [f.severity for f in flags] == ([severity] if severity else [])


def test_limits_are_configurable() -> None:
    """A stricter EditBudget flags an edit the default one lets through."""
    output = SOURCE.replace("Herz normal groß", "Das Herz ist normal groß")
    default = check(SOURCE, output, task="correction", lang="de", checks=["edit_budget"]).flags
    assert default == []
    pair = Pair(Analysis(SOURCE, "de"), Analysis(output, "de"), TASKS["correction"])
    (flag,) = EditBudget(minor=0.0, major=0.01, min_words=1)(pair)
    assert flag.severity == "major" and "limit 1%" in flag.message


EN_SOURCE = (
    "Findings: Small right pleural effusion. No pneumothorax. Normal heart size. The mediastinum is "
    "central. Both hemidiaphragms are smooth. No rib fracture. Central venous catheter via the right "
    "internal jugular vein with its tip in the superior vena cava."
)


@pytest.mark.parametrize(
    ("output", "severity"),
    [
        (EN_SOURCE.replace("effusion", "efusion").replace("central.", "centrl."), None),
        (
            "Findings: The heart and mediastinum look fine and there is a little fluid on the right side.",
            "major",
        ),
    ],
    ids=["typos-fixed", "rewritten"],
)
def test_english_edit_budget(output: str, severity: str | None) -> None:
    """English corrections: typo fixes are free, a rewrite is over budget."""
    flags = check(EN_SOURCE, output, task="correction", lang="en", checks=["edit_budget"]).flags
    assert [f.severity for f in flags] == ([severity] if severity else [])
