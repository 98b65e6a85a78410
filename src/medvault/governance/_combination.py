"""What an approval covers: the combination of weights, templates, guard and retrieval index.

Each part is a digest, and a change of any part is a *material change* (docs/governance.md): the model
answers differently, so it is evaluated again before it is approved again. The combination's digest
is what evaluations and approvals record, so "exactly that combination" is one string comparison.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from medvault.templates import Template

# What shapes the guard's verdicts: its code (the vocabulary tables live in it) and its data files.
_GUARD_SUFFIXES = (".py", ".toml", ".json", ".txt", ".tsv")


@cache
def guard_version() -> str:
    """A digest of the guard package (`medvault.guard` has no version of its own): SHA-256 over one line
    `relative path, SHA-256` per code or data file, sorted. Read-only; cached for the process."""
    root = Path(str(resources.files("medvault.guard")))
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in _GUARD_SUFFIXES and "__pycache__" not in path.parts:
            lines.append(
                f"{path.relative_to(root).as_posix()} {hashlib.sha256(path.read_bytes()).hexdigest()}"
            )
    return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def template_key(template: Template) -> str:
    return f"{template.id}.{template.lang}"


@dataclass(frozen=True)
class Combination:
    """The parts of one material configuration; `digest` identifies it."""

    model_digest: str
    templates: Mapping[str, str] = field(default_factory=dict)  # "<id>.<lang>" -> template version
    guard_version: str = ""
    retrieval_index: str | None = None  # MedVault has no retrieval yet: None, and part of the digest

    @property
    def digest(self) -> str:
        canonical = json.dumps(
            {
                "model": self.model_digest,
                "templates": dict(sorted(self.templates.items())),
                "guard": self.guard_version,
                "retrieval": self.retrieval_index,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def changes_from(self, other: Combination) -> list[str]:
        """The material changes from `other` to this combination, in words (empty: the same)."""
        changes = []
        if self.model_digest != other.model_digest:
            changes.append(f"weights {other.model_digest} -> {self.model_digest}")
        for key in sorted(set(self.templates) | set(other.templates)):
            before, after = other.templates.get(key), self.templates.get(key)
            if before != after:
                changes.append(f"template {key} {before or 'absent'} -> {after or 'absent'}")
        if self.guard_version != other.guard_version:
            changes.append(f"guard {other.guard_version} -> {self.guard_version}")
        if self.retrieval_index != other.retrieval_index:
            changes.append(f"retrieval index {other.retrieval_index} -> {self.retrieval_index}")
        return changes


def current_combination(model_digest: str, templates: list[Template]) -> Combination:
    """The combination a model would serve with now: these (enabled) templates and this guard."""
    return Combination(model_digest, {template_key(t): t.version for t in templates}, guard_version())
