"""Tests of the scope rules added after the first held-out set: qualifiers, prefixes, directions."""

from __future__ import annotations

import pytest

from medvault.guard import check

NEGATION = [
    # (id, source, output, task, lang, target, flagged)
    (
        "kein-anhalt-flipped",
        "Kein Anhalt für Metastasen.",
        "Anhalt für Metastasen.",
        "correction",
        "de",
        None,
        True,
    ),
    (
        "kein-anhalt-kept",
        "Kein Anhalt für Metastasen.",
        "Kein Anhalt für Metastasen.",
        "correction",
        "de",
        None,
        False,
    ),
    (
        "fresh-vs-chronic",
        "Chronisches Subduralhämatom links. Keine frische Blutung.",
        "Chronic left subdural haematoma. Acute haemorrhage.",
        "translation",
        "de",
        "en",
        True,
    ),
    (
        "fresh-kept",
        "Chronisches Subduralhämatom links. Keine frische Blutung.",
        "Chronic left subdural haematoma. No acute haemorrhage.",
        "translation",
        "de",
        "en",
        False,
    ),
    (
        "active-lesions",
        "Multiple white matter lesions. No active lesions.",
        "There are several spots in the white matter. There are active spots.",
        "simplification",
        "en",
        None,
        True,
    ),
    (
        "remaining-bones",
        "Fraktur des fünften Metakarpale. Übrige Mittelhandknochen intakt.",
        "Der fünfte Mittelhandknochen ist gebrochen. Die anderen Mittelhandknochen sind gebrochen.",
        "simplification",
        "de",
        None,
        True,
    ),
    (
        "remaining-bones-kept",
        "Fraktur des fünften Metakarpale. Übrige Mittelhandknochen intakt.",
        "Der fünfte Mittelhandknochen ist gebrochen. Die anderen Mittelhandknochen sind nicht gebrochen.",
        "simplification",
        "de",
        None,
        False,
    ),
    (
        "uncomplicated",
        "Acute uncomplicated diverticulitis.",
        "Akute komplizierte Divertikulitis.",
        "translation",
        "en",
        "de",
        True,
    ),
    (
        "uncomplicated-kept",
        "Acute uncomplicated diverticulitis.",
        "Akute unkomplizierte Divertikulitis.",
        "translation",
        "en",
        "de",
        False,
    ),
    (
        "tendon-apart",
        "Full-thickness tear of the infraspinatus tendon. "
        "The supraspinatus tendon shows tendinosis without tear.",
        "The infraspinatus tendon is torn. The supraspinatus tendon is worn but torn.",
        "simplification",
        "en",
        None,
        True,
    ),
    (
        "hernia-not-fracture",
        "Rechts Leistenhernie mit Bruchpforte 14 mm. Links keine Hernie.",
        "Rechts Leistenbruch mit Lücke von 14 mm. Links Leistenbruch.",
        "simplification",
        "de",
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    ("source", "output", "task", "lang", "target", "flagged"),
    [c[1:] for c in NEGATION],
    ids=[c[0] for c in NEGATION],
)
def test_negation_scope(
    source: str, output: str, task: str, lang: str, target: str | None, flagged: bool
) -> None:
    """Each row flags a major negation problem exactly when a finding's polarity changed."""
    result = check(source, output, task=task, lang=lang, target_lang=target, checks=["negation"])
    assert any(f.severity == "major" for f in result.flags) is flagged, result.flags


def test_new_clause_after_and_ends_the_scope() -> None:
    """'kein X, und es besteht Y' leaves Y affirmed, while 'no X and Y' negates both."""
    kept = check(
        "Kein Erguss und es besteht ein Infiltrat.", "Kein Erguss. Infiltrat.", task="correction", lang="de",
        checks=["negation"],
    )  # fmt: skip
    assert kept.verdict == "ok", kept.flags
    both = check(
        "No effusion and consolidation.", "No effusion. Consolidation.", task="simplification", lang="en"
    )
    assert any(f.kind == "negation" and f.severity == "major" for f in both.flags)


LATERALITY = [
    (
        "direction-kept",
        "Mittellinienverlagerung nach rechts.",
        "Midline shift to the right.",
        "de",
        "en",
        False,
    ),
    (
        "direction-flipped",
        "Mittellinienverlagerung nach rechts.",
        "Midline shift to the left.",
        "de",
        "en",
        True,
    ),
    (
        "leftward",
        "5 mm leftward midline shift.",
        "Mittellinienverlagerung um 5 mm nach links.",
        "en",
        "de",
        False,
    ),
    (
        "direction-not-a-side",
        "Subduralhämatom links mit Mittellinienverlagerung nach rechts.",
        "Left subdural haematoma with midline shift to the right.",
        "de",
        "en",
        False,
    ),
    (
        "count-no-anchor",
        "Röntgen der rechten Hand in zwei Ebenen.",
        "X-ray of the right hand, two views.",
        "de",
        "en",
        False,
    ),
    ("testes", "Hoden beidseits unauffällig.", "Both testes unremarkable.", "de", "en", False),
]


@pytest.mark.parametrize(
    ("source", "output", "lang", "target", "flagged"),
    [c[1:] for c in LATERALITY],
    ids=[c[0] for c in LATERALITY],
)
def test_directions_and_anchors(source: str, output: str, lang: str, target: str, flagged: bool) -> None:
    """Directions are compared as directions; bare counts and plural organs do not mislead sides."""
    result = check(source, output, task="translation", lang=lang, target_lang=target, checks=["laterality"])
    assert any(f.severity == "major" for f in result.flags) is flagged, result.flags
