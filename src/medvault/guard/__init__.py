"""The grounding guard: deterministic checks of a model's output against the source text it rewrote.

    result = check(source, output, task="correction", lang="de")
    result.verdict      # "ok", "review" (a confident major flag) or "unchecked" (passages not checked)
    result.flags        # Flag(kind, message, severity, source_span, output_span, code, params)
    result.unchecked    # Unchecked(side, span, reason): what the guard could not align or was unsure of
    result.counts()     # {"laterality": 1, ...}: the only part audit events and metrics may carry
    result.to_dict(lang="de")   # the contract of docs/guard.md, with texts in German or English

Checks (see docs/guard.md): laterality (sides, directions), negation (polarity and certainty),
numbers, new_findings, omissions (by importance), edit_budget (with typo-fix meaning); translations
always get the output-language rule (wrong_language). Cue lists, importance, vocabulary, function
words and texts are data files in `data/`. Pure Python and regular expressions; no
model, no network, no state between calls.
"""

from medvault.guard._model import Flag, GuardResult, Severity, Unchecked, Verdict
from medvault.guard._pipeline import CHECKS, LANGUAGES, TASKS, check

__all__ = [
    "CHECKS",
    "LANGUAGES",
    "TASKS",
    "Flag",
    "GuardResult",
    "Severity",
    "Unchecked",
    "Verdict",
    "check",
]
