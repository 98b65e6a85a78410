"""Side words ("links", "re.", "bilateral"): finding them, and telling a direction ("nach rechts") or
a compound ("Rechtsherzbelastung") from a plain side."""

from __future__ import annotations

import re

_LETTER = r"[^\W\d_]"

_SIDES = {
    "de": re.compile(
        rf"(?<!{_LETTER})(?:(?P<left>links\w*|linke[nmrs]?|li\.)|(?P<right>rechts\w*|rechte[nmrs]?|re\.)"
        rf"|(?P<both>beid\w*seit\w*|bds\.|bilateral\w*|beide[nrs]?(?!\w)))(?!{_LETTER})",
    ),
    "en": re.compile(
        rf"(?<!{_LETTER})(?:(?P<left>left\w*|lt\.)|(?P<right>right\w*|rt\.)"
        r"|(?P<both>bilateral\w*|both|either(?=\s+(?:side|hemi))))"
        rf"(?!{_LETTER})",
    ),
}
# A side word that names a direction ("Mittellinienverlagerung nach rechts", "shift to the left").
_DIRECTION_BEFORE = re.compile(r"(?:\bnach|\bto\s+the|\btowards?\s+the)\s+$")
_DIRECTION_WORD = re.compile(r"(?:links|rechts)wärts|(?:left|right)wards?")
_UNBOUND = re.compile(
    r"(?:links|rechts)(?:seitig\w*|betont\w*)?|linke[nmrs]?|rechte[nmrs]?|li\.|re\.|beid\w*|bds\.|bilateral\w*"
)
