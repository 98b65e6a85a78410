"""The evidence report from live checks: HTML and PDF written, digests in the audit chain, fail closed.

No isolated instance runs in these tests, so every report must say "NOT verified"; the PDF's text must
carry the verify timestamp and the audit head; patient content and user names must not appear anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from medvault.cli.evidence import evidence, monitoring
from medvault.config import Settings, load_settings
from medvault.governance.evidence import ACTION, build_evidence
from medvault.isolation._state import write_state
from medvault.store import ApprovalStatus, AuditEvent, EvaluationRecord, Store
from tests.governance.test_monitoring import DIGEST, DRIFTING, MODEL, seed

CANARY = "CANARY-7f3a9c-Pneumothorax-links"
USER_MARKER = "zz-username-marker"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(None, data_dir=tmp_path / "data", **overrides)


def _store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_settings(settings)
    store.migrate()
    return store


def _populate(store: Store) -> None:
    """Users of every role, a key, a model decision, drifting monitoring data and content with the canary."""
    store.create_user(USER_MARKER, "correct horse battery 1", "clinician", display_name=f"Dr {USER_MARKER}")
    store.create_user(f"{USER_MARKER}-2", "correct horse battery 2", "clinician")
    store.create_user(f"{USER_MARKER}-admin", "correct horse battery 3", "admin")
    store.set_disabled(f"{USER_MARKER}-2", True)
    store.create_key(f"{USER_MARKER}-api", "auditor", name="siem")
    store.decide_model(
        MODEL, DIGEST, ApprovalStatus.APPROVED, decided_by=f"{USER_MARKER}-admin", reason="pilot weights"
    )
    now = datetime.now(UTC)
    store.save_evaluation(
        EvaluationRecord(
            id="ev-0001", model_id=MODEL, model_digest=DIGEST, combination="sha256:0123456789ab",
            guard_version="sha256:guard0000000", retrieval_index=None,
            templates={f"{DRIFTING}.en": "sha256:1"},
            started_at=now, finished_at=now, run_by=f"{USER_MARKER}-admin", max_tokens=None, passed=True,
            reasons=[], baseline_id=None,
        )
    )  # fmt: skip
    seed(store)
    run = store.save_run(
        user=USER_MARKER, status="ok", template_id=DRIFTING, model_id=MODEL, model_digest=DIGEST,
        input_json=f'{{"report": "{CANARY}"}}', output_text=CANARY, reasoning_text=CANARY,
    )  # fmt: skip
    store.save_feedback(run_id=run.id, user=USER_MARKER, utility=3, critical_error=True, comment=CANARY)
    store.save_survey(user=USER_MARKER, stability=5, ease_of_use=5, comment=CANARY)


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("evidence")(evidence)
    app.command("monitoring")(monitoring)
    return app


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.slow
def test_report_is_written_audited_and_says_not_verified_without_an_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report evidence` writes HTML, PDF and digests; the PDF carries the verify time and the audit head;
    the digests are the last audit event; no instance runs, so isolation is NOT verified (exit 1);
    neither the canary content nor any user name appears."""
    settings = _settings(tmp_path, retention={"content_days": 30})
    store = _store(settings)
    _populate(store)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MEDVAULT_RETENTION__CONTENT_DAYS", "30")
    out = tmp_path / "evidence"

    result = CliRunner().invoke(_cli(), ["evidence", "--out", str(out)])

    assert result.exit_code == 1, result.output
    assert "NOT verified" in result.output
    html = (out / "evidence.html").read_text(encoding="utf-8")
    pdf_text = _pdf_text(out / "evidence.pdf")
    assert "No isolated MedVault instance is running" in html and "NOT verified" in pdf_text
    finished = re.search(r'id="verify-finished">([^<]+)<', html)
    head = re.search(r'id="head-hash">([0-9a-f]{64})<', html)
    assert finished and head
    assert datetime.fromisoformat(finished.group(1)).tzinfo is not None
    assert finished.group(1) in pdf_text
    assert head.group(1) in pdf_text.replace("\n", "")

    last = store.audit_events(limit=100_000)[-1]
    assert last.event.action == ACTION
    html_sha = hashlib.sha256((out / "evidence.html").read_bytes()).hexdigest()
    pdf_sha = hashlib.sha256((out / "evidence.pdf").read_bytes()).hexdigest()
    assert (last.event.detail["html_sha256"], last.event.detail["pdf_sha256"]) == (html_sha, pdf_sha)
    assert last.event.detail["isolation_verified"] is False
    assert last.prev_hash == head.group(1)  # the head the report shows is the chain just before its own event
    assert (out / "evidence.sha256").read_text() == f"{html_sha}  evidence.html\n{pdf_sha}  evidence.pdf\n"
    assert store.verify_audit_chain().ok

    # What the report must show: counts per role, the decision, the drift, the ruleset.
    roles = re.search(r'<tr><td>clinician</td><td class="n">(\d+)</td><td class="n">(\d+)</td>', html)
    assert roles and roles.groups() == ("1", "1")
    assert "pilot weights" in html and "table inet medvault" in html
    assert re.search(r"<td>ev-0001</td><td>[^<]+</td><td><span class=\"ok\">passed</span>", html)
    assert re.search(rf"<td>[0-9]{{4}}-W[0-9]{{2}}</td><td>{DRIFTING}</td>", html)  # an alert row
    assert "drift alerts: " in result.output

    for text in (html, pdf_text, (out / "evidence.pdf").read_bytes().decode("latin-1")):
        assert CANARY not in text and USER_MARKER not in text


