"""What the guard hands back: flags with spans, and a verdict over them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["major", "minor"]
Verdict = Literal["ok", "review"]
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Flag:
    """One thing the output changed that it should not have.

    `kind` is the name of the check that raised it; spans are character offsets (start, end) into the
    source and the output, so a diff view can highlight both sides. Either span may be None when the
    finding exists on one side only (a dropped number has no output span).
    """

    kind: str
    message: str
    severity: Severity
    source_span: Span | None = None
    output_span: Span | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "severity": self.severity,
            "source_span": list(self.source_span) if self.source_span else None,
            "output_span": list(self.output_span) if self.output_span else None,
        }


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The flags of one check run; `review` as soon as one flag is major."""

    task: str
    checks: tuple[str, ...]
    flags: list[Flag]

    @property
    def verdict(self) -> Verdict:
        return "review" if any(f.severity == "major" for f in self.flags) else "ok"

    def counts(self) -> dict[str, int]:
        """Number of flags per kind: what audit events and metrics may carry (never text)."""
        return dict(Counter(f.kind for f in self.flags))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form for the HTTP API and `medvault guard check --json`."""
        return {
            "verdict": self.verdict,
            "task": self.task,
            "checks": list(self.checks),
            "counts": self.counts(),
            "flags": [f.to_dict() for f in self.flags],
        }
