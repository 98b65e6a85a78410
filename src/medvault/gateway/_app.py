"""The app factory: the one place where the gateway's parts are built and wired together."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import orjson
import structlog
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from medvault.backends import ModelRouter, QueueDepth, Runtime, health_loop
from medvault.config import Settings
from medvault.directory import Authenticator as DirectoryAuthenticator
from medvault.errors import StoreError
from medvault.gateway._auth import ADMIN_ROLES, Authenticator, require_role
from medvault.gateway._calls import Call, CallLog, endpoint
from medvault.gateway._chat import ChatCompletions
from medvault.gateway._fastpath import GatewayApp
from medvault.gateway._metrics import Metrics
from medvault.gateway._ratelimit import RateLimiter
from medvault.gateway._request import header
from medvault.gateway.errors import hardened, install_error_handlers
from medvault.governance import ApprovalGate
from medvault.governance._monitoring import MonitoringCollector
from medvault.store import AuditEvent, AuditWriter, CompactionFailed, Store

log = structlog.get_logger("medvault.gateway")
PURGE_INTERVAL_S = 3600.0
RATE_PRUNE_INTERVAL_S = 300.0
ISOLATION_STATES = frozenset({"ok", "breached", "off"})
METRICS_PAGE = "/workbench/admin/metrics"  # the same numbers, readable, for a signed-in admin or auditor


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


@dataclass
class Gateway:
    """Everything a request may need; built by `create_app`, started and stopped by its lifespan."""

    settings: Settings
    store: Store
    routers: dict[str, ModelRouter]
    metrics: Metrics
    audit: AuditWriter
    auth: Authenticator
    calls: CallLog
    chat: ChatCompletions
    gate: ApprovalGate  # which models change control holds back, and why
    limiter: RateLimiter  # requests and tokens per minute, shared by every gateway process
    queue: QueueDepth  # how deep the engines' own queues are
    # Sign-in and re-check of local and directory users, one per process: it remembers when the directory
    # last confirmed each user. The API keys of directory users ask it too; the workbench should reuse it.
    authenticator: DirectoryAuthenticator
    isolation: str = "off"  # "on" when the supervisor placed this gateway in an isolated zone
    worker: int = 0  # this process's number among `gateway.workers` (0: the only one)
    session: aiohttp.ClientSession | None = None

    def isolation_state(self) -> str:
        """ok / breached / off, for the workbench header and the metrics; anything else is "unknown".

        Fail closed: a state nobody here knows (a damaged file, a newer monitor) must not look safe.
        """
        if self.isolation == "off":
            return "off"
        from medvault.isolation import read_state  # the gateway needs only this of the isolation package

        state = read_state(self.settings.data_dir).get("state", "breached")
        return state if state in ISOLATION_STATES else "unknown"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(
            limit=0, ttl_dns_cache=None, use_dns_cache=False, keepalive_timeout=60
        )
        # trust_env=False: no proxy variables may ever send traffic anywhere but the configured engines.
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False)
        self.chat.session = self.session
        await self.audit.start()
        await asyncio.gather(*(r.check_health(self.session, 2.0) for r in self.routers.values()))
        background = [
            asyncio.create_task(
                health_loop(list(self.routers.values()), self.session, self.settings.limits.health_interval_s)
            )
        ]
        # Always, also with content_days = 0: content stored under an earlier, longer setting must go. One
        # process per host (the only one, or worker 1): each purge may rewrite the whole database file, and
        # a SQLite checkpoint waiting for readers holds back every writer meanwhile.
        if self.worker <= 1:
            background.append(asyncio.create_task(self._purge_loop()))
        if self.settings.limits.busy_queue_depth > 0:
            background.append(
                asyncio.create_task(self.queue.poll_loop(self.session, self.settings.limits.queue_poll_s))
            )
        background.append(asyncio.create_task(self._prune_rate_windows()))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.audit.stop()
            await self.session.close()
            log.info("gateway_stopped")  # the mark of a graceful stop (the audit writer has drained)

    async def _purge_loop(self) -> None:
        """Content retention really deletes: content past the retention in force (a lowered setting, 0
        included, shortens what is stored) is blanked and the file compacted, at start and then hourly. Done
        here, by the process that owns the database, not by the supervisor as root (see
        docs/security-model.md); the rows blanked are audited, never what they held, also when the
        compaction failed (it stays owed, and the next purge of any process does it)."""
        while True:
            detail: dict[str, bool] = {}
            try:
                purged = await asyncio.to_thread(self.store.purge_expired)
            except CompactionFailed as exc:  # the blanking stands; the compaction stays owed
                log.error("purge_compaction_failed", error=str(exc), rows=exc.rows)
                purged, detail = exc.rows, {"compacted": False}
            except StoreError as exc:  # the next round tries again; the service goes on meanwhile
                log.error("purge_failed", error=str(exc))
                purged = 0
            if purged:
                event = AuditEvent(
                    ts=datetime.now(UTC), user="medvault", role="system", action="retention.purge",
                    status=200, client_kind="gateway", request_id=f"purge-{time.time_ns()}",
                    detail={"rows": purged, **detail},
                )  # fmt: skip
                await self.audit.submit(event)
            await asyncio.sleep(PURGE_INTERVAL_S)

    async def _prune_rate_windows(self) -> None:
        """Windows of past minutes are of no further use; every process prunes (a no-op when another
        just did)."""
        while True:
            await asyncio.sleep(RATE_PRUNE_INTERVAL_S)
            try:
                await asyncio.to_thread(self.limiter.prune)
            except StoreError as exc:  # the next round tries again
                log.error("rate_prune_failed", error=str(exc))

    async def list_models(self, request: Request, call: Call) -> Response:
        call.principal = await self.auth(request)
        held = await self.gate.held()  # weights awaiting approval, or retired: not offered
        created = int(time.time())
        data = [
            {
                "id": model_id,
                "object": "model",
                "created": created,
                "owned_by": "medvault",
                "digest": router.digest,
                "ready": router.ready,
            }
            for model_id, router in self.routers.items()
            if model_id not in held
        ]
        return _json({"object": "list", "data": data})

    async def metrics_endpoint(self, request: Request, call: Call) -> Response:
        if not header(request, b"authorization") and "text/html" in header(request, b"accept").lower():
            # A person with a browser, not Prometheus: send them to the page they can read (sign-in
            # there). API clients never ask for HTML, so they keep the 401 that tells them to send a key.
            return RedirectResponse(METRICS_PAGE, status_code=303)
        call.principal = await self.auth(request)
        require_role(call.principal, ADMIN_ROLES)
        self.metrics.isolation_breached.set(0 if self.isolation_state() in ("ok", "off") else 1)
        # In a thread: a monitoring refresh reads every rating (at most every `monitoring.refresh_s`).
        body = await asyncio.to_thread(self.metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4")

    async def healthz(self, request: Request) -> Response:
        # A worker's number lets the supervisor's probe tell the processes on one port apart.
        return hardened(_json({"status": "ok", "worker": self.worker} if self.worker else {"status": "ok"}))

    async def readyz(self, request: Request) -> Response:
        """Ready when every model serves: its engine answers and change control lets it (`held` says why
        not; the reason names only model ids, digests and the approval command)."""
        held = await self.gate.held()
        models = {
            model_id: router.ready and model_id not in held for model_id, router in self.routers.items()
        }
        ready = all(models.values())
        answer: dict[str, object] = {"status": "ready" if ready else "not ready", "models": models}
        if held:
            answer["held"] = held
        return hardened(_json(answer, 200 if ready else 503))


def create_app(settings: Settings, runtime: Runtime, store: Store) -> FastAPI:
    """Build the API's ASGI app over an opened, migrated store and the engines the supervisor started;
    `app.state.gateway` holds the services. `medvault.app.create_app` adds the workbench beside it."""
    routers = {
        spec.id: ModelRouter(
            spec.id, spec.build_replicas(), reasoning_starts_inside=spec.reasoning_starts_inside
        )
        for spec in runtime.models
    }
    metrics = Metrics(routers.values())
    audit = AuditWriter(store)
    queue = QueueDepth(routers.values(), settings.limits.busy_queue_depth)
    limiter = RateLimiter(store, settings.limits, queue)
    metrics.register_live(MonitoringCollector(store, settings.monitoring))
    calls = CallLog(audit, metrics, limiter if limiter.counts_tokens else None)
    directory = DirectoryAuthenticator(store, settings.directory)
    auth = Authenticator(
        store.authenticate_key, settings.auth.cache_ttl_s, limiter, still_valid=directory.key_still_valid
    )
    gate = ApprovalGate(
        store.model_approvals, {spec.id: [r.digest for r in spec.replicas] for spec in runtime.models}
    )
    chat = ChatCompletions(routers, auth, calls, settings.limits, gate)
    gateway = Gateway(
        settings, store, routers, metrics, audit, auth, calls, chat, gate, limiter, queue, directory,
        runtime.isolation,
    )  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with gateway.running():
            yield

    app = GatewayApp(
        title="MedVault",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads scripts from a CDN
        redoc_url=None,
        openapi_url=None,  # served below, to API keys only: it maps the attack surface
        # Starlette's trailing-slash redirect builds an absolute URL from the client's Host header; a
        # path with a stray slash is simply not found.
        redirect_slashes=False,
        # FastAPI's OpenTelemetry hooks: off, and never configured from the environment, so nothing in
        # the process can start exporting traces, metrics or logs anywhere. (It also reads os.environ
        # on every request.)
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.gateway = gateway
    install_error_handlers(app)

    async def openapi_document(request: Request, call: Call) -> Response:
        call.principal = await auth(request)
        return _json(app.openapi())

    app.api_route_fast("/v1/chat/completions", endpoint(calls, "chat.completions", chat), ["POST"])
    app.api_route_fast("/v1/models", endpoint(calls, "models.list", gateway.list_models), ["GET"])
    app.api_route_fast("/metrics", endpoint(calls, "metrics.read", gateway.metrics_endpoint), ["GET"])
    app.api_route_fast("/openapi.json", endpoint(calls, "openapi.read", openapi_document), ["GET"])
    app.router.add_route("/healthz", gateway.healthz, ["GET"], include_in_schema=False)
    app.router.add_route("/readyz", gateway.readyz, ["GET"], include_in_schema=False)
    return app
