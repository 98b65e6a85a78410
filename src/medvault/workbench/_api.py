"""The workbench's JSON API under `/api/v1`: templates (with their input limits in tokens), token counts,
streamed runs, one's recent runs, feedback, the survey.

Every route is audited exactly once (the route's `name` is the audit action) and answers errors in the
gateway's one error shape, through `medvault.gateway.endpoint`. Each request is authenticated and
its role checked before its body is read: a stranger gets 401, never a parse or validation error, and
the bytes of an unauthenticated body are never looked at. Bodies are then read through the gateway's
`read_json`, which counts the bytes as they arrive: a chunked body without `Content-Length` meets the
same `limits.max_body_bytes` as a declared one, and which applies the API's one Content-Type rule (415
for a body declared as anything but JSON).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message

from medvault.errors import NotFound, StoreError, ValidationFailed
from medvault.gateway import (
    Call,
    CallLog,
    Gateway,
    endpoint,
    error_responses,
    read_json,
    require_role,
    validation_failed,
)
from medvault.store import Feedback, Principal, SurveyAnswer, get_survey_answer, save_survey_answer
from medvault.templates import Template, TemplateLibrary
from medvault.workbench._access import READERS, USERS, Access
from medvault.workbench._limits import InputTooLong
from medvault.workbench._runs import Runner
from medvault.workbench._schemas import (
    FeedbackIn,
    FeedbackOut,
    InputTooLongOut,
    Lang,
    RecentRunsOut,
    RunIn,
    RunOut,
    SurveyIn,
    SurveyOut,
    TemplateDetailOut,
    TemplateOut,
    TokensIn,
    TokensOut,
)

PREFIX = "/api/v1"
# Who may call each route (by audit action); every other route is for USERS.
_ROLES = {"run.read": USERS | READERS}
_IDEMPOTENCY_KEY_DOC = "a UUID the client picks per run: a retry with the same key is a 409 naming the run"
# The errors every route may answer, those of a route with a body, and those of a route that looks one up.
_EVERY = error_responses(401, 403, 422, 429, 500)
_BODY = error_responses(400, 413, 415)
_FOUND = error_responses(404)


async def limited(request: Request, max_body_bytes: int) -> Request:
    """The request with its JSON body read under the byte limit (413 past it, 415 if declared as another
    type, 400 if not JSON), replayed to FastAPI's own parsing; GET and friends pass unread."""
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


