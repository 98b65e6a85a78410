"""The workbench's JSON API under `/api/v1`: templates, streamed runs, feedback, the survey.

Every route is audited exactly once (the route's `name` is the audit action) and answers errors in the
gateway's one error shape, through `medvault.gateway._calls.endpoint`. Each request is authenticated and
its role checked before its body is read: a stranger gets 401, never a parse or validation error, and
the bytes of an unauthenticated body are never looked at. Bodies are then read through the gateway's
`read_json`, which counts the bytes as they arrive: a chunked body without `Content-Length` meets the
same `limits.max_body_bytes` as a declared one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from medvault.errors import NotFound, StoreError, ValidationFailed
from medvault.gateway._app import Gateway
from medvault.gateway._auth import require_role
from medvault.gateway._calls import Call, CallLog, endpoint
from medvault.gateway._schemas import read_json
from medvault.gateway.errors import validation_failed
from medvault.store import Feedback, Principal, Survey
from medvault.templates import TemplateLibrary
from medvault.workbench._access import READERS, USERS, Access
from medvault.workbench._runs import Runner
from medvault.workbench._schemas import (
    FeedbackIn,
    FeedbackOut,
    Lang,
    RunIn,
    RunOut,
    SurveyIn,
    SurveyOut,
    TemplateDetailOut,
    TemplateOut,
)

PREFIX = "/api/v1"
# Who may call each route (by audit action); every other route is for USERS.
_ROLES = {"run.read": USERS | READERS}


async def limited(request: Request, max_body_bytes: int) -> Request:
    """The request with its JSON body read under the byte limit (413 past it, 400 if not JSON), replayed
    to FastAPI's own parsing; GET and friends pass unread."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return request
    raw = orjson.dumps(await read_json(request, max_body_bytes))
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await request.receive()  # after the body: wait for the disconnect, as Starlette does
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return Request(request.scope, replay)


