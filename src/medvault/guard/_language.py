"""Translations only: is the output written in the target language (German or English) at all?

The detector counts function words of each language (`data/language.toml`) among the output's words:
medical terms, numbers and abbreviations are shared by both languages and count for neither. It
decides only when enough function words are there and one language clearly dominates; a short or
mixed output gets no flag (abstention), since a wrong flag here would discard a whole translation.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files

from medvault.guard._context import Pair
from medvault.guard._model import Flag

#: Fewer function words than this (of both languages together) is too short to tell. Telegraphic
#: report style ("Kein Erguss. Herz normal groß.") has few of them, hence a low bar.
MIN_FUNCTION_WORDS = 3
#: The share of function words one language needs to count as the output's language.
DOMINANT_SHARE = 0.8
#: "Neither German nor English": at least this many words, of which at most this share are function words
#: of either language (German and English reports, telegraphic ones included, stay far above it).
NEITHER_MIN_WORDS = 20
NEITHER_MAX_SHARE = 0.04

OTHER = "other"  # the detected language when the output is clearly neither German nor English


@cache
def function_words() -> dict[str, frozenset[str]]:
    """The function-word list of each language, from the versioned data file."""
    data = tomllib.loads(files("medvault.guard").joinpath("data/language.toml").read_text(encoding="utf-8"))
    return {lang: frozenset(data[lang]) for lang in ("de", "en")}


def detect(words: list[str]) -> str | None:
    """The language of lower-case `words`: "de", "en", OTHER, or None when unsure (short or mixed)."""
    lists = function_words()
    hits = {lang: sum(w in listed for w in words) for lang, listed in lists.items()}
    total = sum(hits.values())
    letter_words = sum(w.isalpha() and len(w) > 1 for w in words)
    if letter_words >= NEITHER_MIN_WORDS and total <= NEITHER_MAX_SHARE * letter_words:
        return OTHER
    if total < MIN_FUNCTION_WORDS:
        return None
    lang, top = max(hits.items(), key=lambda item: item[1])
    return lang if top >= DOMINANT_SHARE * total else None


def wrong_language(pair: Pair) -> list[Flag]:
    """A major flag when a translation's output is clearly in the source language or in neither."""
    source_lang, target_lang = pair.source.lang, pair.output.lang
    found = detect([m.group() for m in pair.output.words])
    if found is None or found == target_lang:
        return []
    end = len(pair.output.respelled.rstrip())  # not empty: a decision needs words
    return [
        Flag(
            "language",
            f"translation {source_lang}->{target_lang}: the output reads as {found}",
            "major",
            output_span=(0, end),
            code="wrong_language",
            # The words of the whole output are no useful label: the flag names languages instead.
            params={
                "source": None,
                "output": None,
                "source_lang": source_lang,
                "target_lang": target_lang,
                "output_lang": found,
            },
        )
    ]