@pytest.mark.slow
def test_breach_is_an_open_incident_and_never_verified(tmp_path: Path) -> None:
    """A breached state reads BREACHED and NOT verified; its audited breach is an open incident."""
    settings = _settings(tmp_path)
    store = _store(settings)
    store.record_audit(
        AuditEvent(
            ts=datetime.now(UTC), user="medvault", role="system", action="isolation.breach", status=500,
            client_kind="supervisor", request_id="sup-1", detail={"reason": "probe reached 192.0.2.1:443"},
        )
    )  # fmt: skip
    write_state(settings.data_dir, state="breached", reason="probe reached 192.0.2.1:443")

    summary = build_evidence(store, settings, tmp_path / "out", user="tester")

    html = summary.html.read_text(encoding="utf-8")
    assert not summary.isolation_verified and summary.open_incidents == 1
    assert "BREACHED" in html and "probe reached 192.0.2.1:443" in html
    assert re.search(
        r"isolation breach</td><td>probe reached 192\.0\.2\.1:443</td><td><span class=\"fail\">open", html
    )
    assert "No evaluations" not in html  # the model table is simply empty
    assert "no model digests recorded" in html


@pytest.mark.slow
def test_a_state_that_says_ok_is_not_enough(tmp_path: Path) -> None:
    """`ok` on disk without a passing fresh verify (no zones exist here) is still NOT verified."""
    settings = _settings(tmp_path)
    store = _store(settings)
    write_state(settings.data_dir, state="ok", host_netns="mv-evidence-none", zones=[])

    summary = build_evidence(store, settings, tmp_path / "out", user="tester")

    html = summary.html.read_text(encoding="utf-8")
    assert not summary.isolation_verified
    assert '<div class="verdict bad" id="isolation-verdict"><strong>NOT verified' in html


def test_monitoring_command_prints_weeks_and_records_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report monitoring --json` lists the weeks and the alerts it recorded (audited)."""
    settings = _settings(tmp_path)
    store = _store(settings)
    seed(store)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(settings.data_dir))

    result = CliRunner().invoke(_cli(), ["monitoring", "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    assert {a["template_id"] for a in data["alerts"]} == {DRIFTING}
    assert len(data["weeks"]) == 10 * 6
    assert sum(e.event.action == "monitoring.drift" for e in store.audit_events(limit=10_000)) == len(
        data["alerts"]
    )
