"""Translations in the wrong language are flagged (issue 10, point 3); short or mixed outputs are not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from medvault.guard import check
from medvault.guard._language import detect, function_words
from medvault.guard._text import WORD

DE = (
    "CT Thorax mit Kontrastmittel vom 14.03.2024. Im rechten Unterlappen ein 12 mm großer solider "
    "Rundherd, glatt begrenzt. Kein Pleuraerguss. Kein Pneumothorax. Das Herz ist normal groß, ohne "
    "Perikarderguss. Beurteilung: Rundherd im rechten Unterlappen, Kontrolle in 3 Monaten empfohlen."
)
EN = (
    "Contrast-enhanced CT of the chest of 14/03/2024. In the right lower lobe there is a 12 mm solid "
    "nodule, smoothly marginated. No pleural effusion. No pneumothorax. The heart is of normal size, "
    "without pericardial effusion. Impression: nodule in the right lower lobe, follow-up in 3 months "
    "recommended."
)
FR = (
    "Scanner thoracique avec injection du 14.03.2024. Nodule solide de 12 mm dans le lobe inférieur "
    "droit, à contours lisses. Pas d'épanchement pleural. Pas de pneumothorax. Coeur de taille normale, "
    "pas d'épanchement péricardique. Conclusion: nodule du lobe inférieur droit, contrôle à 3 mois."
)
# Half German, half English: no language dominates, so the guard abstains.
MIXED = (
    "Im rechten Unterlappen ein 12 mm großer Rundherd, glatt begrenzt, kein Pleuraerguss. "
    "No pneumothorax. The heart is of normal size, without pericardial effusion."
)


def _language_flags(source: str, output: str, lang: str, target: str) -> list[dict[str, object]]:
    data = check(source, output, task="translation", lang=lang, target_lang=target).to_dict(lang="en")
    return [f for f in data["flags"] if f["code"] == "wrong_language"]


@pytest.mark.parametrize(
    ("case", "source", "output", "lang", "target", "found"),
    [
        ("German 'translation' of a German source", DE, DE, "de", "en", "de"),
        ("English output for EN->DE", EN, EN, "en", "de", "en"),
        (
            "German source answered in German paraphrase",
            DE,
            DE.replace("Kein", "Keinerlei"),
            "de",
            "en",
            "de",
        ),
        ("neither language (French) for DE->EN", DE, FR, "de", "en", "other"),
        ("neither language (French) for EN->DE", EN, FR, "en", "de", "other"),
        ("clean DE->EN", DE, EN, "de", "en", None),
        ("clean EN->DE", EN, DE, "en", "de", None),
        ("short output abstains", DE, "Kein Pleuraerguss.", "de", "en", None),
        ("short English output abstains for EN->DE", EN, "No effusion. Normal heart.", "en", "de", None),
        ("mixed output abstains", DE, MIXED, "de", "en", None),
        (
            "numbers and terms only abstain",
            DE,
            "CT 14.03.2024: 12 mm Rundherd, PI-RADS 4, 3/12.",
            "de",
            "en",
            None,
        ),
    ],
)
def test_wrong_language_flag(
    case: str, source: str, output: str, lang: str, target: str, found: str | None
) -> None:
    """Flagged exactly when the output is clearly in the source language or in neither language."""
    flags = _language_flags(source, output, lang, target)
    if found is None:
        assert flags == [], case
        return
    assert len(flags) == 1, case
    flag = flags[0]
    assert flag["kind"] == "language" and flag["severity"] == "major", case
    assert flag["params"] == {
        "source": None,
        "output": None,
        "source_lang": lang,
        "target_lang": target,
        "output_lang": found,
    }, case
    assert flag["output_span"] == [0, len(output.rstrip())] and flag["source_span"] is None, case
    verdict = check(source, output, task="translation", lang=lang, target_lang=target).verdict
    assert verdict == "review", case


@pytest.mark.parametrize(
    ("ui", "output", "expected"),
    [
        ("de", DE, "Falsche Sprache: Übersetzung Deutsch → Englisch, die Ausgabe ist aber Deutsch."),
        ("en", DE, "Wrong language: translation German → English, but the output is German."),
        (
            "de",
            FR,
            "Falsche Sprache: Übersetzung Deutsch → Englisch, die Ausgabe ist aber weder Deutsch "
            "noch Englisch.",
        ),
        (
            "en",
            FR,
            "Wrong language: translation German → English, but the output is neither German nor English.",
        ),
    ],
)
def test_wrong_language_texts(ui: str, output: str, expected: str) -> None:
    """The flag's text names the languages in the reader's language."""
    data = check(DE, output, task="translation", lang="de", target_lang="en").to_dict(lang=ui)
    assert [f["text"] for f in data["flags"] if f["code"] == "wrong_language"] == [expected]


@pytest.mark.parametrize("task", ["correction", "simplification", "summary", "structured"])
def test_only_translations_check_the_language(task: str) -> None:
    """Other tasks keep the source language; an English rewrite of an English text is no wrong language."""
    data = check(EN, EN, task=task, lang="en").to_dict()
    assert not any(f["code"] == "wrong_language" for f in data["flags"])


def test_any_profile_of_a_translation_checks_the_language() -> None:
    """The language is a rule of the translation task: a template profile without checks still gets it."""
    result = check(DE, DE, task="translation", lang="de", target_lang="en", checks=["numbers"])
    assert [f.stable_code for f in result.flags] == ["wrong_language"]
    assert result.counts() == {"language": 1}


def test_function_word_lists_are_disjoint_and_lower_case() -> None:
    """A word in both lists would count for both languages; `Analysis.words` are lower case."""
    lists = function_words()
    assert lists["de"] and lists["en"] and not lists["de"] & lists["en"]
    assert all(w == w.lower() and WORD.fullmatch(w) for ws in lists.values() for w in ws)


def test_detect_abstains_without_enough_function_words() -> None:
    """Too few function words: unsure (None), whatever they are."""
    assert detect(["kein", "erguss", "der", "lunge"]) is None
    assert detect(["kein", "erguss", "der", "lunge", "und", "herz"]) == "de"


def _corpus_translations() -> list[tuple[str, str, str, str]]:
    """Every translation (clean and seeded) the benchmark derives, and the pair batches' translations."""
    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    try:
        import guard_eval as ge
    finally:
        sys.path.remove(str(bench))
    rows = [
        (c.lang, c.target_lang or c.lang, c.source, c.output)
        for folder in (ge.CORPUS, ge.HELD_OUT, ge.HELD_OUT_2, ge.HELD_OUT_3)
        for c in ge.build_cases(ge.load_reports(folder))
        if c.task == "translation"
    ]
    rows += [
        (*p.languages, p.source, p.output)
        for batch in ge.pair_batches()
        for p in ge.load_pairs(batch)
        if p.task == "translation"
    ]
    return rows


def test_corpus_translations_never_flagged_and_their_sources_are() -> None:
    """No translation of the corpora is flagged; the same source handed back as its own translation is
    (positive control). Its speed is the benchmark's business (`bench/guard_eval.py`), not a timed test's."""
    rows = _corpus_translations()
    assert len(rows) > 1000
    missed = []
    for lang, target, source, output in rows:
        assert _language_flags(source, output, lang, target) == [], output[:80]
        if detect([m.group() for m in WORD.finditer(source.lower())]) != lang:
            missed.append(source[:80])
    assert not missed
