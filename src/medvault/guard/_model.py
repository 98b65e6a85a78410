"""What the guard hands back: flags with spans, passages it could not check, and a verdict over them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from medvault.guard._texts import flag_text, summary_text, unchecked_text

Severity = Literal["major", "minor"]
Verdict = Literal["ok", "review", "unchecked"]
Span = tuple[int, int]

#: The stable code of a flag by the check that raised it, where the check does not say more precisely.
DEFAULT_CODES = {
    "laterality": "side_changed",
    "negation": "negation_changed",
    "numbers": "number_changed",
    "new_findings": "new_finding",
    "omissions": "omission",
    "edit_budget": "edit_budget",
}

#: What each check looks at, by the aspect names of `GuardResult.checked`.
ASPECTS = {
    "laterality": ("sides", "directions"),
    "negation": ("negation", "certainty"),
    "numbers": ("numbers", "units", "dates"),
    "new_findings": ("new_findings",),
    "omissions": ("omissions",),
    "edit_budget": ("edit_extent",),
}
#: What no check judges: whether the output is medically right, complete in tone, well written.
ALWAYS_UNCHECKED = ("content",)


def _span(span: Span | None) -> list[int] | None:
    return list(span) if span else None


@dataclass(frozen=True, slots=True)
class Flag:
    """One thing the output changed that it should not have.

    `kind` is the name of the check that raised it, `code` what it found (stable, for grouping and the
    UI's error categories; default by kind); spans are character offsets (start, end) into the source
    and the output, so a diff view can highlight both sides. Either span may be None when the finding
    exists on one side only (a dropped number has no output span). `params` names the words on both
    sides (filled from the spans by `check` when a check leaves it empty).
    """

    kind: str
    message: str
    severity: Severity
    source_span: Span | None = None
    output_span: Span | None = None
    code: str = ""
    params: Mapping[str, str | None] = field(default_factory=dict)
    confident: bool = True  # False: `check` reports the passage as unchecked instead (abstention)

    @property
    def stable_code(self) -> str:
        return self.code or DEFAULT_CODES.get(self.kind, self.kind)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "code": self.stable_code,
            "severity": self.severity,
            "params": dict(self.params),
            "message": self.message,
            "source_span": _span(self.source_span),
            "output_span": _span(self.output_span),
        }
        if lang is not None:
            out["text"] = flag_text(self.stable_code, self.params, lang)
        return out


@dataclass(frozen=True, slots=True)
class Unchecked:
    """A passage the guard could not align or understand: shown as "not checked", never as an error."""

    side: Literal["source", "output"]
    span: Span
    reason: str  # a stable code: unaligned, unknown_finding, unsure_<flag code>, ...

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"side": self.side, "span": list(self.span), "reason": self.reason}
        if lang is not None:
            out["text"] = unchecked_text(self.reason, lang)
        return out


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The flags of one check run.

    Verdict: `review` as soon as one flag is major; otherwise `unchecked` when passages could not be
    checked; otherwise `ok`.
    """

    task: str
    checks: tuple[str, ...]
    flags: list[Flag]
    unchecked: list[Unchecked] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if any(f.severity == "major" for f in self.flags):
            return "review"
        return "unchecked" if self.unchecked else "ok"

    @property
    def checked(self) -> list[str]:
        """The aspects the guard compared for this task, in a stable order."""
        return list(dict.fromkeys(a for name in self.checks for a in ASPECTS.get(name, (name,))))

    @property
    def not_checked(self) -> list[str]:
        """Aspects the guard does not judge for this task (at least the medical content)."""
        checked = set(self.checked)
        skipped = [a for aspects in ASPECTS.values() for a in aspects if a not in checked]
        return [*ALWAYS_UNCHECKED, *(a for a in skipped if a != "edit_extent" or self.task == "correction")]

    def counts(self) -> dict[str, int]:
        """Number of flags per kind: what audit events and metrics may carry (never text)."""
        return dict(Counter(f.kind for f in self.flags))

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """A JSON-serialisable form for the HTTP API and `medvault guard check --json`.

        With `lang` ("de" or "en"), every flag and unchecked passage carries a `text` and the result a
        `summary` in that language.
        """
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "task": self.task,
            "checks": list(self.checks),
            "checked": self.checked,
            "not_checked": self.not_checked,
            "counts": self.counts(),
            "flags": [f.to_dict(lang) for f in self.flags],
            "unchecked": [u.to_dict(lang) for u in self.unchecked],
        }
        if lang is not None:
            out["summary"] = summary_text(self.verdict, self.checked, self.not_checked, lang)
        return out
