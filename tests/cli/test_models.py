"""`medvault models list|approve|retire|verify`: digests of the weights and their change control."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medvault.backends import ModelSpec, ReplicaSpec, Runtime
from medvault.cli import app
from medvault.cli._common import operator
from medvault.store import Store


def test_models_list_hashes_embedded_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An embedded GGUF is listed with its SHA-256; an OpenAI replica with its configured digest."""
    config, digest = _configured(tmp_path, monkeypatch, remote_digest="sha256:abc")
    result = CliRunner().invoke(app, ["models", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["digest"] == digest
    assert (rows[1]["kind"], rows[1]["digest"]) == ("openai", "sha256:abc")


def _configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote_digest: str | None = None
) -> tuple[Path, str]:
    """A config with one embedded model on a tiny GGUF and one remote (unpinned unless `remote_digest`
    is given): (config, GGUF digest)."""
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF-test-weights")
    config = tmp_path / "medvault.toml"
    pin = f'digest = "{remote_digest}"\n' if remote_digest else ""
    config.write_text(
        f'[[models]]\nid = "local"\n[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\n'
        '[[models]]\nid = "remote"\n[[models.replicas]]\nkind = "openai"\nurl = "http://127.0.0.1:9/v1"\n'
        + pin
    )
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    _migrated(tmp_path / "data")
    return config, "sha256:" + hashlib.sha256(b"GGUF-test-weights").hexdigest()


def _migrated(data_dir: Path) -> None:
    """Create the database `medvault up` would (the commands refuse to create one)."""
    store = Store.open(f"sqlite:///{data_dir / 'medvault.db'}")
    store.migrate()
    store.close()


def _list(config: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["models", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_approve_and_retire_are_listed_and_audited_under_the_operator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unseen weights list as pending, an undeclared remote as unpinned; approve and retire record who,
    when and why, and each lands in the audit trail under the real operator with the model and digest."""
    config, digest = _configured(tmp_path, monkeypatch)
    rows = _list(config)
    assert [(r["model"], r["status"]) for r in rows] == [("local", "pending"), ("remote", "unpinned")]
    for command, reason in (("approve", "CAB-1 validated"), ("retire", "superseded by CAB-2")):
        args = ["models", command, "local", "--digest", digest, "--reason", reason, "--config", str(config)]
        args += ["--override"] if command == "approve" else []  # no evaluation in this test
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    local = _list(config)[0]
    assert (local["status"], local["decided_by"], local["reason"]) == (
        "retired",
        operator(),
        "superseded by CAB-2",
    )
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'medvault.db'}")
    try:
        events = [s.event for s in store.audit_events() if s.event.action.startswith("model.")]
    finally:
        store.close()
    assert [(e.action, e.user, e.role, e.model_id, e.model_digest) for e in events] == [
        ("model.approved", operator(), "admin", "local", digest),
        ("model.retired", operator(), "admin", "local", digest),
    ]
    assert events[0].detail["reason"] == "CAB-1 validated" and events[0].detail["override"] is True
    assert events[0].detail["combination"].startswith("sha256:")


def test_a_decision_without_a_valid_digest_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest with spaces is refused readably and nothing is recorded."""
    config, _ = _configured(tmp_path, monkeypatch)
    args = ["models", "approve", "local", "--digest", "sha 256", "--reason", "x", "--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "not a digest" in result.output
    assert _list(config)[0]["status"] == "pending"


def test_verify_fails_on_unapproved_or_changed_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`verify` fails while the weights are pending, passes once approved, and fails again when the weights
    differ from what the last start served."""
    config, digest = _configured(tmp_path, monkeypatch)
    verify = ["models", "verify", "--config", str(config)]
    assert CliRunner().invoke(app, verify).exit_code == 1
    approve = ["models", "approve", "local", "--digest", digest, "--reason", "ok", "--override"]
    approve += ["--config", str(config)]
    assert CliRunner().invoke(app, approve).exit_code == 0
    passed = CliRunner().invoke(app, verify)
    assert passed.exit_code == 0, passed.output
    started = ReplicaSpec(name="local#0", url="http://127.0.0.1:9/v1", digest="sha256:" + "00" * 32)
    Runtime(models=[ModelSpec(id="local", replicas=[started])]).write(
        tmp_path / "data" / "run" / "runtime.json"
    )
    changed = CliRunner().invoke(app, verify)
    assert changed.exit_code == 1 and "changed on disk since the last start" in changed.output