def _idempotency_key(given: str | None) -> str | None:
    """An `Idempotency-Key` as a canonical UUID (None without one); 422 if it is not a UUID."""
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

    async def _lang(self, request: Request, given: str | None) -> str:
        if given:
            return given
        session = await self._access.known_session(request)
        return session.lang if session else self._gateway.settings.workbench.default_language

    @staticmethod
    def _who(call: Call) -> Principal:
        """The caller, authenticated and authorised by `AuditedRoute` before the handler ran."""
        assert call.principal is not None, "AuditedRoute sets the principal first"
        return call.principal

    async def _limits(self, templates: list[Template]) -> list[int]:
        """Each template's input limit on the default model (counted at once: an engine that is busy
        generating makes each count wait for the same timeout, not one after the other)."""
        model = self._runner.model(None)
        found = await asyncio.gather(*(self._runner.limits.limit(t, model) for t in templates))
        return [limit for limit, _ in found]

    async def list_templates(
        self, request: Request, lang: Annotated[Lang | None, Query()] = None
    ) -> list[TemplateOut]:
        """The templates in one language, in library order (grouped by task type on the page)."""
        templates = self._library.list(await self._lang(request, lang))
        limits = await self._limits(templates)
        return [TemplateOut.of(t, limit) for t, limit in zip(templates, limits, strict=True)]

    async def get_template(
        self,
        request: Request,
        call: CurrentCall,
        template_id: str,
        lang: Annotated[Lang | None, Query()] = None,
    ) -> TemplateDetailOut:
        """One template with its inputs: what a client needs to build the run form."""
        template = self._runner.template(template_id, await self._lang(request, lang))
        call.template_id, call.template_version = template.id, template.version
        (limit,) = await self._limits([template])
        return TemplateDetailOut.of(template, limit)

    async def count_tokens(self, request: Request, call: CurrentCall, body: TokensIn) -> TokensOut:
        """The inputs' size in the model's tokens against the template's input limit (the live counter).

        Counted by the engine's own tokenizer where it has one (`exact`), else a conservative estimate;
        the inputs are not validated here, and nothing of them is kept or audited but the numbers."""
        await self._runner.admit_session(self._who(call))  # each count asks the engine's tokenizer
        template = self._runner.template(body.template_id, await self._lang(request, body.lang))
        call.template_id, call.template_version = template.id, template.version
        measure = await self._runner.limits.measure(template, body.inputs, self._runner.model(body.model))
        call.detail.update(input_tokens=measure.tokens, input_limit=measure.limit, exact=measure.exact)
        return TokensOut(tokens=measure.tokens, limit=measure.limit, over=measure.over, exact=measure.exact)

    async def create_run(
        self,
        request: Request,
        call: CurrentCall,
        body: RunIn,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", description=_IDEMPOTENCY_KEY_DOC)
        ] = None,
    ) -> Response:
        """Run a template; the answer streams back as server-sent events (see docs/api.md).

        An `Idempotency-Key` header (a UUID the client picks per run) makes a retry of the same request a
        409 naming the run it started, never a second run."""
        principal = self._who(call)
        key = _idempotency_key(idempotency_key)
        try:
            return await self._runner.start(call, principal, body, await self._lang(request, None), key)
        except InputTooLong as exc:  # 413 with the numbers the UI shows beside its counter
            return JSONResponse(exc.body(), status_code=exc.status_code)

    async def list_runs(
        self,
        request: Request,
        call: CurrentCall,
        mine: Annotated[bool, Query(description="only the caller's own runs (the only list)")] = True,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> RecentRunsOut:
        """The caller's own newest runs: metadata only, and whether the server keeps each one's text."""
        if not mine:
            raise ValidationFailed("only your own runs are listed: use mine=1", param="mine")
        principal = self._who(call)
        runs = await asyncio.to_thread(self._runner.recent, principal, limit, await self._lang(request, None))
        call.detail["listed"] = len(runs)
        return RecentRunsOut(runs=runs)

    async def get_run(self, request: Request, call: CurrentCall, run_id: str) -> RunOut:
        """A run's record; its text only while the deployment retains content."""
        principal = self._who(call)
        result = await asyncio.to_thread(
            self._runner.read, run_id, principal, await self._lang(request, None)
        )
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
        """Answer the pilot-end survey (stability, usability, utility per template 0–10, critical errors
        seen, role); answering again replaces the whole answer."""
        principal = self._who(call)
        known = {t.id for t in self._library.list()}
        unknown = sorted(set(body.template_utility) - known)
        if unknown:
            raise ValidationFailed(f"unknown template ids {unknown}", param="template_utility")
        saved, replaced = await asyncio.to_thread(self._save_survey, principal, body)
        # Numbers and the role only (never the comment); a part left unanswered is left out.
        call.detail.update(
            stability=saved.stability, ease_of_use=saved.ease_of_use,
            templates_rated=len(saved.template_utility or {}), replaced=replaced,
        )  # fmt: skip
        if saved.rater_role is not None:
            call.detail.update(rater_role=saved.rater_role)
        if saved.critical_errors_seen is not None:
            call.detail.update(critical_errors_seen=saved.critical_errors_seen)
        return SurveyOut(
            id=saved.id, stability=saved.stability, ease_of_use=saved.ease_of_use,
            template_utility=saved.template_utility or {}, critical_errors_seen=saved.critical_errors_seen,
            rater_role=saved.rater_role, replaced=replaced,
        )  # fmt: skip

    def _save_survey(self, principal: Principal, body: SurveyIn) -> tuple[SurveyAnswer, bool]:
        """Save the user's answer (replacing an earlier one); whether one was replaced."""
        store = self._gateway.store
        earlier = get_survey_answer(store, principal.user)
        saved = save_survey_answer(
            store, user=principal.user, stability=body.stability, ease_of_use=body.ease_of_use,
            rater_role=body.rater_role, critical_errors_seen=body.critical_errors_seen,
            template_utility=body.template_utility or None, comment=body.comment or None,
        )  # fmt: skip
        return saved, earlier is not None

    def router(self) -> APIRouter:
        settings = self._gateway.settings
        router = APIRouter(
            prefix=PREFIX,
            tags=["workbench"],
            route_class=audited_route(self._gateway.calls, self._access, settings.limits.max_body_bytes),
            responses=_EVERY,
            # `limited` has applied the gateway's one Content-Type rule (read_json): a body it let through
            # without a type is JSON here too, as on /v1/chat/completions.
            strict_content_type=False,
        )
        router.add_api_route("/templates", self.list_templates, methods=["GET"], name="templates.list")
        router.add_api_route(
            "/templates/{template_id}",
            self.get_template,
            methods=["GET"],
            name="templates.read",
            responses=_FOUND,
        )
        router.add_api_route(
            "/runs",
            self.create_run,
            methods=["POST"],
            name="run.create",
            response_class=Response,
            responses={
                200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
                **_BODY,
                **_FOUND,
                **error_responses(409, 502, 503, 504),
                413: {"model": InputTooLongOut, "description": "the body is over `limits.max_body_bytes`, "
                      "or the inputs do not fit the model (`code` input_too_long, with the numbers)"},
            },
        )  # fmt: skip
        router.add_api_route(
            "/tokens",
            self.count_tokens,
            methods=["POST"],
            name="tokens.count",
            responses={**_BODY, **_FOUND},
        )
        router.add_api_route("/runs", self.list_runs, methods=["GET"], name="runs.list")
        router.add_api_route(
            "/runs/{run_id}", self.get_run, methods=["GET"], name="run.read", responses=_FOUND
        )
        router.add_api_route(
            "/runs/{run_id}/feedback",
            self.create_feedback,
            methods=["POST"],
            name="feedback.create",
            status_code=201,
            responses={**_BODY, **_FOUND},
        )
        router.add_api_route(
            "/survey",
            self.create_survey,
            methods=["POST"],
            name="survey.create",
            status_code=201,
            responses=_BODY,
        )
        return router
