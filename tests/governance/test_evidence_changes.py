"""The evidence report shows material changes since an approval, fails its verdict on them, and lists
every digest's own evaluations however many other evaluations there are."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medvault.config import Settings, load_settings
from medvault.governance import Combination, current_combination
from medvault.governance import _evidence_store as db
from medvault.governance.evidence import build_evidence
from medvault.store import ApprovalStatus, EvaluationRecord, Store
from medvault.templates import Template, TemplateLibrary

DIGEST = "sha256:" + "4e" * 32
OLD_GUARD = "sha256:0123456789ab"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, data_dir=tmp_path / "data")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    opened = Store.from_settings(settings)
    opened.migrate()
    yield opened
    opened.close()


def _model(settings: Settings) -> str:
    return settings.models[0].id


def _templates(settings: Settings) -> list[Template]:
    return TemplateLibrary.for_settings(settings).list()


def _approve(store: Store, model_id: str, combination: Combination, minutes: int = 0) -> str:
    """A passed evaluation of `combination` and an approval resting on it; the evaluation's id."""
    at = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(minutes=minutes)
    eid = f"ev-{model_id}-{minutes}"
    store.save_evaluation(
        EvaluationRecord(
            id=eid, model_id=model_id, model_digest=combination.model_digest, combination=combination.digest,
            guard_version=combination.guard_version, retrieval_index=None,
            templates=dict(combination.templates), started_at=at, finished_at=at, run_by="root",
            max_tokens=None, passed=True, reasons=[], baseline_id=None,
        )
    )  # fmt: skip
    store.decide_model(
        model_id, combination.model_digest, ApprovalStatus.APPROVED, decided_by="root", reason="CAB-7",
        combination=combination.digest, evaluation_id=eid,
    )  # fmt: skip
    return eid


def _approved_before_changes(settings: Settings) -> tuple[Combination, Combination]:
    """The combination an approval covered (one template edited, one since removed, one not yet there,
    another guard) and the one the deployment would serve with now."""
    now = current_combination(DIGEST, _templates(settings))
    templates = dict(now.templates)
    added = sorted(templates)[0]
    del templates[added]
    templates["translation.en"] = "sha256:000000000000"
    templates["retired-template.en"] = "sha256:111111111111"
    return Combination(DIGEST, templates, OLD_GUARD), now


def test_models_show_every_material_change_since_the_approval(settings: Settings, store: Store) -> None:
    """Edited, removed and added templates and the guard are each named; an unconfigured model is not
    judged."""
    approved, now = _approved_before_changes(settings)
    _approve(store, _model(settings), approved)
    _approve(store, "not-configured", Combination(DIGEST, {}, OLD_GUARD))
    rows = {m.approval.model_id: m for m in db.models(store, settings, _templates(settings))}
    changes = rows[_model(settings)].changes
    assert changes is not None and rows[_model(settings)].configured
    added = sorted(now.templates)[0]
    assert f"template translation.en sha256:000000000000 -> {now.templates['translation.en']}" in changes
    assert "template retired-template.en sha256:111111111111 -> absent" in changes
    assert f"template {added} absent -> {now.templates[added]}" in changes
    assert f"guard {OLD_GUARD} -> {now.guard_version}" in changes
    assert len(changes) == 4
    assert (rows["not-configured"].configured, rows["not-configured"].changes) == (False, None)


def test_an_unchanged_combination_shows_no_change(settings: Settings, store: Store) -> None:
    """Control: approved with exactly the combination it would serve with now: nothing flagged."""
    _approve(store, _model(settings), current_combination(DIGEST, _templates(settings)))
    (row,) = db.models(store, settings, _templates(settings))
    assert row.changes == ()


def test_an_old_digest_keeps_its_evaluations_behind_many_newer_ones(settings: Settings, store: Store) -> None:
    """1,001 newer evaluations of other weights do not hide an old digest's own evaluation."""
    old = _approve(store, _model(settings), current_combination(DIGEST, _templates(settings)))
    other = Combination("sha256:" + "77" * 32, {}, OLD_GUARD)
    at = datetime(2026, 11, 3, tzinfo=UTC)
    for i in range(1001):
        store.save_evaluation(
            EvaluationRecord(
                id=f"other-{i}", model_id="other", model_digest=other.model_digest, combination=other.digest,
                guard_version=OLD_GUARD, retrieval_index=None, templates={}, started_at=at, finished_at=at,
                run_by="root", max_tokens=None, passed=False, reasons=["x"], baseline_id=None,
            )
        )  # fmt: skip
    store.decide_model("other", other.model_digest, ApprovalStatus.RETIRED, decided_by="root", reason="r")
    rows = {m.approval.model_id: m for m in db.models(store, settings, _templates(settings))}
    assert [e.id for e in rows[_model(settings)].evaluations] == [old]
    assert len(rows["other"].evaluations) == 3


@pytest.mark.slow
def test_report_flags_the_change_and_fails_its_verdict(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    """The report names the changes and its verdict (the exit status) fails; control: after a new
    evaluation and approval of the current combination it says no change, and the verdict only waits
    on isolation (not verified without an instance)."""
    approved, now = _approved_before_changes(settings)
    _approve(store, _model(settings), approved)
    summary = build_evidence(store, settings, tmp_path / "changed", user="root")
    html = summary.html.read_text(encoding="utf-8")
    assert "material change since the approval</span>" in html
    assert f"guard {OLD_GUARD} -&gt; {now.guard_version}" in html
    (line,) = summary.material_changes
    assert line.startswith(f"{_model(settings)} {DIGEST}: ") and "retired-template.en" in line
    assert not replace(summary, isolation_verified=True).ok  # fails even where isolation is verified
    last = store.audit_events()[-1].event
    assert (last.action, last.detail["material_changes"]) == ("report.evidence", 1)

    _approve(store, _model(settings), now, minutes=5)
    summary = build_evidence(store, settings, tmp_path / "same", user="root")
    html = summary.html.read_text(encoding="utf-8")
    assert (
        "no material change since the approval" in html and "material change since the approval:" not in html
    )
    assert summary.material_changes == ()
    assert summary.chain_ok and not summary.isolation_verified and not summary.ok
