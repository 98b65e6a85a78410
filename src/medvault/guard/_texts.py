"""Clinician-facing texts of guard results in German and English, from the data file `data/texts.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

LANGS = ("de", "en")


@cache
def _texts() -> dict[str, Any]:
    return tomllib.loads(files("medvault.guard").joinpath("data/texts.toml").read_text(encoding="utf-8"))


def _lang(lang: str) -> str:
    return lang if lang in LANGS else "en"  # a UI language the guard has no texts for reads English


class _Params(dict[str, str]):
    """Format values: quoted words, levels and languages in the reader's language, "(nothing)" if absent."""

    def __init__(self, params: Mapping[str, str | None], lang: str) -> None:
        texts = _texts()
        super().__init__()
        self.none = texts["none"][lang]
        for key, value in params.items():
            if value is None:
                continue
            if key.endswith("_level"):
                self[key] = texts["certainty"].get(value, {}).get(lang, value)
            elif key.endswith("_lang"):
                self[key] = texts["language"].get(value, {}).get(lang, value)
            else:
                self[key] = f"„{value}“" if lang == "de" else f"'{value}'"

    def __missing__(self, key: str) -> str:
        return self.none


def flag_text(code: str, params: Mapping[str, str | None], lang: str) -> str:
    """One sentence in `lang` saying what changed, naming the words on both sides."""
    lang = _lang(lang)
    flags = _texts()["flag"]
    template = (flags.get(code) or flags["other"])[lang]
    return str(template.format_map(_Params(params, lang)))


def unchecked_text(reason: str, lang: str) -> str:
    """Why a passage was not checked, in `lang` (reasons `unsure_<code>` share one text)."""
    table = _texts()["unchecked"]
    key = "unsure" if reason.startswith("unsure") else reason
    return str((table.get(key) or table["unaligned"])[_lang(lang)])


def _aspects(names: list[str], lang: str) -> str:
    texts = _texts()
    words = [texts["aspect"].get(n, {}).get(lang, n) for n in names]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {texts['summary']['and'][lang]} {words[-1]}"


def summary_text(verdict: str, checked: list[str], not_checked: list[str], lang: str) -> str:
    """The result in one line: what is unchanged (or that something changed) and what was not checked."""
    lang = _lang(lang)
    template = _texts()["summary"][verdict][lang]
    text = template.format(checked=_aspects(checked, lang), not_checked=_aspects(not_checked, lang))
    return str(text[0].upper() + text[1:])
