"""The grounding guard: deterministic checks of a model's output against the source text it rewrote.

    result = check(source, output, task="correction", lang="de")
    result.verdict      # "ok" or "review"
    result.flags        # Flag(kind, message, severity, source_span, output_span)
    result.counts()     # {"laterality": 1, ...}: the only part audit events and metrics may carry

Checks (see docs/guard.md): laterality, negation, numbers, new_findings, omissions, edit_budget.
Pure Python and regular expressions; no model, no network, no state between calls.
"""

from medvault.guard._model import Flag, GuardResult, Severity, Verdict
from medvault.guard._pipeline import CHECKS, LANGUAGES, TASKS, check

__all__ = ["CHECKS", "LANGUAGES", "TASKS", "Flag", "GuardResult", "Severity", "Verdict", "check"]
