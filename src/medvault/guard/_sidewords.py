"""Side words ("links", "re.", "bilateral"): finding them, and telling a direction ("nach rechts") or
a compound ("Rechtsherzbelastung") from a plain side."""

from __future__ import annotations

import re

_LETTER = r"[^\W\d_]"
#: Reports abbreviate a side to the first letter of a lobe, quadrant, fossa, heart chamber or artery
#: ("RUL", "LLL", "RUQ", "LIF", "LV", "RCA", "LAD", "LCx", "L MCA"), in both languages (a translation
#: keeps them). English reports also write the letter alone before a word ("R kidney", "L M1 segment",
#: "R-sided", but not "1.5 l fluid"). The text is lower-cased, so a letter counts only alone or in one
#: of these fixed abbreviations.
_GLUED = {"l": "ul|ll|uq|lq|if|ca|ad|cx|m|mca|ica|cca|v", "r": "ul|ml|ll|uq|lq|if|ca|mca|ica|cca|v"}
#: "bi-" before a region names both sides of it in both languages ("bifrontal", "bibasal", "bihilar"):
#: "in both frontal lobes".
_BI_REGION = (
    r"bi(?:frontal|parietal|temporal|okzipital|occipital|basal|basilar|hil[äa]r|apikal|apical|hemisph)\w*"
)


def _abbreviated(letter: str, alone: bool) -> str:
    """A side letter starting one of its abbreviations, or (`alone`) standing before a word."""
    glued = rf"{letter}(?:{_GLUED[letter]})(?!{_LETTER})"
    # Not a quantity ("1.5 l fluid", "mmol/l") nor an initial ("Dr R Smith").
    not_after = r"(?<!\d\s)(?<![\d/])(?<!dr\s)(?<!dr\.\s)(?<!mr\s)(?<!ms\s)"
    return rf"{glued}|{not_after}{letter}(?=\s+{_LETTER}\w|-sided)" if alone else glued


# Every side word starts with one of a few letters: the lookahead passes other words at once.
_SIDES = {
    "de": re.compile(
        rf"(?<!{_LETTER})(?=[lrb])(?:(?P<left>links\w*|linke[nmrs]?|li\.|{_abbreviated('l', False)})"
        rf"|(?P<right>rechts\w*|rechte[nmrs]?|re\.|{_abbreviated('r', False)})"
        rf"|(?P<both>beid\w*seit\w*|bds\.|bilateral\w*|beide[nrs]?(?!\w)|{_BI_REGION}))(?!{_LETTER})",
    ),
    "en": re.compile(
        rf"(?<!{_LETTER})(?=[lrbe])(?:(?P<left>left\w*|lt\.|{_abbreviated('l', True)})"
        rf"|(?P<right>right\w*|rt\.|{_abbreviated('r', True)})"
        rf"|(?P<both>bilateral\w*|both|either(?=\s+(?:side|hemi))|{_BI_REGION}))"
        rf"(?!{_LETTER})",
    ),
}
# A side word that names a direction ("Mittellinienverlagerung nach rechts", "shift to the left").
_DIRECTION_BEFORE = re.compile(r"(?:\bnach|\bto\s+the|\btowards?\s+the)\s+$")
_DIRECTION_WORD = re.compile(r"(?:links|rechts)wärts|(?:left|right)wards?")
_UNBOUND = re.compile(
    r"(?:links|rechts)(?:seitig\w*|betont\w*)?|linke[nmrs]?|rechte[nmrs]?|li\.|re\.|beid\w*|bds\.|bilateral\w*"
)
