"""Table-driven tests of the negation check, German and English."""

from __future__ import annotations

import pytest

from medvault.guard import check

CASES = [
    ("kein-dropped", "Kein Pneumothorax.", "Pneumothorax.", "correction", "de", None, True),
    (
        "kein-hinweis",
        "Kein Hinweis auf Lungenembolie.",
        "Hinweis auf Lungenembolie.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "kein-hinweis-kept",
        "Kein Hinweis auf Lungenembolie.",
        "Kein Hinweis auf eine Lungenembolie.",
        "correction",
        "de",
        None,
        False,
    ),
    (
        "kein-anhalt-translated",
        "Kein Anhalt für eine Fraktur.",
        "No evidence of a fracture.",
        "translation",
        "de",
        "en",
        False,
    ),
    ("ohne-mit", "Leber ohne Herdbefund.", "Leber mit Herdbefund.", "correction", "de", None, True),
    (
        "ausgeschlossen",
        "Eine Fraktur wurde ausgeschlossen.",
        "Eine Fraktur wurde nachgewiesen.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "nicht-auszuschliessen-is-not-negation",
        "Eine Fraktur ist nicht auszuschließen.",
        "A fracture cannot be excluded.",
        "translation",
        "de",
        "en",
        False,
    ),
    (
        "pseudo-flipped",
        "A fracture cannot be excluded.",
        "A fracture is excluded.",
        "correction",
        "en",
        None,
        True,
    ),
    (
        "list-scope",
        "No effusion, pneumothorax or consolidation.",
        "No effusion. No pneumothorax. No consolidation.",
        "correction",
        "en",
        None,
        False,
    ),
    (
        "list-scope-flip",
        "No effusion, pneumothorax or consolidation.",
        "No effusion. Pneumothorax. No consolidation.",
        "correction",
        "en",
        None,
        True,
    ),
    (
        "clause-scope",
        "Kein Pneumothorax, kleiner Erguss rechts.",
        "Kleiner Erguss rechts. Kein Pneumothorax.",
        "correction",
        "de",
        None,
        False,
    ),
    ("negative-for", "Negative for pneumothorax.", "Pneumothorax present.", "correction", "en", None, True),
    ("free-of", "Lungs free of consolidation.", "Lungs with consolidation.", "correction", "en", None, True),
    (
        "not-seen",
        "Ein Erguss ist nicht nachweisbar.",
        "Ein Erguss ist nachweisbar.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "side-specific",
        "Erguss links, rechts kein Erguss.",
        "Erguss links, rechts Erguss.",
        "correction",
        "de",
        None,
        True,
    ),
    ("translation-flip", "Kein Pleuraerguss.", "Small pleural effusion.", "translation", "de", "en", True),
    (
        "lay-ok",
        "Keine freie Flüssigkeit.",
        "Es gibt keine freie Flüssigkeit im Bauch.",
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
def test_negation_table(
    source: str, output: str, task: str, lang: str, target: str | None, flagged: bool
) -> None:
    """Each row flags a major negation problem exactly when a finding's polarity changed."""
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=["negation"])
    kinds = {f.kind for f in result.flags if f.severity == "major"}
    assert ("negation" in kinds) is flagged, result.flags
