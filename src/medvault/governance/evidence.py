"""The evidence report: what an information-security officer and a data-protection officer sign.

    summary = build_evidence(store, settings, Path("evidence"), user="root (login alice)")

writes `evidence.html`, `evidence.pdf` (WeasyPrint) and `evidence.sha256`, all from checks made at that
moment: a fresh `verify` of isolation (fail closed: "NOT verified" unless an isolated instance runs and
passes every check and probe), the rendered ruleset, the audit chain recomputed (its head hash), the
retention settings and the last purge, users per role (counts), models with their approvals and
evaluations, the risk classes of the templates, open incidents and the post-deployment drift alerts.
The SHA-256 of the HTML and of the PDF is then written to the audit chain (`report.evidence`), so a copy
can be checked against the trail. The report holds ids, digests, counts and times, never content and
never user names.
"""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape
from sqlalchemy.engine import make_url

from medvault import __version__
from medvault.config import Settings
from medvault.governance import _evidence_store as db
from medvault.governance._evidence_diagram import architecture_svg
from medvault.governance._evidence_isolation import IsolationEvidence, isolation_evidence
from medvault.governance._monitoring import monitoring_chart_svg, monitoring_summary, svg_data_uri
from medvault.store import AuditEvent, Store
from medvault.templates import Template, TemplateLibrary

__all__ = ["EvidenceSummary", "build_evidence"]

ACTION = "report.evidence"


@dataclass(frozen=True)
class EvidenceSummary:
    """What was written, its digests (also in the audit trail), and the verdicts it states."""

    html: Path
    pdf: Path
    digests: Path
    html_sha256: str
    pdf_sha256: str
    isolation_verified: bool
    verified_at: datetime
    chain_ok: bool
    head_hash: str | None
    open_incidents: int
    alerts: int
    material_changes: tuple[str, ...] = ()  # "model digest: change; ..." per approved digest that changed

    @property
    def ok(self) -> bool:
        """What the command's exit status stands for: isolation verified, the chain intact, and no
        approved model of this deployment with a material change since its approval."""
        return self.isolation_verified and self.chain_ok and not self.material_changes


def template_risks(library: TemplateLibrary) -> list[dict[str, Any]]:
    """Each template of this deployment (one row per id and language) with its risk class, and whether
    the deployment offers it or refuses it (device class not enabled)."""
    every: list[tuple[Template, str | None]] = [(t, None) for t in library.list()]
    every += library.refused.values()
    rows = []
    for template, refusal in sorted(every, key=lambda pair: (pair[0].id, pair[0].lang)):
        risk = template.risk.model_dump(mode="json")
        rows.append({
            "id": template.id, "lang": template.lang, "title": template.title,
            "task_type": template.task_type, "guard": template.guard_task or "none", "risk": risk,
            "regulatory": risk.get("regulatory", {}), "enabled": refusal is None, "refusal": refusal,
        })  # fmt: skip
    return rows


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _environment() -> Environment:
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    env.filters["ts"] = lambda value: (
        "–" if value is None else value.astimezone(UTC).isoformat(timespec="seconds")
    )
    return env


def render_html(context: dict[str, Any]) -> str:
    source = resources.files("medvault.governance").joinpath("evidence_report.html.j2").read_text("utf-8")
    return _environment().from_string(source).render(**context)


def _context(
    store: Store, settings: Settings, iso: IsolationEvidence, clock: Callable[[], datetime]
) -> dict[str, Any]:
    """Everything the template shows. Monitoring first: it may audit new alerts, which the chain head
    read afterwards then includes."""
    now = clock()
    monitoring = monitoring_summary(store, settings.monitoring, now, client_kind="cli")
    alerted = sorted({a.template_id for a in monitoring.alerts})
    chain = db.chain_status(store, clock())
    incidents = db.incidents(store, iso.state)
    library = TemplateLibrary.for_settings(settings)
    models = db.models(store, settings, library.list())
    return {
        "generated": now, "version": __version__, "host": socket.gethostname(),
        "data_dir": str(settings.data_dir.resolve()),
        "database": make_url(settings.resolved_database_url).render_as_string(hide_password=True),
        "iso": iso,
        "diagram": svg_data_uri(architecture_svg(iso.flows, iso.zones, [
            f"{a.name} {a.address}:{a.port}" for a in settings.isolation.airlocks
        ])),
        "chain": chain, "retention": db.retention_status(store, settings, now), "roles": db.roles(store),
        "models": models, "changed_models": [m for m in models if m.changes],
        "templates": template_risks(library), "incidents": incidents,
        "open_incidents": [i for i in incidents if i.open], "monitoring": monitoring,
        "charts": {t: svg_data_uri(monitoring_chart_svg(monitoring, t)) for t in alerted},
    }  # fmt: skip


def build_evidence(
    store: Store,
    settings: Settings,
    out: Path,
    *,
    user: str,
    role: str = "admin",
    client_kind: str = "cli",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> EvidenceSummary:
    """Run every check now, write the HTML, the PDF and their digests to `out`, and audit the digests."""
    from weasyprint import HTML  # imported here: it loads Pango, which only this command needs

    out.mkdir(parents=True, exist_ok=True)
    iso = isolation_evidence(settings, clock)
    context = _context(store, settings, iso, clock)
    html_path, pdf_path, sums = out / "evidence.html", out / "evidence.pdf", out / "evidence.sha256"
    html_path.write_text(render_html(context), encoding="utf-8")
    HTML(filename=str(html_path)).write_pdf(str(pdf_path))
    html_sha, pdf_sha = _sha256(html_path), _sha256(pdf_path)
    sums.write_text(f"{html_sha}  {html_path.name}\n{pdf_sha}  {pdf_path.name}\n", encoding="ascii")
    chain = context["chain"]
    store.record_audit(
        AuditEvent(
            ts=clock(), user=user, role=role, action=ACTION, status=200, client_kind=client_kind,
            request_id=uuid.uuid4().hex,
            detail={
                "html_sha256": html_sha, "pdf_sha256": pdf_sha, "isolation_verified": iso.verified,
                "chain_ok": chain.ok, "head_hash": chain.head_hash or "",
                "material_changes": len(context["changed_models"]),
            },
        )
    )  # fmt: skip
    return EvidenceSummary(
        html_path, pdf_path, sums, html_sha, pdf_sha, iso.verified, iso.finished_at, chain.ok,
        chain.head_hash, len(context["open_incidents"]), len(context["monitoring"].alerts),
        tuple(
            f"{m.approval.model_id} {m.approval.digest}: {'; '.join(m.changes or ())}"
            for m in context["changed_models"]
        ),
    )  # fmt: skip
