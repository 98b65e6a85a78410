"""The admin and auditor pages under /workbench/admin: status, users and keys, audit trail,
evaluations, monitoring, reports, metrics. Server-rendered, read-only, for signed-in admins and auditors
(users and keys: admins only).

Nothing on these pages is content: the status page shows states, ids and digests; the audit trail its
fixed fields (its `detail` holds counts and ids only, by the store's own rule); evaluations and
monitoring show digests, rates and p-values; reports rate and count, never quote. Each page view is
audited once (`admin.<page>`), refusals included.

Reports are a list of `ReportKind`s: the pilot report and the evidence report. The evidence report is
built when it is downloaded, by the gateway: unprivileged inside its sandbox, it cannot run `verify`, so
that report says isolation was NOT verified. The report an approval board signs is the one
`medvault report evidence` writes as root; this download shows the rest of the evidence as it stands now.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import Response

from medvault.config import Settings
from medvault.gateway import Call, Gateway, endpoint
from medvault.store import ID_MAX, Principal, Role, Store, StoredAuditEvent
from medvault.workbench._access import READERS
from medvault.workbench._messages import admin_texts, message
from medvault.workbench._sessions import Session

if TYPE_CHECKING:
    from medvault.governance._monitoring import MonitoringSummary

ADMIN = "/workbench/admin"
ADMINS = frozenset({Role.ADMIN.value})
AUDIT_PAGE = 200  # events per audit page
EVALUATIONS_PAGE = 100  # newest evaluations listed

Render = Callable[..., Response]
SessionOf = Callable[[Request], Awaitable[Session | Response]]
Handler = Callable[[Request, Call, Session], Awaitable[Response]]


@dataclass(frozen=True)
class ReportAsk:
    """Who asks for a report, of which deployment."""

    settings: Settings
    store: Store
    principal: Principal


@dataclass(frozen=True)
class ReportKind:
    """A report admins and auditors may download: `build` writes its files into a directory."""

    name: str  # in the URL: /workbench/admin/reports/<name>
    title_key: str  # its title in `medvault.workbench._messages`
    build: Callable[[ReportAsk, Path], object]


def _pilot(ask: ReportAsk, out_dir: Path) -> object:
    from medvault.governance.pilot import build_report  # plots and statistics: loaded when asked for

    return build_report(ask.settings.resolved_database_url, out_dir)


def _evidence(ask: ReportAsk, out_dir: Path) -> object:
    """The evidence report as of now; its digests go to the audit trail under the downloading user."""
    from medvault.governance.evidence import build_evidence  # WeasyPrint loads Pango: only when asked

    principal = ask.principal
    return build_evidence(
        ask.store, ask.settings, out_dir, user=principal.user, role=principal.role.value,
        client_kind="workbench",
    )  # fmt: skip


REPORTS: tuple[ReportKind, ...] = (
    ReportKind("pilot", "report.pilot", _pilot),
    ReportKind("evidence", "report.evidence", _evidence),
)


def _zipped(directory: Path) -> bytes:
    """Every file under `directory`, in one zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _build(kind: ReportKind, ask: ReportAsk) -> bytes:
    with tempfile.TemporaryDirectory(prefix="medvault-report-") as directory:
        kind.build(ask, Path(directory))
        return _zipped(Path(directory))


def _charts(summary: MonitoringSummary) -> list[dict[str, Any]]:
    """One chart per monitored template (an <img> data URI), with its weeks and alerts."""
    from medvault.governance._monitoring import monitoring_chart_svg, svg_data_uri  # matplotlib

    charts = []
    for template_id in sorted({row.template_id for row in summary.rows}):
        svg = monitoring_chart_svg(summary, template_id)
        charts.append({
            "template_id": template_id, "src": svg_data_uri(svg),
            "rows": [r for r in summary.rows if r.template_id == template_id],
            "alerts": summary.alerts_of(template_id),
        })  # fmt: skip
    return charts


def _last_seq(store: Store) -> int:
    """The newest audit event's sequence number (0 for none), by a search over `seq > n` reads:
    a few indexed reads instead of the whole trail, which retention may have cut at the front."""
    if not store.audit_events(0, 1):
        return 0
    low, high = 0, 1024  # invariant: an event has seq > low; none, once found, has seq > high
    while store.audit_events(high, 1):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if store.audit_events(middle, 1):
            low = middle
        else:
            high = middle
    return high


