"""The guard's vocabulary: anatomy and findings in German and English, mapped to shared concept ids.

One table row per concept: `id | kind | German forms | English forms | implied concepts`; an indented
line continues the row above it.

- kind: `A` anatomy, `F` finding (pathology or abnormal sign), `D` device, `N` a statement that an
  organ is normal. Only findings carry negation polarity and count as "new findings"; anatomy and
  devices give minor flags at most; `N` only helps to tell clauses apart. A row with id and kind
  `-` lists phrases that hold a form but name no concept ("in this spot": a place, not a lesion);
  as the longer match they hide the form inside them.
- forms are lower-case literal stems. German forms match anywhere inside a word, because German
  builds compounds (`Pleuraerguss`, `Unterlappenarterie`), unless they start with `^`. English forms
  must start a word unless they start with `*`. A trailing `#` requires the word to end there.
  Longer forms win over shorter ones at the same position, so `pleuraerguss` beats `pleura`.
- implied: concepts an output may mention when the source mentions this one (broader terms, the organ
  of an organ-specific finding, lay paraphrases); this is what lets simplifications and translations
  use their own vocabulary without being flagged.

The table is general radiology vocabulary, not a copy of the benchmark corpus; extend it freely.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

Kind = Literal["A", "F", "D", "N"]

#: The table is data (data/lexicon.txt): reviewed and versioned apart from the matching code.
_TABLE = files("medvault.guard").joinpath("data/lexicon.txt").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Concept:
    id: str
    kind: Kind
    implies: frozenset[str]


#: The id of rows whose phrases name no concept (they only keep a shorter form from matching).
_NO_CONCEPT = "-"


def _parse(table: str) -> tuple[dict[str, Concept], dict[str, dict[str, str]]]:
    concepts: dict[str, Concept] = {}
    forms: dict[str, dict[str, str]] = {"de": {}, "en": {}}
    lines = [line for line in table.splitlines() if not line.startswith("#")]
    rows = re.sub(r"\n\s+", " ", "\n".join(lines).strip())  # an indented line continues the row above
    for line in rows.splitlines():
        cid, kind, de, en, implies = (part.strip() for part in line.split("|"))
        if cid != _NO_CONCEPT:
            concepts[cid] = Concept(cid, kind, frozenset(implies.split()))  # type: ignore[arg-type]
        for lang, cell in (("de", de), ("en", en)):
            for form in filter(None, (f.strip() for f in cell.split(","))):
                forms[lang][form] = cid
    return concepts, forms


CONCEPTS, _FORMS = _parse(_TABLE)

_LETTER = r"[^\W\d_]"
#: Trie characters with a meaning: a space matches any whitespace, `#` says the word ends here.
_CHAR_REGEX = {" ": r"\s+", "#": f"(?!{_LETTER})"}


def _trie(words: list[str]) -> dict[str, dict]:
    """The words as a prefix tree: a node per character, "" where a word ends."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return trie


def _render(node: dict[str, dict]) -> str:
    """The regex of a trie node: an alternation over its children, optional where a word ends here."""
    branches = [
        _CHAR_REGEX.get(char, re.escape(char)) + _render(child)
        for char, child in sorted(node.items())
        if char
    ]
    end = "" in node
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy optional child: a longer word is preferred over the prefix that also ends here.
    return f"(?:{body})?" if end else body


def trie_regex(words: list[str]) -> str:
    """An alternation over literal words as a prefix trie: fast, and the longest match wins."""
    return _render(_trie(words))


def first_letters(words: list[str]) -> str:
    return "[" + "".join(sorted({re.escape(w[0]) for w in words})) + "]"


@cache
def form_pattern(lang: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex finding every form of `lang`, and a map from the matched form to its concept.

    Built on first use rather than at import: compiling the two tries takes about 0.1 s.
    """
    start_only: list[str] = []
    inner: list[str] = []
    lookup: dict[str, str] = {}
    for raw, cid in _FORMS[lang].items():
        form = raw.lstrip("^*")
        word_start = raw.startswith("^") or (lang == "en" and not raw.startswith("*"))
        (start_only if word_start else inner).append(form)
        lookup[form.rstrip("#")] = cid
    # At a word start every form may match (the longest wins); inside a word only the inner ones. One
    # alternative per first letter, which the engine tells from the letter at hand: only there does it
    # test for a word start, one character further back as the letter is read, and walk the tries.
    # A negating prefix ("un", "non") may stand before a word-start form: "uncomplicated".
    start = f"(?:(?<!{_LETTER}.)|(?<=(?<!{_LETTER})un.)|(?<=(?<!{_LETTER})non.))"
    every, inside = _trie(start_only + inner), _trie(inner)
    alternatives = []
    for char in sorted(every.keys() | inside.keys()):
        if char in _CHAR_REGEX:
            raise ValueError(f"a {lang} form starts with {char!r}")  # a blank or an end, not a letter
        branches = [start + _render(every[char])] if char in every else []
        branches += [_render(inside[char])] if char in inside else []
        alternatives.append(f"{re.escape(char)}(?:{'|'.join(branches)})")
    return re.compile("|".join(alternatives)), lookup


def concept_of(lang: str, matched: str) -> str | None:
    """The concept a form matched by `form_pattern(lang)` belongs to."""
    cid = form_pattern(lang)[1].get(" ".join(matched.lower().split()))
    return None if cid == _NO_CONCEPT else cid


@cache
def implied(concept_id: str) -> frozenset[str]:
    """The concept and everything it implies, transitively."""
    seen = {concept_id}
    todo = [concept_id]
    while todo:
        for other in CONCEPTS[todo.pop()].implies:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return frozenset(seen)


def closure(concept_ids: Iterable[str]) -> set[str]:
    """The concepts plus everything they imply."""
    return set().union(*(implied(c) for c in concept_ids))
