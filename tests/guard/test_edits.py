"""Table-driven tests of the edit budget for corrections."""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._edits import EditBudget

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
    """EditBudget is a small configurable callable, like every other check."""
    strict = EditBudget(minor=0.0, major=0.01, min_words=1)
    assert strict.minor == 0.0 and strict.major == 0.01
