"""`medvault evaluate` end to end on the real embedded model: a small case set through the running
engine, stored and audited, reported, and then the ground of an approval without override."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from medvault.config import DEFAULT_MODEL_ID, bundled_model_path, file_digest
from medvault.store import ApprovalStatus, Store
from tests.conftest import Service, running_service

pytestmark = [pytest.mark.model, pytest.mark.slow]

# A smoke policy: one case per template, answers capped, every quality floor at zero; what is judged
# here is that the harness measures and records, not the tiny model's quality.
LENIENT = """
[retention]
content_days = 0
[governance]
enabled_templates = ["report-correction", "structured-report"]
[governance.evaluation]
min_cases = 1
allow_capped = true
max_review_per_100 = 100
max_unchecked_per_100 = 100
min_schema_valid = 0
min_quote_valid = 0
min_agreement = 0
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("mv-eval-e2e"), LENIENT) as running:
        yield running


def _medvault(service: Service, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**service.env(), "MEDVAULT_CONFIG": str(config or service.config), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "medvault", *args], env=env, text=True, capture_output=True, timeout=240
    )


@pytest.mark.timeout(300)
def test_evaluate_the_embedded_model_then_approve_on_its_ground(service: Service, tmp_path: Path) -> None:
    """Every enabled template (two here, in both languages, to keep the CPU run short) runs one case
    through the engine; the evaluation passes the smoke policy, is stored with the digests and audited,
    writes its report, and grounds an approval without --override. A strict policy fails the model."""
    out = tmp_path / "report"
    result = _medvault(
        service, "evaluate", DEFAULT_MODEL_ID, "--cases", "1", "--max-tokens", "16", "--out", str(out)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    digest = file_digest(bundled_model_path(), service.data_dir)
    store = Store.open(f"sqlite:///{service.data_dir / 'medvault.db'}")
    try:
        (record,) = store.evaluations(DEFAULT_MODEL_ID)
        assert (record.model_digest, record.passed, record.max_tokens) == (digest, True, 16)
        assert sorted(record.templates) == [
            "report-correction.de", "report-correction.en", "structured-report.de", "structured-report.en",
        ]  # fmt: skip
        assert len(record.cases) == 4 and all(c["ok"] for c in record.cases), record.cases
        assert all(c["latency_s"] > 0 and c["completion_tokens"] for c in record.cases)
        assert all(c["tokens_per_s"] > 0 for c in record.cases)
        assert all(c["guard_verdict"] in ("ok", "review", "unchecked") for c in record.cases)
        schema = [c for c in record.cases if c["template"].startswith("structured-report")]
        assert len(schema) == 2 and all(c["schema_valid"] in (True, False) for c in schema)
        assert all(c["schema_valid"] is None for c in record.cases if c not in schema)
        events = [e.event for e in store.audit_events() if e.event.action == "model.evaluated"]
        assert [(e.model_digest, e.detail["evaluation"], e.detail["passed"]) for e in events] == [
            (digest, record.id, True)
        ]
    finally:
        store.close()
    rows = list(csv.DictReader((out / "templates.csv").open()))
    assert len(rows) == 4 and all(float(r["latency_s"]) > 0 for r in rows)
    assert "passed" in (out / "evaluation.html").read_text()

    approve = [
        "models",
        "approve",
        DEFAULT_MODEL_ID,
        "--digest",
        digest,
        "--reason",
        "CAB-1 smoke evaluation",
    ]
    approved = _medvault(service, *approve)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert f"evaluation {record.id}" in approved.stdout
    store = Store.open(f"sqlite:///{service.data_dir / 'medvault.db'}")
    try:
        approval = next(a for a in store.model_approvals() if a.model_id == DEFAULT_MODEL_ID)
        assert (approval.status, approval.evaluation_id, approval.override) == (
            ApprovalStatus.APPROVED,
            record.id,
            False,
        )
    finally:
        store.close()

    strict = tmp_path / "strict.toml"
    # The default policy (10 cases, no cap) over the same templates.
    strict.write_text('[governance]\nenabled_templates = ["report-correction", "structured-report"]\n')
    failed = _medvault(
        service, "evaluate", DEFAULT_MODEL_ID, "--templates", "report-correction.en", "--cases", "1",
        "--max-tokens", "8", "--out", str(tmp_path / "strict"), config=strict,
    )  # fmt: skip
    assert failed.returncode == 1, failed.stdout + failed.stderr
    said = " ".join(failed.stdout.split())
    assert "FAILED" in said and "1 case(s) run, the policy asks for 10" in said and "capped at 8" in said
    # Compared with the approved model's evaluation: the baseline is named in the report.
    assert record.id in (tmp_path / "strict" / "evaluation.html").read_text()