def query_int(given: str) -> int | None:
    """A query parameter as a whole number from 0 to `ID_MAX` (what a database integer holds), else
    None: a larger one fails in the driver, a 500 instead of the client's mistake."""
    if not (given.isascii() and given.isdigit()) or len(given) > len(str(ID_MAX)):
        return None
    value = int(given)
    return value if value <= ID_MAX else None


def audit_page(store: Store, before: int | None) -> tuple[list[StoredAuditEvent], int | None]:
    """Up to `AUDIT_PAGE` events before `before` (default: the newest), newest first, and the
    `before` of the next older page (None at the start of the trail)."""
    end = _last_seq(store) + 1 if before is None else before
    start = max(0, end - 1 - AUDIT_PAGE)
    events = [e for e in store.audit_events(start, AUDIT_PAGE) if e.seq < end]
    events.reverse()
    older = events[-1].seq if events and start > 0 else None
    return events, older


def last_verify(state: dict[str, Any]) -> dict[str, Any] | None:
    """The last `medvault verify` of the current isolation state: when, whether it passed, what failed;
    None when none was recorded. Anything but an explicit pass reads as failed (a damaged record too)."""
    if "verify_ok" not in state:
        return None
    failed = state.get("verify_failed")
    return {
        "at": state.get("verified_at"),
        "ok": state["verify_ok"] is True,
        "failed": [str(name) for name in failed] if isinstance(failed, list) else [],
    }


def _metric_rows(text: str) -> list[dict[str, Any]]:
    """The exposition text as rows: each sample's name, labels and value."""
    rows = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            rows.append({"name": sample.name, "labels": labels, "value": sample.value})
    return rows


