"""The guard's entry point: pick the task's profile, run its checks over the analysed pair."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from medvault.errors import GuardError
from medvault.guard._context import Check, Pair, TaskRules
from medvault.guard._edits import EditBudget
from medvault.guard._findings import new_findings, omissions
from medvault.guard._language import wrong_language
from medvault.guard._laterality import laterality
from medvault.guard._model import Flag, GuardResult, Span, Unchecked
from medvault.guard._negation import negation
from medvault.guard._numbers import numbers
from medvault.guard._respell import respellings
from medvault.guard._text import WORD, Analysis

LANGUAGES = ("de", "en")

#: Every check by the name a template's guard profile uses.
CHECKS: dict[str, Check] = {
    "laterality": laterality,
    "negation": negation,
    "numbers": numbers,
    "new_findings": new_findings,
    "omissions": omissions,
    "edit_budget": EditBudget(),
}

_FAITHFUL = ("laterality", "negation", "numbers", "new_findings", "omissions")

#: Per task: the default profile and how strict the checks are.
TASKS: dict[str, TaskRules] = {
    "correction": TaskRules(
        checks=(*_FAITHFUL, "edit_budget"),
        number_counts=True,
        missing_number="major",
        missing_side="major",
        omission="major",
        omission_negated="major",
        new_anatomy="minor",
        verbatim=True,
    ),
    "translation": TaskRules(
        checks=_FAITHFUL,
        number_counts=True,
        missing_number="major",
        missing_side="major",
        omission="major",
        omission_negated="major",
        new_anatomy="minor",
        target_language=True,
    ),
    "simplification": TaskRules(
        checks=_FAITHFUL,
        number_counts=False,
        missing_number="minor",
        missing_side="minor",
        omission="minor",
        omission_negated=None,
        new_anatomy=None,
        lay=True,
    ),
    "structured": TaskRules(
        checks=_FAITHFUL,
        number_counts=False,
        missing_number="major",
        missing_side="major",
        omission="major",
        omission_negated="minor",
        new_anatomy="minor",
    ),
    "summary": TaskRules(
        checks=_FAITHFUL,
        number_counts=False,
        missing_number=None,
        missing_side="minor",
        omission=None,
        omission_negated=None,
        new_anatomy=None,
    ),
}


def _order(flag: Flag) -> tuple[int, int]:
    span = flag.output_span or flag.source_span or (0, 0)
    return (0 if flag.output_span else 1, span[0])


def check(
    source: str,
    output: str,
    *,
    task: str,
    lang: str,
    target_lang: str | None = None,
    checks: Sequence[str] | None = None,
) -> GuardResult:
    """Check `output` against the `source` it was made from; see docs/guard.md.

    `lang` is the source's language, `target_lang` the output's (default: the same; required for
    translations). `checks` names the checks to run (a template's guard profile); None runs the
    task's default profile. Raises GuardError for an unknown task, language or check name.
    """
    if task not in TASKS:
        raise GuardError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    out_lang = target_lang or lang
    for name, value in (("lang", lang), ("target_lang", out_lang)):
        if value not in LANGUAGES:
            raise GuardError(f"unsupported {name} {value!r}; expected one of {', '.join(LANGUAGES)}")
    if task == "translation" and out_lang == lang:
        raise GuardError("a translation needs a target_lang different from lang")
    if not isinstance(source, str) or not isinstance(output, str):
        raise GuardError("source and output must be text")
    rules = TASKS[task]
    names = tuple(checks) if checks is not None else rules.checks
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise GuardError(f"unknown check(s) {', '.join(unknown)}; expected some of {', '.join(CHECKS)}")
    if _alignment_cost(source, output) > _ALIGNMENT_BUDGET:
        # A text that repeats a few words thousands of times (a model caught in a loop, pasted filler)
        # would take the word alignment seconds to minutes: not checked, said so, at once.
        return GuardResult(task, names, [], [Unchecked("output", (0, len(output)), "too_repetitive")])
    fix_src, fix_out, aligned = respellings(source, output, lang) if out_lang == lang else ([], [], None)
    pair = Pair(Analysis(source, lang, fix_src), Analysis(output, out_lang, fix_out), rules, aligned)
    # The language is a rule of the task, not a profile check: whatever a translation template's
    # profile, an answer in the wrong language makes every comparison moot.
    found = [flag for name in names for flag in CHECKS[name](pair)]
    if rules.target_language:
        found += wrong_language(pair)
    flags = [_located(flag, pair, source, output) for flag in found]
    # Abstention matters for major flags only: a minor one never changes the verdict and stays a flag.
    unsure = [_unchecked(f) for f in flags if not f.confident and f.severity == "major"]
    sure = [f for f in flags if f.confident or f.severity != "major"]
    return GuardResult(
        task, names, sorted(sure, key=_order), sorted(set(unsure), key=lambda u: (u.side, u.span))
    )


# Pairs of equal words between the two texts. The word alignment's time grows with it: about 30,000 for
# the longest report the workbench takes (20,000 characters, ~2,700 words; 17 ms), 200,000 for 1,000
# repeats of one word against 200 (1.8 s), 1.25 million for 2,500 against 500 (20 s).
_ALIGNMENT_BUDGET = 200_000


def _alignment_cost(source: str, output: str) -> int:
    """How many (source word, output word) pairs are equal, case aside."""
    counts = Counter(WORD.findall(output.lower()))
    return sum(map(counts.__getitem__, WORD.findall(source.lower())))


def _unchecked(flag: Flag) -> Unchecked:
    """A flag the check is not sure of becomes a passage shown as not checked (output side first)."""
    if flag.output_span:
        return Unchecked("output", flag.output_span, f"unsure_{flag.stable_code}")
    assert flag.source_span is not None  # every flag points at one text at least
    return Unchecked("source", flag.source_span, f"unsure_{flag.stable_code}")


def _words(text: str, span: Span | None) -> str | None:
    return " ".join(text[span[0] : span[1]].split()) or None if span else None


def _located(flag: Flag, pair: Pair, source: str, output: str) -> Flag:
    """The flag with spans into the original texts and, unless the check named them, the words there."""
    source_span = pair.source.to_original(flag.source_span)
    output_span = pair.output.to_original(flag.output_span)
    params = {"source": _words(source, source_span), "output": _words(output, output_span), **flag.params}
    return replace(flag, source_span=source_span, output_span=output_span, params=params)
