"""Assertion cues (negation, pseudo-negation, certainty, time) from the versioned data file `data/cues.toml`.

The lists are data so that they can be reviewed and extended without touching the scope rules in
`_text.py`; docs/guard.md says where they come from.
"""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

#: Certainty levels from most to least certain that a finding is there now.
LEVELS = ("present", "probable", "possible", "absent", "historical")
UNCERTAIN = frozenset({"probable", "possible"})

_DATA = tomllib.loads(files("medvault.guard").joinpath("data/cues.toml").read_text(encoding="utf-8"))
VERSION: int = _DATA["version"]


def _alternatives(fragments: list[str]) -> str:
    return "|".join(fragments)


def _negation(lang: str) -> re.Pattern[str]:
    families = _DATA["negation"][lang]
    groups = "|".join(
        f"(?P<{name}>{_alternatives(families[name])})" for name in ("forward", "backward", "around", "local")
    )
    return re.compile(rf"\b(?:{groups})(?:\b|(?<=-))")


def _pseudo(lang: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{_alternatives(_DATA['negation'][lang]['pseudo'])})\b")


# Words after which a hedge is attributive, of the noun after it: "stenosis with likely impingement",
# "effusion and questionable consolidation" hedge the impingement and the consolidation only, so such a
# hedge does not look back (cues.toml version 10).
_ATTRIBUTIVE = ("with", "and", "a", "an", "the", "of", "mit", "und", "ein", "eine", "einer", "einem", "einen")


def _certainty(lang: str, direction: str) -> re.Pattern[str]:
    families = _DATA["certainty"][lang][direction]
    groups = "|".join(
        f"(?P<{name}>{_alternatives(families[name])})"
        for name in ("possible", "probable", "historical")
        if families[name]
    )
    attributive = ""
    if direction == "backward":
        # The cue itself is checked first: the many lookbehinds then run where a cue starts, not at
        # every word of the text.
        cue = _alternatives(
            [fragment for name in ("possible", "probable", "historical") for fragment in families[name]]
        )
        attributive = rf"(?=(?:{cue})(?!\w))" + "".join(rf"(?<!\b{word}\s)" for word in _ATTRIBUTIVE)
    return re.compile(rf"(?<!\w){attributive}(?:{groups})(?!\w)" if groups else r"(?!)")  # (?!) never matches


#: Words of a sentence that compares the two sides.
COMPARISON = {
    lang: re.compile(rf"(?<!\w)(?:{_alternatives(_DATA['comparison'][lang])})(?!\w)") for lang in ("de", "en")
}
NEG_CUES = {lang: _negation(lang) for lang in ("de", "en")}
#: Word endings that negate the finding before them in a compound ("steinfrei", "tumour-free").
NEG_SUFFIXES = {lang: tuple(_DATA["negation"][lang]["suffix"]) for lang in ("de", "en")}
PSEUDO_NEG = {lang: _pseudo(lang) for lang in ("de", "en")}
#: Word endings that name a procedure on the finding before them in a word ("lumpectomy").
PROCEDURE_SUFFIXES = {lang: tuple(_DATA["procedure"][lang]) for lang in ("de", "en")}
#: Per language and scope: "forward" cues stand before the finding, "backward" ones after it, "in_word"
#: ones make up the finding's own word.
CERTAINTY_CUES = {
    lang: {direction: _certainty(lang, direction) for direction in ("forward", "backward", "in_word")}
    for lang in ("de", "en")
}


_IMPORTANCE = tomllib.loads(
    files("medvault.guard").joinpath("data/importance.toml").read_text(encoding="utf-8")
)
#: Concept ids whose omission is major (data/importance.toml).
ACTIONABLE: frozenset[str] = frozenset(_IMPORTANCE["actionable"])
#: Concept ids actionable only beside a finding implying one of the listed concepts (data/importance.toml).
DEPENDENT: dict[str, frozenset[str]] = {
    concept: frozenset(heads) for concept, heads in _IMPORTANCE["dependent"].items()
}
#: Findings that matter by their grade (data/importance.toml): a mild one outside the impression does not.
GRADED: frozenset[str] = frozenset(_IMPORTANCE["graded"])
#: Concept ids too unspecific to be compared through related findings or other organs.
GENERIC: frozenset[str] = frozenset(_IMPORTANCE["generic"])
RECOMMENDATION = {
    lang: re.compile(rf"\b(?:{_alternatives(_IMPORTANCE['recommendation'][lang])})\b")
    for lang in ("de", "en")
}