class AdminPages:
    """The handlers; `install` adds them to the app."""

    def __init__(
        self,
        gateway: Gateway,
        session_of: SessionOf,
        render: Render,
        lang_of: Callable[[Request, Session], Awaitable[str]],
        window: Callable[[str], int],
        reports: Sequence[ReportKind] = REPORTS,
    ) -> None:
        self._gateway = gateway
        self._session_of = session_of  # the live session, or the redirect to the sign-in form
        self._render = render  # Pages._render: base layout, language cookie, isolation badge
        self._lang_of = lang_of  # Pages._lang: `?lang=` switches the session's language
        self._window = window  # a model's context window in tokens
        self._reports = {kind.name: kind for kind in reports}

    def install(self, app: FastAPI) -> None:
        calls = self._gateway.calls
        pages: list[tuple[str, str, Handler, frozenset[str]]] = [
            (ADMIN, "admin.status", self.status, READERS),
            (ADMIN + "/users", "admin.users", self.users, ADMINS),
            (ADMIN + "/audit", "admin.audit", self.audit, READERS),
            (ADMIN + "/evaluations", "admin.evaluations", self.evaluations, READERS),
            (ADMIN + "/monitoring", "admin.monitoring", self.monitoring, READERS),
            (ADMIN + "/reports", "admin.reports", self.reports, READERS),
            (ADMIN + "/reports/{kind}", "admin.report", self.report, READERS),
            (ADMIN + "/metrics", "admin.metrics", self.metrics, READERS),
        ]
        for path, action, handler, roles in pages:
            app.router.add_route(
                path, endpoint(calls, action, self._guarded(handler, roles)), ["GET"], include_in_schema=False
            )

    def _guarded(
        self, handler: Handler, roles: frozenset[str]
    ) -> Callable[[Request, Call], Awaitable[Response]]:
        """The page for a live session of one of `roles`; else the sign-in form, or a page saying no."""

        async def page(request: Request, call: Call) -> Response:
            session = await self._session_of(request)
            if isinstance(session, Response):
                return session
            call.principal = session.principal
            await self._lang_of(request, session)
            if session.principal.role.value not in roles:
                call.detail["reason"] = "role"
                return self.refusal(request, session, "role.no_admin", status=403)
            return await handler(request, call, session)

        return page

    def refusal(self, request: Request, session: Session, key: str, status: int) -> Response:
        """A page saying what the session's role may not do here (and where its pages are)."""
        role = session.principal.role.value
        return self._page(request, session, "admin_refused.html", status=status,
                          notice=message(key, session.lang, role=role))  # fmt: skip

    def _page(
        self, request: Request, session: Session, page: str, status: int = 200, **context: Any
    ) -> Response:
        return self._render(
            request, page, session.lang, status=status, session=session, a=admin_texts(session.lang),
            is_admin=session.principal.role == Role.ADMIN, **context,
        )  # fmt: skip

    # -- pages -------------------------------------------------------------------------------------

    async def status(self, request: Request, call: Call, session: Session) -> Response:
        gateway = self._gateway
        held = await gateway.gate.held()
        approvals = await asyncio.to_thread(gateway.store.model_approvals)
        models = [
            {
                "id": model_id, "digest": router.digest, "held": held.get(model_id),
                "window": self._window(model_id),
                "queue": sum(r.outstanding for r in router.replicas),
                "replicas": router.replicas,
            }
            for model_id, router in gateway.routers.items()
        ]  # fmt: skip
        state = await asyncio.to_thread(self._isolation_record)
        summary = await self._monitoring_summary()
        return self._page(
            request, session, "admin.html", models=models, approvals=approvals, state=state,
            verify=last_verify(state), alerts=summary.alerts,
        )  # fmt: skip

    async def _monitoring_summary(self) -> MonitoringSummary:
        """The monitoring weeks and drift alerts now (new alerts are recorded and audited on the way)."""
        from medvault.governance._monitoring import monitoring_summary  # loads matplotlib: when asked

        gateway = self._gateway
        return await asyncio.to_thread(
            monitoring_summary, gateway.store, gateway.settings.monitoring, client_kind="workbench"
        )

    def _isolation_record(self) -> dict[str, Any]:
        """The isolation state file as the supervisor wrote it (empty in development mode)."""
        if self._gateway.isolation == "off":
            return {}
        from medvault.isolation import read_state  # as Gateway.isolation_state reads it

        return read_state(self._gateway.settings.data_dir)

    async def users(self, request: Request, call: Call, session: Session) -> Response:
        store = self._gateway.store
        users, keys = await asyncio.gather(
            asyncio.to_thread(store.list_users), asyncio.to_thread(store.list_keys)
        )
        return self._page(request, session, "admin_users.html", users=users, keys=keys)

    async def audit(self, request: Request, call: Call, session: Session) -> Response:
        given = request.query_params.get("before", "")
        before = query_int(given) if given else None
        if given and before is None:  # 400 in the page's own format, saying what `before` takes
            call.detail["reason"] = "before"
            notice = message("admin.bad_before", session.lang, max=ID_MAX)
            return self._page(request, session, "admin_refused.html", status=400, notice=notice)
        events, older = await asyncio.to_thread(audit_page, self._gateway.store, before)
        call.detail["listed"] = len(events)
        return self._page(request, session, "admin_audit.html", events=events, older=older)

    async def evaluations(self, request: Request, call: Call, session: Session) -> Response:
        """The newest evaluations: model, digests, verdict and when; numbers only, never a case's text."""
        records = await asyncio.to_thread(self._gateway.store.evaluations, None, EVALUATIONS_PAGE)
        call.detail["listed"] = len(records)
        return self._page(request, session, "admin_evaluations.html", evaluations=records)

    async def monitoring(self, request: Request, call: Call, session: Session) -> Response:
        """Per template: weekly utility and critical-error charts per model, the weeks as a table, and
        the drift alerts."""
        summary = await self._monitoring_summary()
        charts = await asyncio.to_thread(_charts, summary)
        call.detail["alerts"] = len(summary.alerts)
        return self._page(
            request, session, "admin_monitoring.html", summary=summary, charts=charts,
            alerts=summary.alerts,
        )  # fmt: skip

    async def reports(self, request: Request, call: Call, session: Session) -> Response:
        return self._page(request, session, "admin_reports.html", reports=list(self._reports.values()))

    async def report(self, request: Request, call: Call, session: Session) -> Response:
        """Build the report now and send its files as one zip archive."""
        kind = self._reports.get(request.path_params["kind"])
        if kind is None:
            return self._page(
                request, session, "admin_reports.html", status=404, reports=list(self._reports.values())
            )
        call.detail["report"] = kind.name
        ask = ReportAsk(self._gateway.settings, self._gateway.store, session.principal)
        archive = await asyncio.to_thread(_build, kind, ask)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = f"medvault-{kind.name}-report-{stamp}.zip"
        return Response(
            archive,
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def metrics(self, request: Request, call: Call, session: Session) -> Response:
        """The metrics a Prometheus scrape of /metrics gets, as a table (the same numbers)."""
        gateway = self._gateway
        gateway.metrics.isolation_breached.set(0 if gateway.isolation_state() in ("ok", "off") else 1)
        # Rendering may collect gauges from the database (monitoring): not on the event loop.
        rows = _metric_rows((await asyncio.to_thread(gateway.metrics.render)).decode())
        return self._page(request, session, "admin_metrics.html", rows=rows)
