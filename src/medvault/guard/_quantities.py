"""Finding every measurement, count, date and time in a report, normalised for comparison.

`1,5 cm`, `1.5 cm` and `15 mm` get the same key; `3–5 mm` and `3 x 4 x 5 cm` give each number the
unit written after the last one; `14.03.2024`, `2024-03-14` and `14 March 2024` are one date, and an
English slash date (`03/04/2024`) keeps both readings because it may be day- or month-first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ._lexicon import first_letters, trie_regex

Key = tuple[str, float]

# unit as written (lower case) -> (canonical unit, dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, str, float]] = {}
for _names, _unit, _dim, _factor in (
    ("mm millimeter millimetre millimeters millimetres", "mm", "length", 1),
    ("cm zentimeter centimeter centimetre centimeters centimetres", "cm", "length", 10),
    # Cubic and square units before the plain ones: "310 mm³" is a volume, not a length of 310 mm.
    ("mm³ mm3 kubikmillimeter", "mm³", "volume", 0.001),
    ("ml milliliter millilitre milliliters millilitres cm³ cm3 ccm", "ml", "volume", 1),
    ("mm² mm2 quadratmillimeter", "mm²", "area", 1),
    ("cm² cm2 quadratzentimeter", "cm²", "area", 100),
    ("cl zentiliter centiliter centilitre centiliters centilitres", "cl", "volume", 10),
    ("dl deziliter deciliter decilitre deciliters decilitres", "dl", "volume", 100),
    ("l liter litre liters litres", "l", "volume", 1000),
    ("ng/ml", "ng/ml", "concentration", 1),
    ("cm/s", "cm/s", "velocity", 1),
    ("m/s", "m/s", "velocity", 100),
    ("mmhg", "mmHg", "pressure", 1),
    ("hu", "HU", "density", 1),
    ("suv", "SUV", "uptake", 1),
    ("% prozent percent", "%", "percent", 1),
    ("° grad degree degrees", "°", "angle", 1),
    ("mg", "mg", "mass", 1),
    ("g", "g", "mass", 1000),
    ("kg", "kg", "mass", 1_000_000),
    ("gy", "Gy", "dose", 1000),
    ("mgy", "mGy", "dose", 1),
    ("msv", "mSv", "effective dose", 1),
    ("uhr o'clock", "o'clock", "clock", 1),
    ("tag tage tagen day days", "days", "duration", 1),
    ("woche wochen week weeks", "weeks", "duration", 7),
    ("monat monate monaten month months", "months", "duration", 30.4375),
    ("jahr jahre jahren year years", "years", "duration", 365.25),
    ("stunde stunden hour hours h", "hours", "duration", 1 / 24),
):
    for _name in _names.split():
        _UNITS[_name] = (_unit, _dim, _factor)

_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            "januar january jan",
            "februar february feb",
            "märz march mar",
            "april apr",
            "mai may",
            "juni june jun",
            "juli july jul",
            "august aug",
            "september sep sept",
            "oktober october oct okt",
            "november nov",
            "dezember december dec dez",
        ),
        start=1,
    )
    for name in names.split()
}
# Numbers written as words, as dictation engines and lay texts do: the parts of a number word (German
# writes one word, "dreiundzwanzig", "zweitausenddreiundzwanzig"; English several, "twenty-three",
# "twenty twenty three"). "ein"/"one" alone is an article or pronoun far more often than a number.
_UNIT_WORDS = {
    w: float(i)
    for i, words in enumerate(
        (
            "eins one",
            "zwei two",
            "drei three",
            "vier four",
            "fünf five",
            "sechs six",
            "sieben seven",
            "acht eight",
            "neun nine",
            "zehn ten",
            "elf eleven",
            "zwölf twelve",
            "dreizehn thirteen",
            "vierzehn fourteen",
            "fünfzehn fifteen",
            "sechzehn sixteen",
            "siebzehn seventeen",
            "achtzehn eighteen",
            "neunzehn nineteen",
        ),
        start=1,
    )
    for w in words.split()
}
_UNIT_WORDS["ein"] = 1.0
_TENS = {
    w: float(i * 10)
    for i, words in enumerate(
        (
            "zwanzig twenty",
            "dreißig dreissig thirty",
            "vierzig forty",
            "fünfzig fifty",
            "sechzig sixty",
            "siebzig seventy",
            "achtzig eighty",
            "neunzig ninety",
        ),
        start=2,
    )
    for w in words.split()
}
_SCALES = {"hundert": 100.0, "hundred": 100.0, "tausend": 1000.0, "thousand": 1000.0}
_SOFT_WORDS = frozenset({"beide", "beiden", "both"})
#: Words for a set of views by its size, also as the end of a compound ("Kahnbeinquartett" is the
#: "four-view scaphoid series"): a soft count like "beide".
_SERIES = {"quartett": 4.0, "quartet": 4.0}
_WORD_PARTS = sorted([*_UNIT_WORDS, *_TENS, *_SCALES, "und"], key=len, reverse=True)
_DE_BELOW_100 = re.compile(
    rf"(?:(?P<unit>{'|'.join(_UNIT_WORDS)})und)?(?P<tens>{'|'.join(_TENS)})|(?P<alone>{'|'.join(_UNIT_WORDS)})"
)


def _below_100(word: str) -> float | None:
    m = _DE_BELOW_100.fullmatch(word)
    if not m:
        return None
    if m.group("alone"):
        return _UNIT_WORDS[m.group("alone")]
    return _TENS[m.group("tens")] + (_UNIT_WORDS[m.group("unit")] if m.group("unit") else 0)


def _word_value(word: str) -> float | None:
    """The value of one number word: "vierzehn", "dreiundzwanzig", "zweitausenddreiundzwanzig"."""
    for scale, factor in sorted(_SCALES.items(), key=lambda item: -item[1]):
        head, found, rest = word.partition(scale)
        if found:
            left = _below_100(head) if head else 1.0
            right = _word_value(rest) if rest else 0.0
            return None if left is None or right is None else left * factor + right
    return _below_100(word)


@lru_cache(maxsize=65536)  # asked of every word pair the respelling compares
def spelled_number(text: str) -> float | None:
    """The value of a number written in words, None when the words are no single number.

    Several words make one number: tens and a unit ("twenty three"), a scale ("two hundred"), or a
    year spoken as two pairs of digits ("twenty twenty three", "nineteen ninety").
    """
    chunks: list[float] = []
    scaled = False
    for word in re.split(r"[\s-]+", text.lower()):
        if word in _SCALES and chunks:
            chunks[-1] *= _SCALES[word]
            scaled = True
            continue
        value = _word_value(word)
        if value is None:
            return None
        if chunks and chunks[-1] % 10 == 0 and 20 <= chunks[-1] < 100 and value < 10 and word in _UNIT_WORDS:
            chunks[-1] += value  # "twenty three"
        elif chunks and scaled and chunks[-1] % 100 == 0 and value < 100:
            chunks[-1] += value  # "two hundred twelve"
        else:
            chunks.append(value)
    if len(chunks) == 2 and not scaled and 10 <= chunks[0] < 100 and chunks[1] < 100:
        return chunks[0] * 100 + chunks[1]  # a spoken year
    return chunks[0] if len(chunks) == 1 else None


_L = r"[^\W\d_]"
# Tries, not plain alternations: the engine walks one branch per letter instead of trying every word.
_UNIT_RE = trie_regex(list(_UNITS))
_MONTH_RE = trie_regex(list(_MONTHS))
_WORD = rf"(?:{trie_regex(_WORD_PARTS)})+(?!{_L})"
# A hyphen joins a number to a unit word ("9-mm nodule", "nine-millimetre", "3-month"): a unit of
# letters only and of two or more, so that "L4-L5" (litre) or "C5-6" stay levels.
_UNIT_GAP = rf"(?:\s?|-(?={_L}{{2}}[^\W\d]*(?!\d)))"
# Scores and classes written in Roman numerals after their name ("Bosniak III", "Grad II", "stage IV",
# "Segment VII", also in a compound: "Grad-II-Chondropathie"): the numeral is the number; "IIF" (Bosniak)
# is its own class between II and III.
_SCORED = (
    r"(?:bosniak|grade|grad|stage|stadium|type|typ|class|klasse|segment|salter[\s-]harris|kellgren"
    r"(?:[\s-]lawrence)?|tanner|forrest|fazekas)"
)
_ROMAN = {"i": 1, "v": 5, "x": 10}
# A dictated spinal level spells its letter ("el one", "see five"): the number word after it is a level.
_SPELLED_LEVEL = r"(?:el|ell|see|cee|tee|ess|[lcts])"
_AFTER_SCORED = re.compile(rf"\b(?:{_SCORED}|{_SPELLED_LEVEL})[\s-]*$", re.IGNORECASE)
# ... or with the grade sign instead of the name ("Harnstau II°" is "Harnstau Grad II").
_NUMERAL = r"x{0,3}(?:ix|iv|v?i{0,3})"
# A numeral ends at a word's end, or at a hyphen before a word ("Grad-II-Chondropathie"; not "V-VIII").
_NUMERAL_END = rf"(?:(?![\w-])|(?=-(?![ivx]+\b){_L}{{3}}))"
# The letters a word alternative of `_PATTERN` may start with.
_FIRST_LETTERS = first_letters([*_MONTHS, "suv", *_WORD_PARTS, *_SOFT_WORDS, *_SCORED[3:].split("|"), *"ivx"])
_PATTERN = re.compile(
    # Every alternative starts with a digit or a letter after a non-letter; the lookaheads let the
    # engine skip all other positions at once.
    rf"(?=\d)(?:(?P<dmy>(?<![\d.])(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}|\d{{2}})(?![\d]))"
    rf"|(?P<iso>(?<!\d)(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?!\d))"
    rf"|(?P<slash>(?<!\d)(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}|\d{{2}})(?!\d))"
    rf"|(?P<named>(?<!\d)(\d{{1,2}})\.?\s+({_MONTH_RE})\.?\s+(\d{{4}}))"
    rf"|(?P<time>(?<!\d)(\d{{1,2}}):(\d{{2}})(?!\d))"
    rf"|(?P<num>(?<![\d.,])(\d+(?:[.,]\d+)?)(?:{_UNIT_GAP}({_UNIT_RE})(?!{_L}))?))"
    rf"|(?<!{_L})(?={_FIRST_LETTERS})(?:(?P<named_us>({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}}))"
    rf"|(?P<suv>suv(?:max|mean)?\s*(\d+(?:[.,]\d+)?))"
    rf"|(?P<word>{_WORD}(?:[ \t]*-?[ \t]*{_WORD})*)(?:{_UNIT_GAP}(?P<word_unit>{_UNIT_RE})(?!{_L}))?"
    rf"|(?P<soft>{'|'.join(_SOFT_WORDS)})(?!{_L})"
    rf"|(?P<roman>(?:{_SCORED}[\s-]*|(?={_NUMERAL}°))(?P<numeral>(?=[ivx]){_NUMERAL})(?P<f>f)?{_NUMERAL_END}))"
    # A set of views named by its size at the end of a word ("Kahnbeinquartett": four views); the
    # lookahead lets the engine pass other letters without entering the group.
    rf"|(?={first_letters(list(_SERIES))})(?P<series>{'|'.join(_SERIES)})(?!{_L})",
    re.IGNORECASE,
)
# "2:20 pm" is 14:20: a clock time written in 12-hour form is compared in 24-hour form.
_MERIDIEM = re.compile(r"\s?(?:(?P<am>a\.?\s?m)|(?P<pm>p\.?\s?m))\b\.?", re.IGNORECASE)
# What may stand between two numbers that share the unit written after the second: 3 x 4 cm, 3–5 mm.
_SHARED_UNIT_GAP = re.compile(r"\s*(?:x|×|\*|-|–|—|bis|to|und|and|by|mal)\s*", re.IGNORECASE)
_LIST_MARKER = re.compile(r"[.)]\s")


@dataclass(frozen=True, slots=True)
class Quantity:
    """One number as written, with its unit and a comparable value in the dimension's base unit."""

    start: int
    end: int
    text: str
    value: float
    unit: str
    dim: str
    base: float
    alt_base: float | None = None  # the other reading of an ambiguous slash date
    soft: bool = False  # "beide"/"both", "Quartett": matches its number, is never reported missing or new
    # Derived once: the number checks compare keys for every pair of quantities of the two texts.
    keys: tuple[Key, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = (self.dim, round(self.base, 6))
        keys = (key,) if self.alt_base is None else (key, (self.dim, round(self.alt_base, 6)))
        object.__setattr__(self, "keys", keys)

    def with_unit(self, unit: str, dim: str, factor: float) -> Quantity:
        return Quantity(self.start, self.end, self.text, self.value, unit, dim, self.value * factor)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _date(y: int, m: int, d: int) -> float:
    return float(y * 10_000 + m * 100 + d)


def _spelled(m: re.Match[str]) -> list[Quantity]:
    """Number words: one quantity for words that make one number, else one per word that is one.

    "one"/"eins" is a number only after a score name ("Bosniak one" = "Bosniak I"); elsewhere it is
    mostly an article or pronoun.
    """
    words, unit = m.group("word"), m.group("word_unit")
    value = spelled_number(words)
    scored = value == 1 and _AFTER_SCORED.search(m.string, max(0, m.start() - 30), m.start())
    if value is not None and (value > 1 or scored):
        q = Quantity(m.start(), m.end(), m.group(), value, "", "count", value)
        return [q.with_unit(*_UNITS[unit.lower()]) if unit else q]
    found = []
    for w in re.finditer(r"[^\W\d_]+", words):
        value = _word_value(w.group().lower())
        if value is not None and value > 1:
            at = m.start() + w.start()
            found.append(Quantity(at, at + len(w.group()), w.group(), value, "", "count", value))
    return found


def _roman(m: re.Match[str]) -> Quantity:
    """The number a Roman numeral after a score name stands for (see `_SCORED`)."""
    digits = [_ROMAN[c] for c in m["numeral"].lower()]
    value = float(sum(-d if d < after else d for d, after in zip(digits, [*digits[1:], 0], strict=True)))
    value += 0.5 if m["f"] else 0.0
    return Quantity(
        m.start("numeral"), m.end(), m.group()[m.start("numeral") - m.start() :], value, "", "count", value
    )


def _from_match(m: re.Match[str], text: str) -> Quantity | list[Quantity] | None:
    """The quantity one match of `_PATTERN` stands for; None for list markers ("1. ...")."""
    kind, g, start, end = m.lastgroup, m.groups(), m.start(), m.end()
    written = m.group()
    if m.group("word"):
        return _spelled(m)
    if kind == "roman":
        return _roman(m)
    if kind == "soft":
        return Quantity(start, end, written, 2.0, "", "count", 2.0, soft=True)
    if kind == "series":
        value = _SERIES[written.lower()]
        return Quantity(start, end, written, value, "", "count", value, soft=True)
    if kind == "dmy":
        return Quantity(start, end, written, 0, "", "date", _date(_year(g[3]), int(g[2]), int(g[1])))
    if kind == "iso":
        return Quantity(start, end, written, 0, "", "date", _date(int(g[5]), int(g[6]), int(g[7])))
    if kind == "slash":
        a, b, y = int(g[9]), int(g[10]), _year(g[11])
        return Quantity(start, end, written, 0, "", "date", _date(y, b, a), _date(y, a, b))
    if kind == "named":
        return Quantity(
            start, end, written, 0, "", "date", _date(int(g[15]), _MONTHS[g[14].lower()], int(g[13]))
        )
    if kind == "named_us":
        return Quantity(
            start, end, written, 0, "", "date", _date(int(g[25]), _MONTHS[g[23].lower()], int(g[24]))
        )
    if kind == "time":
        hour, meridiem = int(g[17]) % 24, _MERIDIEM.match(text, end)
        if meridiem and 1 <= hour <= 12:
            hour = hour % 12 + (12 if meridiem["pm"] else 0)
        return Quantity(start, end, written, 0, "", "time", hour * 60 + int(g[18]))
    if kind == "suv":
        value = _number(g[27])
        return Quantity(start, end, written, value, "SUV", "uptake", value)
    number, unit = g[20], g[21]
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].strip() and _LIST_MARKER.match(text, m.end(21)):
        return None
    value = _number(number)
    if unit is None:
        return Quantity(start, end, number, value, "", "count", value)
    canonical, dim, factor = _UNITS[unit.lower()]
    return Quantity(start, end, written, value, canonical, dim, value * factor)


def extract_quantities(text: str, lang: str) -> list[Quantity]:
    """Every quantity in `text`, in order; numbers joined by x/–/bis share the unit after the last.

    `lang` is accepted for symmetry with the other readers; both languages are parsed alike because
    dictated German uses decimal points as often as English reports use commas.
    """
    del lang
    found: list[Quantity] = []
    for m in _PATTERN.finditer(text):
        q = _from_match(m, text)
        found += q if isinstance(q, list) else [q] if q else []
    for i in range(len(found) - 2, -1, -1):
        q, nxt = found[i], found[i + 1]
        if q.dim == "count" and nxt.unit and _SHARED_UNIT_GAP.fullmatch(text, q.end, nxt.start):
            found[i] = q.with_unit(*_UNITS[nxt.unit.lower()])
    return found
