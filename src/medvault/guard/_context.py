"""What every check receives: the two analysed texts and the rules of the task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property

from medvault.guard._model import Flag, Severity
from medvault.guard._text import Analysis

#: difflib opcodes over two word sequences: (tag, i1, i2, j1, j2).
Opcodes = Sequence[tuple[str, int, int, int, int]]


@dataclass(frozen=True, slots=True)
class TaskRules:
    """How strict each check is for one task type (a correction may drop nothing, a summary may)."""

    checks: tuple[str, ...]  # the default guard profile
    number_counts: bool  # every occurrence of a number must survive, not only every value
    missing_number: Severity | None
    missing_side: Severity
    omission: Severity | None  # a positive finding of the source is missing from the output
    omission_negated: Severity | None  # a negative finding ("kein Erguss") is missing
    new_anatomy: Severity | None  # the output names an organ the source does not
    verbatim: bool = False  # the output follows the source word for word: compare aligned words too
    lay: bool = False  # lay language: explanations add words the source lacks; only actionable ones are sure
    target_language: bool = False  # the output must be written in the target language (translations)


@dataclass(frozen=True)
class Pair:
    source: Analysis
    output: Analysis
    rules: TaskRules
    aligned: Opcodes | None = None  # from `respellings`, same language only

    @cached_property
    def word_opcodes(self) -> Opcodes:
        """difflib's alignment of the two word sequences (`Analysis.words`), shared by the checks."""
        if self.aligned is not None:
            return self.aligned
        a = [m.group() for m in self.source.words]
        b = [m.group() for m in self.output.words]
        return SequenceMatcher(None, a, b, autojunk=False).get_opcodes()

    @property
    def same_language(self) -> bool:
        return self.source.lang == self.output.lang


#: The shape of every check: a pure function (or callable object) from a pair to its flags.
Check = Callable[[Pair], list[Flag]]
