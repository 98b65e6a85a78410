"""Spelling-only differences between source and output are removed before any check reads them.

The source of a correction is full of typos ("Pleuraergus", "rehcts", "Laesion"), and a model's output
may have its own. Within one language, words are aligned (difflib); each aligned pair that differs only
in spelling gets one spelling on both sides, the one the guard's vocabulary recognises (ties: the
output's). Checks then compare like with like, and a typo never reads as a changed side or finding.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache
from re import Match

from medvault.guard._context import Opcodes
from medvault.guard._cues import HOMOPHONES, NEG_CUES, SPOKEN_DECIMAL
from medvault.guard._lexicon import form_pattern
from medvault.guard._quantities import spelled_number
from medvault.guard._sidewords import _SIDES
from medvault.guard._spelling import Replacement, _apply, similar
from medvault.guard._text import WORD

_LOCAL_WORDS = 12  # the longest replaced passage (words, shorter side) still read as typos


def recognised(word: str, lang: str) -> int:
    """How much of the guard's vocabulary (concepts, side words, negation cues) a word contains: of two
    spellings, the one recognised more is kept."""
    lower = word.lower()
    return (
        len(form_pattern(lang)[0].findall(lower))
        + bool(_SIDES[lang].fullmatch(lower))
        + bool(NEG_CUES[lang].fullmatch(lower))
    )


def respellings(source: str, output: str, lang: str) -> tuple[list[Replacement], list[Replacement], Opcodes]:
    """Replacements for the source and for the output that give both the same spelling, and the word
    alignment they came from (word for word the same as that of the respelled texts' `words`)."""
    fix_src = _decimals(source, output, lang)
    fix_out: list[Replacement] = []
    a = list(WORD.finditer(source))
    if fix_src:  # words a spoken decimal replaces are read as that number
        a = [m for m in a if not any(s <= m.start() < e for s, e, _ in fix_src)]
    b = list(WORD.finditer(output))
    keys_a = [m.group().lower() for m in a]
    keys_b = [m.group().lower() for m in b]
    opcodes = SequenceMatcher(None, keys_a, keys_b, autojunk=False).get_opcodes()
    joined = bool(fix_src)
    for op, i1, i2, j1, j2 in opcodes:
        # A typo is a local edit; a longer passage written anew (lay language, a summary) is no
        # respelling, and comparing its words pairwise costs time and invents pairs ("kleinen"/"keine").
        if op != "replace" or min(i2 - i1, j2 - j1) > _LOCAL_WORDS:
            continue
        xs, ys = a[i1:i2], b[j1:j2]
        while join := _join(xs, ys):
            first, last, y = join
            fix_src.append((xs[first].start(), xs[last].end(), y.group()))
            xs = [x for k, x in enumerate(xs) if not first <= k <= last]
            ys = [other for other in ys if other is not y]
            joined = True
        for x, y in _pairs(xs, ys, lang):
            if recognised(x.group(), lang) > recognised(y.group(), lang):
                fix_out.append((y.start(), y.end(), x.group()))
            else:
                fix_src.append((x.start(), x.end(), y.group()))
    if joined:  # words were merged: the respelled texts have an alignment of their own
        words_a, words_b = (
            [m.group().lower() for m in WORD.finditer(_apply(text, fixes)[0])]
            for text, fixes in ((source, fix_src), (output, fix_out))
        )
        opcodes = SequenceMatcher(None, words_a, words_b, autojunk=False).get_opcodes()
    return fix_src, fix_out, opcodes


def _decimals(source: str, output: str, lang: str) -> list[Replacement]:
    """Spoken decimals of a dictation ("2 point 3") that the output writes as a number ("2.3"): the
    source is read as written, so that the number compares with itself."""
    fixes: list[Replacement] = []
    for m in SPOKEN_DECIMAL[lang].finditer(source):
        whole, fraction = m.group("whole"), m.group("fraction")
        written = re.search(rf"(?<![\d.,]){whole}([.,]){fraction}(?![\d])", output)
        if written:
            fixes.append((m.start(), m.end(), f"{whole}{written.group(1)}{fraction}"))
    return fixes


def _join(xs: list[Match[str]], ys: list[Match[str]]) -> tuple[int, int, Match[str]] | None:
    """Dictated words the output writes as one ("Galea Hämatom" -> "Galeahämatom", "pseudo cyst" ->
    "pseudocyst"): the index of the first and of the last source word, and the output word."""
    # The joined runs of two and three source words do not depend on the output word: build them once.
    lowered = [x.group().lower() for x in xs]
    runs = [
        (k, n, joined)
        for k in range(len(xs))
        for n in (2, 3)
        if k + n <= len(xs) and (joined := "".join(lowered[k : k + n])).isalpha()
    ]
    for y in ys:
        word = y.group().lower()
        if len(word) < 6:
            continue
        for k, n, joined in runs:
            if joined[0] == word[0] and similar(joined, word):
                return k, k + n - 1, y
    return None


@lru_cache(maxsize=65536)  # a rewritten passage compares every output word with many source words
def _alike(x: str, y: str, lang: str) -> bool:
    """A spelling variant, or a dictated homophone of the written word ("know" for "no"). A number word
    is never respelled ("Three" is no typo of "There", "vierzehn" none of "vierzig"): the numbers check
    compares numbers by value. A word is respelled into or out of a negation only for a slip of the
    negation itself, transposed or doubled letters ("kien", "noo"): "kleinen" is no typo of "keinen",
    and reading it as one would hide a negation the output added, or invent one it never had."""
    if HOMOPHONES[lang].get(x) == y:
        return True
    if spelled_number(x) is not None or spelled_number(y) is not None:
        return False
    negating = NEG_CUES[lang].fullmatch
    if bool(negating(x)) != bool(negating(y)):
        return (sorted(x) == sorted(y) or _undoubled(x) == _undoubled(y)) and similar(x, y)
    return similar(x, y)


def _undoubled(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def _pairs(xs: list[Match[str]], ys: list[Match[str]], lang: str) -> list[tuple[Match[str], Match[str]]]:
    """Word pairs of one replaced passage that differ only in spelling, in order.

    Passages of unequal length ("No pneumoperitooneum" -> "pneumoperitoneum", a dropped word beside a
    typo) are matched greedily, each output word with the next similar source word."""
    pairs: list[tuple[Match[str], Match[str]]] = []
    # Each source word is tried against many output words: read it once.
    words = [x.group().lower() if x.group().isalpha() else None for x in xs]
    start = 0
    for y in ys:
        if not y.group().isalpha():
            continue
        word = y.group().lower()
        for k in range(start, len(xs)):
            x = words[k]
            if x is not None and _alike(x, word, lang):
                pairs.append((xs[k], y))
                start = k + 1
                break
    return pairs
