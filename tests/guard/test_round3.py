"""Table-driven tests of the third round's rules: resolution cues, "nirgends", qualifiers, typo pairing
beside a dropped word, and the new German/English vocabulary."""

from __future__ import annotations

import pytest

from medvault.guard import check
from medvault.guard._respell import respellings

# (name, source, output, task, lang, target_lang, kind expected as a major flag or None for "ok")
CASES = [
    (
        "resolved-forward-kept",
        "Resolved right pneumothorax.",
        "The air around the right lung is gone.",
        "simplification",
        "en",
        None,
        None,
    ),
    (
        "resolved-backward-affirmed",
        "The right pneumothorax has resolved.",
        "Right pneumothorax.",
        "correction",
        "en",
        None,
        "negation",
    ),
    (
        "resolved-translated",
        "The right pneumothorax has resolved.",
        "Pneumothorax rechts nicht mehr nachweisbar.",
        "translation",
        "en",
        "de",
        None,
    ),
    (
        "verschwunden",
        "Der Erguss links ist verschwunden.",
        "Erguss links.",
        "correction",
        "de",
        None,
        "negation",
    ),
    (
        "nirgends-before-participle",
        "Keine Knochendestruktion.",
        "Der Knochen ist nirgends zerstört.",
        "simplification",
        "de",
        None,
        None,
    ),
    (
        "nirgends-after-verb",
        "Keine pathologische Kontrastmittelanreicherung.",
        "Das Kontrastmittel reichert sich nirgends krankhaft an.",
        "simplification",
        "de",
        None,
        None,
    ),
    (
        "sonst-qualifier",
        "Zwei Läsionen der Leber. Keine weiteren fokalen Läsionen.",
        "Zwei Knoten in der Leber. Sonst gibt es keine Herde in der Leber.",
        "simplification",
        "de",
        None,
        None,
    ),
    (
        "sinuses-apart",
        "Kieferhöhle links verschattet. Stirnhöhlen frei. Akute Sinusitis maxillaris links.",
        "Entzündung der linken Kieferhöhle. Die Stirnhöhlen sind frei.",
        "simplification",
        "de",
        None,
        None,
    ),
    (
        "out-of-place-dropped-not",
        "Non-displaced fractures of the left 9th and 10th ribs.",
        "The 9th and 10th ribs on the left are broken and out of place.",
        "simplification",
        "en",
        None,
        "negation",
    ),
    (
        "avaskulaere-nekrose",
        "Proximal pole with normal signal, without avascular necrosis.",
        "Proximaler Pol mit regelrechtem Signal, mit avaskulärer Nekrose.",
        "translation",
        "en",
        "de",
        "negation",
    ),
    (
        "verlegung-dropped-ohne",
        "Sinusitis maxillaris links mit Verlegung der ostiomeatalen Einheit.",
        "Sinusitis maxillaris links ohne Verlegung der ostiomeatalen Einheit.",
        "correction",
        "de",
        None,
        "negation",
    ),
    (
        "laceration-torn",
        "Splenic laceration of 3 cm depth.",
        "The spleen is torn 3 cm deep.",
        "simplification",
        "en",
        None,
        None,
    ),
    (
        "hyperaemia-lay",
        "Flüssigkeitsansammlung mit Randhyperämie.",
        "Eine Flüssigkeitsansammlung, der Rand ist stark durchblutet.",
        "simplification",
        "de",
        None,
        None,
    ),
    (
        "blood-flow-is-no-finding",
        "Solid mass of the left testis with increased vascularity.",
        "A solid lump in the left testicle with a lot of blood flow.",
        "simplification",
        "en",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("source", "output", "task", "lang", "target", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_round3_rules(
    source: str, output: str, task: str, lang: str, target: str | None, expected: str | None
) -> None:
    """Each case gives `review` with a major flag of the expected kind, or `ok` where none is expected."""
    result = check(source, output, task=task, lang=lang, target_lang=target)
    if expected is None:
        assert result.verdict == "ok", result.flags
    else:
        assert any(f.kind == expected and f.severity == "major" for f in result.flags), result.flags


@pytest.mark.parametrize(
    ("source", "output", "fixed"),
    [
        ("No pneumoperitooneum.", "Pneumoperitoneum.", "Pneumoperitoneum"),
        ("Kein Pneumthorax rechts.", "Pneumothorax rechts.", "Pneumothorax"),
    ],
)
def test_typo_beside_dropped_word_is_respelled(source: str, output: str, fixed: str) -> None:
    """A typo in a passage that also lost a word still gets the output's spelling."""
    fix_src, _, _ = respellings(source, output, "en" if source.startswith("No") else "de")
    assert [new for *_, new in fix_src] == [fixed]