def _idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key` as a canonical UUID (None without one); 422 if it is not a UUID."""
    given = request.headers.get("idempotency-key")
    if given is None:
        return None
    try:
        return str(uuid.UUID(given))
    except ValueError:
        raise ValidationFailed("Idempotency-Key must be a UUID", param="Idempotency-Key") from None


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def audited_route(calls: CallLog, access: Access, max_body_bytes: int) -> type[APIRoute]:
    """A route class whose handler runs inside `endpoint(...)`: audited once, errors in one shape,
    the caller authenticated and authorised before the body is read."""

    class AuditedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            original = super().get_route_handler()
            roles = _ROLES.get(self.name, USERS)

            async def handler(request: Request, call: Call) -> Response:
                request.state.call = call
                # Access sees a request without a body: a JSON API takes its CSRF token from the
                # header only, and a form parser must not read a body nobody has vouched for yet.
                call.principal = await access(Request(request.scope, _no_body))
                require_role(call.principal, roles)  # after setting it: the refusal names who
                request = await limited(request, max_body_bytes)
                try:
                    return await original(request)
                except RequestValidationError as exc:
                    raise validation_failed(exc) from None

            audited = endpoint(calls, self.name, handler)

            async def route_handler(request: Request) -> Response:
                return await audited(request)

            return route_handler

    return AuditedRoute


def current_call(request: Request) -> Call:
    """The audit record of this request, opened by `AuditedRoute`."""
    call: Call = request.state.call
    return call


CurrentCall = Annotated[Call, Depends(current_call)]


class Api:
    """The route handlers; `router()` lists them."""

    def __init__(self, gateway: Gateway, library: TemplateLibrary, runner: Runner, access: Access) -> None:
        self._gateway = gateway
        self._library = library
        self._runner = runner
        self._access = access

    def _lang(self, request: Request, given: str | None) -> str:
        if given:
            return given
        session = self._access.known_session(request)
        return session.lang if session else self._gateway.settings.workbench.default_language

    @staticmethod
    def _who(call: Call) -> Principal:
        """The caller, authenticated and authorised by `AuditedRoute` before the handler ran."""
        assert call.principal is not None, "AuditedRoute sets the principal first"
        return call.principal

    async def list_templates(
        self, request: Request, lang: Annotated[Lang | None, Query()] = None
    ) -> list[TemplateOut]:
        """The templates in one language, in library order (grouped by task type on the page)."""
        return [TemplateOut.of(t) for t in self._library.list(self._lang(request, lang))]

    async def get_template(
        self,
        request: Request,
        call: CurrentCall,
        template_id: str,
        lang: Annotated[Lang | None, Query()] = None,
    ) -> TemplateDetailOut:
        """One template with its inputs: what a client needs to build the run form."""
        template = self._runner.template(template_id, self._lang(request, lang))
        call.template_id, call.template_version = template.id, template.version
        return TemplateDetailOut.of(template)

    async def create_run(self, request: Request, call: CurrentCall, body: RunIn) -> Response:
        """Run a template; the answer streams back as server-sent events (see docs/api.md).

        An `Idempotency-Key` header (a UUID the client picks per run) makes a retry of the same request a
        409 naming the run it started, never a second run."""
        principal = self._who(call)
        key = _idempotency_key(request)
        return await self._runner.start(call, principal, body, self._lang(request, body.lang), key)

    async def get_run(self, request: Request, call: CurrentCall, run_id: str) -> RunOut:
        """A run's record; its text only while the deployment retains content."""
        principal = self._who(call)
        result = await asyncio.to_thread(self._runner.read, run_id, principal)
        call.template_id, call.template_version = result.template_id, result.template_version
        call.detail["run_id"] = run_id
        return result

    async def create_feedback(
        self, request: Request, call: CurrentCall, run_id: str, body: FeedbackIn
    ) -> FeedbackOut:
        """Rate a run: utility, critical error and its categories, an optional comment.

        A run has one rating: rating it again replaces the earlier one (`replaced` says so); the audit
        trail keeps every submission's numbers."""
        principal = self._who(call)
        run = await asyncio.to_thread(self._runner.owned, run_id, principal)
        if body.categories and not body.critical_error:
            raise ValidationFailed(
                "error categories are given only with critical_error = true", param="categories"
            )
        try:
            saved, replaced = await asyncio.to_thread(self._save_feedback, run.id, principal, body)
        except StoreError as exc:  # the run was purged between the read and the write
            raise NotFound(str(exc), code="run_not_found", param="run_id") from exc
        call.template_id, call.template_version = saved.template_id, saved.template_version
        call.model_id, call.model_digest = saved.model_id, saved.model_digest
        call.detail.update(run_id=run.id, utility=saved.utility, critical_error=saved.critical_error)
        call.detail.update(categories=len(saved.categories), replaced=replaced)
        return FeedbackOut.of(saved, replaced=replaced)

    def _save_feedback(self, run_id: str, principal: Principal, body: FeedbackIn) -> tuple[Feedback, bool]:
        """Save the rating (replacing an earlier one of this run); whether one was replaced."""
        store = self._gateway.store
        earlier = store.get_feedback(run_id)
        saved = store.save_feedback(
            run_id=run_id, user=principal.user, utility=body.utility, critical_error=body.critical_error,
            categories=body.categories, comment=body.comment or None,
        )  # fmt: skip
        return saved, earlier is not None

    async def create_survey(self, request: Request, call: CurrentCall, body: SurveyIn) -> SurveyOut:
        """Answer the pilot-end survey: stability and ease of use, 0–10; answering again replaces it."""
        principal = self._who(call)
        saved, replaced = await asyncio.to_thread(self._save_survey, principal, body)
        call.detail.update(stability=saved.stability, ease_of_use=saved.ease_of_use, replaced=replaced)
        return SurveyOut(
            id=saved.id, stability=saved.stability, ease_of_use=saved.ease_of_use, replaced=replaced
        )

    def _save_survey(self, principal: Principal, body: SurveyIn) -> tuple[Survey, bool]:
        """Save the user's answer (replacing an earlier one); whether one was replaced."""
        store = self._gateway.store
        earlier = store.get_survey(principal.user)
        saved = store.save_survey(
            user=principal.user, stability=body.stability, ease_of_use=body.ease_of_use,
            comment=body.comment or None,
        )  # fmt: skip
        return saved, earlier is not None

    def router(self) -> APIRouter:
        settings = self._gateway.settings
        router = APIRouter(
            prefix=PREFIX,
            tags=["workbench"],
            route_class=audited_route(self._gateway.calls, self._access, settings.limits.max_body_bytes),
        )
        router.add_api_route("/templates", self.list_templates, methods=["GET"], name="templates.list")
        router.add_api_route(
            "/templates/{template_id}", self.get_template, methods=["GET"], name="templates.read"
        )
        router.add_api_route(
            "/runs",
            self.create_run,
            methods=["POST"],
            name="run.create",
            response_class=Response,
            responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
        )
        router.add_api_route("/runs/{run_id}", self.get_run, methods=["GET"], name="run.read")
        router.add_api_route(
            "/runs/{run_id}/feedback",
            self.create_feedback,
            methods=["POST"],
            name="feedback.create",
            status_code=201,
        )
        router.add_api_route(
            "/survey", self.create_survey, methods=["POST"], name="survey.create", status_code=201
        )
        return router
