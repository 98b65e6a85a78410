"""Fixtures of the store tests: a migrated store on each database, and a tampering connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from medvault.store import AuditEvent, Store


@pytest.fixture
def content_store(db_url: str) -> Iterator[Store]:
    """A migrated store that keeps content for 30 days."""
    opened = Store.open(db_url, content_days=30)
    opened.migrate()
    yield opened
    opened.close()


def make_event(n: int = 0, **overrides: object) -> AuditEvent:
    """A plausible chat completion event, numbered so events differ."""
    fields: dict[str, object] = {
        "ts": datetime.now(UTC), "user": "dr.house", "role": "clinician", "action": "chat.completions",
        "status": 200, "client_kind": "api", "request_id": f"req-{n}", "model_id": "smollm2-135m-instruct",
        "model_digest": "sha256:" + "ab" * 32, "prompt_tokens": 10 + n, "completion_tokens": 5,
        "latency_ms": 12.5, "detail": {"stream": False, "n": n},
    }  # fmt: skip
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]