#: Per language: word -> meaning class (a side, a direction, negation) for reading typo fixes.
MEANING: dict[str, dict[str, str]] = {
    lang: {word: cls for cls, words in _DATA["meaning"][lang].items() for word in words}
    for lang in ("de", "en")
}

#: Per language: (first part of a compound, meaning class), longest first ("Innen|knöchel").
MEANING_PREFIX: dict[str, list[tuple[str, str]]] = {
    lang: sorted(
        ((prefix, cls) for cls, prefixes in _DATA["meaning_prefix"][lang].items() for prefix in prefixes),
        key=lambda item: -len(item[0]),
    )
    for lang in ("de", "en")
}

#: Per language: spoken punctuation of a dictation ("Punkt", "comma").
DICTATION: dict[str, frozenset[str]] = {lang: frozenset(_DATA["dictation"][lang]) for lang in ("de", "en")}
#: Per language: dictated word -> the negation word it sounds like ("know" -> "no").
HOMOPHONES: dict[str, dict[str, str]] = {lang: dict(_DATA["homophones"][lang]) for lang in ("de", "en")}
#: Per language: a spoken decimal number ("2 point 3"): groups `whole`, `fraction`.
SPOKEN_DECIMAL = {
    lang: re.compile(
        rf"\b(?P<whole>\d+)\s+(?:{_alternatives(_DATA['spoken_decimal'][lang])})\s+(?P<fraction>\d+)\b",
        re.IGNORECASE,
    )
    for lang in ("de", "en")
}

#: The axis of each direction class; a finding's direction is compared axis by axis.
AXES = {
    "medial": "mediolateral",
    "lateral": "mediolateral",
    "anterior": "anteroposterior",
    "posterior": "anteroposterior",
    "cranial": "craniocaudal",
    "caudal": "craniocaudal",
    "proximal": "proximodistal",
    "distal": "proximodistal",
}
#: Per language: (part of a compound, direction class) found anywhere in a word ("Deckplatte").
DIRECTION_PARTS: dict[str, list[tuple[str, str]]] = {
    lang: [(part, cls) for cls, parts in _DATA["direction_part"][lang].items() for part in parts]
    for lang in ("de", "en")
}
#: Per language: word -> direction class, technical and lay words.
DIRECTIONS: dict[str, dict[str, str]] = {
    lang: {
        **{w: c for w, c in MEANING[lang].items() if c in AXES},
        **{w: c for c, words in _DATA["meaning_lay"][lang].items() for w in words},
    }
    for lang in ("de", "en")
}


def _words(fragments: list[str]) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{_alternatives(fragments)})(?!\w)")


#: Per language: words of a heading by what it introduces: the clinical context ("Klinik:",
#: "Fragestellung:": "history" or "question") or the impression ("Beurteilung:": "impression"); see
#: `_text.Analysis.heading_kinds`.
HEADING_KINDS = {
    lang: {kind: _words(_DATA["context"][lang][kind]) for kind in ("question", "history", "impression")}
    for lang in ("de", "en")
}
#: Per language: words that make a question of their segment anywhere ("Frage nach", "?pneumonia").
ASKS = {
    lang: re.compile(rf"(?<!\w)(?:{_alternatives(_DATA['context'][lang]['asks'])})") for lang in ("de", "en")
}
#: Per language: words that say why the study was made ("was done because of"): what follows them in
#: their segment is history (see `_text.Analysis.level`).
TELLS = {
    lang: re.compile(rf"(?<!\w)(?:{_alternatives(_DATA['context'][lang]['tells'])})(?!\w)")
    for lang in ("de", "en")
}
