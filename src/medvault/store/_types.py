"""The values the store hands out and takes in: frozen, validated, free of database types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Audit `detail` holds counts and identifiers only; a long string there would be a way to smuggle content in.
_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_DETAIL_MAX_STR = 128
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class Role(StrEnum):
    """What a principal may do: clinicians use models, admins manage, auditors read the trail."""

    CLINICIAN = "clinician"
    ADMIN = "admin"
    AUDITOR = "auditor"


FEEDBACK_CATEGORIES = frozenset(
    {"hallucination", "omission", "laterality", "negation", "number_unit", "other"}
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user, their role and the API key used (None for a workbench login)."""

    user: str
    role: Role
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """An API key as listed: everything but the secret, which the store never holds."""

    key_id: str
    prefix: str
    user: str
    role: Role
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A local workbench user as listed (never the password hash)."""

    username: str
    role: Role
    display_name: str | None
    created_at: datetime
    disabled: bool


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited action. It has no field for prompt, completion or any free text, on purpose."""

    ts: datetime
    user: str | None
    role: str | None
    action: str
    status: int
    client_kind: str
    request_id: str
    model_id: str | None = None
    model_digest: str | None = None
    template_id: str | None = None
    template_version: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    detail: Mapping[str, int | str | bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("AuditEvent.ts must be timezone-aware (use datetime.now(UTC))")
        if not _ACTION.match(self.action):
            raise ValueError(f"AuditEvent.action {self.action!r} must look like 'chat.completions'")
        for key, value in self.detail.items():
            if not isinstance(key, str) or not _DETAIL_KEY.match(key):
                raise ValueError(f"AuditEvent.detail key {key!r} must be a short lower-case identifier")
            if isinstance(value, float) or not isinstance(value, int | str | bool):
                raise ValueError(f"AuditEvent.detail[{key!r}] must be an int, str or bool")
            if isinstance(value, str) and len(value) > _DETAIL_MAX_STR:
                raise ValueError(f"AuditEvent.detail[{key!r}] is longer than {_DETAIL_MAX_STR} characters")


@dataclass(frozen=True, slots=True)
class StoredAuditEvent:
    """An audit event as read back, with its place and links in the hash chain."""

    seq: int
    event: AuditEvent
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of re-computing the audit hash chain."""

    ok: bool
    checked: int
    problems: list[str]
    head_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "head_hash": self.head_hash,
        }


@dataclass(frozen=True, slots=True)
class Run:
    """A workbench run. `input_json`, `output_text`, `reasoning_text` are content: None unless retained."""

    id: str
    created_at: datetime
    expires_at: datetime | None
    user: str
    template_id: str | None
    template_version: str | None
    model_id: str | None
    model_digest: str | None
    status: str
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    guard_verdict: str | None
    guard_counts: Mapping[str, int]
    input_json: str | None
    output_text: str | None
    reasoning_text: str | None
    language: str | None = None  # the template's language (migration 0008)


@dataclass(frozen=True, slots=True)
class Feedback:
    """A clinician's rating of one run; `comment` is content and follows retention."""

    id: int
    run_id: str
    user: str
    created_at: datetime
    template_id: str | None
    template_version: str | None
    model_id: str | None
    model_digest: str | None
    utility: int
    critical_error: bool
    categories: list[str]
    comment: str | None


@dataclass(frozen=True, slots=True)
class Survey:
    """A user's answer to the usability survey; `comment` is content and follows retention."""

    id: int
    user: str
    created_at: datetime
    stability: int
    ease_of_use: int
    comment: str | None
