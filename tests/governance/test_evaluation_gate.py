"""Approval gated by evaluation: refused without a passed evaluation of exactly the combination, allowed
with an audited override; `models history` lists every decision; `verify` sees a material change."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.cli._common import operator
from medvault.config import EvaluationPolicySettings, load_settings
from medvault.governance import Combination, current_combination
from medvault.governance._eval_policy import record_evaluation
from medvault.governance._evaluation import TemplateMetrics
from medvault.store import ApprovalStatus, Store
from medvault.templates import TemplateLibrary, builtin_dir

WEIGHTS = b"GGUF-gate-test-weights"
DIGEST = "sha256:" + hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One embedded model on a tiny file, a hospital template directory, a migrated database."""
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(WEIGHTS)
    (tmp_path / "hospital").mkdir()
    path = tmp_path / "medvault.toml"
    path.write_text(
        f'[[models]]\nid = "local"\n[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\n'
        f'[workbench]\ntemplate_dirs = ["{tmp_path / "hospital"}"]\n'
    )
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'medvault.db'}")
    store.migrate()
    store.close()
    return path


def _store(config: Path) -> Store:
    return Store.open(f"sqlite:///{config.parent / 'data' / 'medvault.db'}")


def _combination(config: Path) -> Combination:
    """The combination `models approve` computes: the deployment's enabled templates and the guard."""
    return current_combination(DIGEST, TemplateLibrary.for_settings(load_settings(config)).list())


def _evaluated(config: Path, combination: Combination, *, review_per_100: float) -> str:
    """Store an evaluation of `combination` (10 runs per template, the given review rate); its id."""
    metrics = [
        TemplateMetrics(
            template=key, version=version, task_type="anchored", runs=10, failed=0,
            review_per_100=review_per_100, unchecked_per_100=0.0, schema_valid=None, quote_valid=None,
            agreement=None, length_ratio=1.0, latency_s=1.0, latency_p95_s=1.0, tokens_per_s=10.0,
        )
        for key, version in combination.templates.items()
    ]  # fmt: skip
    store = _store(config)
    try:
        now = datetime.now(UTC)
        outcome = record_evaluation(
            store, model_id="local", combination=combination, metrics=metrics, results=[], baseline=None,
            policy=EvaluationPolicySettings(), max_tokens=None, started_at=now, finished_at=now,
            run_by="tester",
        )  # fmt: skip
    finally:
        store.close()
    assert outcome.record.passed is (review_per_100 <= 30)
    return outcome.record.id


def _cli(config: Path, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--config", str(config)])


def _said(result: Any) -> str:
    """The command's output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def _approve(config: Path, *extra: str) -> Any:
    return _cli(config, "models", "approve", "local", "--digest", DIGEST, "--reason", "CAB-9 review", *extra)


def _history(config: Path) -> list[dict[str, Any]]:
    result = _cli(config, "models", "history", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_approval_needs_a_passed_evaluation_of_exactly_the_combination(config: Path) -> None:
    """Never evaluated, failed, or evaluated with other templates: refused; passed: approved, naming it."""
    result = _approve(config)
    assert result.exit_code == 1 and "these weights were never evaluated" in _said(result)
    combination = _combination(config)
    _evaluated(config, combination, review_per_100=50.0)  # fails the default policy (at most 30)
    result = _approve(config)
    assert result.exit_code == 1 and "evaluations of this combination failed" in _said(result)
    other = Combination(DIGEST, {**combination.templates, "translation.en": "sha256:000000000000"},
                        combination.guard_version)  # fmt: skip
    _evaluated(config, other, review_per_100=0.0)
    result = _approve(config)
    assert result.exit_code == 1 and "other templates or another guard version" in _said(result)
    store = _store(config)
    try:
        assert store.model_approvals() == []  # nothing was recorded by the refusals
    finally:
        store.close()
    passed = _evaluated(config, combination, review_per_100=10.0)
    result = _approve(config)
    assert result.exit_code == 0, result.output
    assert f"evaluation {passed}" in _said(result)
    store = _store(config)
    try:
        (approval,) = store.model_approvals()
        assert (approval.status, approval.evaluation_id, approval.combination, approval.override) == (
            ApprovalStatus.APPROVED, passed, combination.digest, False,
        )  # fmt: skip
        event = next(e.event for e in store.audit_events() if e.event.action == "model.approved")
        assert (event.user, event.model_digest) == (operator(), DIGEST)
        assert dict(event.detail) == {
            "reason": "CAB-9 review", "combination": combination.digest, "evaluation": passed,
        }  # fmt: skip
    finally:
        store.close()


def test_override_is_allowed_audited_and_listed_in_history(config: Path) -> None:
    """Without an evaluation, --override approves; the trail and `models history` say it was one."""
    result = _approve(config, "--override")
    assert result.exit_code == 0 and "OVERRIDE" in result.output
    assert _cli(config, "models", "retire", "local", "--digest", DIGEST, "--reason", "CAB-10").exit_code == 0
    rows = _history(config)
    assert [(r["event"], r["digest"], r["by"]) for r in rows] == [
        ("approved (override)", DIGEST, operator()),
        ("retired", DIGEST, operator()),
    ]
    assert rows[0]["detail"]["override"] is True and rows[0]["detail"]["reason"] == "CAB-9 review"
    combination = _combination(config)
    _evaluated(config, combination, review_per_100=40.0)
    assert [r["event"] for r in _history(config)][-1] == "evaluated: failed"
    table = _cli(config, "models", "history", "local")
    assert table.exit_code == 0 and "override" in table.output and "retired" in table.output


def test_verify_reports_a_material_change_since_the_approval(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hospital template replacing a built-in one changes the combination: `verify` names it."""
    from medvault.backends import ModelSpec, ReplicaSpec, Runtime
    from medvault.supervisor import state_file

    settings = load_settings(config)
    runtime = Runtime(
        models=[
            ModelSpec(
                id="local", replicas=[ReplicaSpec(name="local#0", url="http://127.0.0.1:9/v1", digest=DIGEST)]
            )
        ]
    )
    runtime.write(state_file(settings).with_name("runtime.json"))
    passed = _evaluated(config, _combination(config), review_per_100=0.0)
    assert _approve(config).exit_code == 0
    result = _cli(config, "models", "verify")
    assert result.exit_code == 0, result.output
    source = builtin_dir() / "translation.en.toml"
    changed = source.read_text().replace("Output only the translation", "Output only the translated text")
    assert changed != source.read_text()
    (tmp_path / "hospital" / source.name).write_text(changed)
    result = _cli(config, "models", "verify")
    words = _said(result)
    assert result.exit_code == 1 and "material change since the approval" in words
    assert "template translation.en" in words and passed not in words
    shutil.rmtree(tmp_path / "hospital")
    (tmp_path / "hospital").mkdir()
    assert _cli(config, "models", "verify").exit_code == 0
