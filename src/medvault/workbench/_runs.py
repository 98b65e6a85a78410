"""Running a template: render, stream the model's answer as SSE, check it, store it, audit it.

The stream opens at once (headers and a `status` event, `queued` while the engine has sent nothing, then
`generating`), carries SSE comments as keep-alives while the engine is silent, so no hop between browser
and gateway ever sees a silent connection, then `content` and `reasoning` events with text deltas, then
one `done` event with the run's record (guard result, word diff, postprocessed output) or one `error`
event. A request that carries an `Idempotency-Key` (a client-chosen UUID) starts at most one run, in
whichever gateway process or host the retry reaches (the claim is a row in the database,
`medvault.store.claim_run`): a retry is refused with 409 naming the run it started (see
docs/workbench.md). A run counts against its user's request limits like an API call. The audit event and
the stored run carry counts and ids only; the text goes to the browser and, only while the deployment
retains content, into the run's content columns.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from starlette.responses import StreamingResponse

from medvault.errors import (
    ApiError,
    ClientClosed,
    Forbidden,
    GuardError,
    NotFound,
    StoreError,
    TemplateError,
    ValidationFailed,
)
from medvault.gateway import Call, Gateway, error_body
from medvault.guard import GuardResult
from medvault.store import Principal, Role, Run, claim_run, finish_claim, release_claim
from medvault.templates import Template, TemplateLibrary
from medvault.templates._run import chat_request, guard_check, source_text
from medvault.workbench._access import READERS
from medvault.workbench._diff import word_diff
from medvault.workbench._i18n import LANGS
from medvault.workbench._limits import InputTooLong, Limits
from medvault.workbench._messages import engine_fault, localized, message
from medvault.workbench._schemas import (
    DiffSegment,
    FeedbackOut,
    GuardOut,
    RecentRunOut,
    RunIn,
    RunOut,
    plain,
)

log = structlog.get_logger("medvault.workbench")
_CLIENT_CLOSED = ClientClosed.status_code
# How long a run waits for the engine's first word before it opens its stream anyway: refusals that come
# at once (an unknown or held model, a busy or absent engine) still get a plain HTTP status.
EARLY_S = 0.5
KEEPALIVE_S = 15.0  # an SSE comment this often while the engine is silent
_KEEPALIVE = b": keep-alive\n\n"
# A fixed text: an unexpected error's own message may quote the model's answer.
_POSTPROCESS_FAILED = "the answer could not be postprocessed; see the gateway log"


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class DuplicateRun(ApiError):
    """A run with this client-chosen id was already started (by a browser retry, most likely)."""

    status_code = 409
    error_type = "invalid_request_error"


class _Silence:
    """Nothing came from the engine within the wait."""


_SILENCE = _Silence()
# What the producer task queues: a delta, the error that ended the stream, or None at the end.
_Item = dict[str, Any] | ApiError | None


async def _produce(deltas: AsyncIterator[dict[str, Any]], queue: asyncio.Queue[_Item]) -> None:
    """Pull the engine's deltas into `queue`: one task owns the stream, so cancelling it closes the
    engine connection however far the browser got."""
    try:
        async for delta in deltas:
            queue.put_nowait(delta)
    except ApiError as exc:
        queue.put_nowait(exc)
    finally:
        queue.put_nowait(None)


async def _next(queue: asyncio.Queue[_Item], within_s: float) -> _Item | _Silence:
    """The next item, or `_SILENCE` after `within_s` (a cancelled `get` leaves the item queued)."""
    try:
        async with asyncio.timeout(within_s):
            return await queue.get()
    except TimeoutError:
        return _SILENCE


@dataclass
class _Live:
    """One run while it streams."""

    call: Call
    principal: Principal
    template: Template
    inputs: dict[str, Any]
    lang: str  # the UI language: of error texts and the guard's sentences
    key: str | None = None  # the Idempotency-Key this run holds
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)


class Runner:
    """Starts runs and reads them back; one per app."""

    def __init__(self, gateway: Gateway, library: TemplateLibrary, limits: Limits) -> None:
        self._gateway = gateway
        self._library = library
        self.limits = limits
        self._pending: set[asyncio.Task[Any]] = set()  # producers, and records of cancelled streams

    def template(self, template_id: str, lang: str) -> Template:
        """The template, or a 404 naming the id (and the languages it has, if any)."""
        try:
            return self._library.get(template_id, lang)
        except NotFound as exc:
            raise NotFound(exc.message, code="template_not_found", param="template_id") from None

    @staticmethod
    def _chat(template: Template, inputs: dict[str, Any], model: str) -> dict[str, Any]:
        """The chat request; the template's own check names a missing, unknown or ill-typed input (422)."""
        try:
            return chat_request(template, inputs, model)
        except TemplateError as exc:
            if isinstance(exc, ApiError):
                raise
            raise ValidationFailed(str(exc), param="inputs") from exc

    def model(self, requested: str | None) -> str:
        """The requested model, or the first one change control lets serve (the first one when none
        does, whose refusal then says why)."""
        held = self._gateway.gate.last_held
        serving = [model_id for model_id in self._gateway.routers if model_id not in held]
        return requested or next(iter(serving or self._gateway.routers))

    async def _claim(self, call: Call, user: str, key: str) -> None:
        """Claim `key` for one run of `user`, in the database every gateway process shares; a key
        claimed before is refused with 409 naming its run."""
        held = await asyncio.to_thread(claim_run, self._gateway.store, user, key, time.time())
        if held is None:
            return
        if held.run_id is None:
            raise DuplicateRun(
                "this run is already being generated; its answer goes to the first request",
                code="run_in_progress", param="Idempotency-Key",
            )  # fmt: skip
        call.detail["run_id"] = held.run_id
        raise DuplicateRun(
            f"this run was already started as run {held.run_id}; see /api/v1/runs/{held.run_id}",
            code="run_exists", param="Idempotency-Key",
        )  # fmt: skip

    async def admit_session(self, principal: Principal) -> None:
        """Count a session's request against its user's limits (it goes first while the engines are busy),
        or raise `RateLimited`; a key's request was counted already when the gateway authenticated it."""
        if principal.key_id is None:
            await self._gateway.limiter.admit(principal, interactive=True)

    async def start(
        self, call: Call, principal: Principal, body: RunIn, lang: str, key: str | None = None
    ) -> StreamingResponse:
        """Check the request, open the model's stream, then relay; `key` (a client-chosen run id) makes a
        retry of the same request a 409 instead of a second run."""
        await self.admit_session(principal)
        if key is None:
            return await self._open(call, principal, body, lang, None)
        await self._claim(call, principal.user, key)
        try:
            return await self._open(call, principal, body, lang, key)
        except BaseException:  # nothing started: the same key may try again
            await asyncio.shield(asyncio.to_thread(release_claim, self._gateway.store, principal.user, key))
            raise

    async def _open(
        self, call: Call, principal: Principal, body: RunIn, lang: str, key: str | None
    ) -> StreamingResponse:
        template = self.template(body.template_id, body.lang or lang)
        call.template_id, call.template_version = template.id, template.version
        model = self.model(body.model)
        # Before the inputs are validated: an oversize paste is refused by its tokens, never cut.
        measure = await self.limits.measure(template, body.inputs, model)
        call.detail.update(input_tokens=measure.tokens, input_limit=measure.limit)
        if measure.over:
            raise InputTooLong(measure, lang)
        chat = self._chat(template, body.inputs, model)
        call.detail["input_chars"] = sum(len(v) for v in body.inputs.values() if isinstance(v, str))
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        producer = self._spawn(_produce(self._gateway.chat.generate(call, chat), queue))
        try:
            first = await _next(queue, EARLY_S)
            if isinstance(first, ApiError):  # refused before a word: a plain HTTP status
                raise localized(first, lang) if engine_fault(first) else first
        except BaseException:
            producer.cancel()
            raise
        live = _Live(call, principal, template, dict(body.inputs), lang, key)
        call.deferred = True
        return StreamingResponse(
            self._relay(live, first, queue, producer),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def _relay(
        self, live: _Live, first: _Item | _Silence, queue: asyncio.Queue[_Item], producer: asyncio.Task[None]
    ) -> AsyncIterator[bytes]:
        concluded = False
        try:
            try:
                item = first
                generating = False
                if isinstance(item, _Silence):
                    yield sse("status", {"state": "queued"})
                while item is not None:
                    if isinstance(item, ApiError):
                        raise item
                    if isinstance(item, _Silence):
                        yield _KEEPALIVE
                    else:
                        if not generating:
                            generating = True
                            yield sse("status", {"state": "generating"})
                        for key, kind in _CHANNELS:
                            text = item.get(key)
                            if text:
                                getattr(live, kind).append(text)
                                yield sse(kind, {"text": text})
                    item = await _next(queue, KEEPALIVE_S)
                await producer  # raises what ended the stream other than an API error, as before
                concluded = True
                result = await self._shielded(self._conclude(live, "ok", 200))
                yield sse("done", result.model_dump(mode="json"))
            except ApiError as exc:
                live.call.detail["stream_error"] = exc.code or "error"
                if not concluded:  # settled before the event: a disconnect at its yield changes nothing
                    concluded = True
                    with contextlib.suppress(ApiError):  # not stored: logged and audited already
                        await self._shielded(self._conclude(live, "error", exc.status_code))
                yield sse("error", _error_event(exc, live.lang))
        finally:
            if not concluded:  # the browser went away mid-answer: record what happened, without waiting
                self._spawn(self._conclude(live, "cancelled", _CLIENT_CLOSED))
                producer.cancel()  # closes the engine connection, so it stops generating

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def _shielded(self, work: Coroutine[Any, Any, RunOut]) -> RunOut:
        """Await `work` in its own task, so a disconnect cannot cut the store and audit writes in half."""
        return await asyncio.shield(self._spawn(work))

    async def _conclude(self, live: _Live, status: str, http_status: int) -> RunOut:
        """Check, store and audit the finished run; returns its record with the live content."""
        call, template = live.call, live.template
        output, reasoning = "".join(live.content), "".join(live.reasoning) or None
        failed = False
        try:
            source = source_text(template, live.inputs)
            guard = None
            if status == "ok":
                guard = await asyncio.to_thread(self._check, template, live.inputs, output, call)
        except Exception as exc:  # noqa: BLE001 — a fault in the check: still store, audit, answer the run
            log.error("run_check_failed", request_id=call.request_id, error_type=type(exc).__name__)
            failed = status == "ok"
            call.detail["stream_error"] = "internal"
            source, guard, status, http_status = None, None, "error", 500
        try:
            run = await asyncio.to_thread(
                self._save,
                live,
                user=live.principal.user, status=status, template_id=template.id,
                template_version=template.version, model_id=call.model_id, model_digest=call.model_digest,
                latency_ms=round((time.perf_counter() - call.started) * 1000, 3),
                prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
                guard_verdict=guard.verdict if guard else None,
                guard_counts=guard.counts() if guard else None,
                input_json=orjson.dumps(live.inputs).decode(), output_text=output, reasoning_text=reasoning,
                language=template.lang,
            )  # fmt: skip
        except StoreError as exc:
            log.error("run_not_stored", request_id=call.request_id, error=str(exc))
            await self._gateway.calls.finish(call, 500)
            raise ApiError("the run could not be stored; see the gateway log", code="store_failed") from exc
        self._account(call, template, run, guard, output)
        await self._gateway.calls.finish(call, http_status)
        if failed:  # the stream's `error` event; a retry with the same key now hears 409 run_exists
            raise ApiError(f"run {run.id} could not be checked; see the gateway log")
        # In a worker thread: the diff and the postprocessing are CPU work, never on the event loop.
        return await asyncio.to_thread(
            self._record, run, template, live.inputs, output, reasoning, source, guard, live.lang
        )

    def _save(self, live: _Live, **run: Any) -> Run:
        """Store the run and, in the same thread hop, name it in its key's claim."""
        store = self._gateway.store
        try:
            saved = store.save_run(**run)
        except StoreError:
            if live.key is not None:  # no run to name: a retry may start it again
                release_claim(store, live.principal.user, live.key)
            raise
        if live.key is not None:
            try:
                finish_claim(store, live.principal.user, live.key, saved.id, time.time())
            except StoreError as exc:  # the run is stored: a retry meanwhile hears "in progress"
                log.error("run_claim_not_finished", run_id=saved.id, error=str(exc))
        return saved

    def _check(
        self, template: Template, inputs: dict[str, Any], output: str, call: Call | None = None
    ) -> GuardResult | None:
        """The guard's verdict on the output, for templates with a guard profile (all anchored ones)."""
        try:
            return guard_check(template, inputs, output)
        except GuardError as exc:  # a template whose guard profile the guard rejects: say so, do not fail
            log.error("guard_failed", template=template.id, error=str(exc))
            if call is not None:
                call.detail["guard_error"] = True
            return None

    def _account(
        self, call: Call, template: Template, run: Run, guard: GuardResult | None, output: str
    ) -> None:
        """Counts and ids (never text) for the audit event and the metrics."""
        call.detail["run_id"] = run.id
        call.detail["output_chars"] = len(output)
        if guard is None:
            return
        call.detail["guard_verdict"] = guard.verdict
        for kind, count in guard.counts().items():
            call.detail[f"guard.{kind}"] = count
            self._gateway.metrics.guard_flags.labels(template.id, kind).inc(count)

    def _record(
        self,
        run: Run,
        template: Template | None,
        inputs: dict[str, Any] | None,
        output: str | None,
        reasoning: str | None,
        source: str | None,
        guard: GuardResult | None,
        lang: str,
    ) -> RunOut:
        diffable = template is not None and diffed(template)
        diff = diff_note = None
        if diffable and source is not None and output:
            diff = word_diff(source, output)
            if diff is None:
                log.warning("diff_over_budget", run_id=run.id)  # the page shows the answer and says why
                diff_note = message("diff.too_large", lang)
        postprocess = None
        if template is not None and output is not None and run.status == "ok":
            try:
                postprocess = plain(template.postprocess(output, inputs))
            except (TemplateError, ValueError) as exc:  # the model's answer did not fit the format
                postprocess = {"error": str(exc)}
            except Exception as exc:  # noqa: BLE001 — a fault in the postprocessing: still show the answer
                log.error("postprocess_failed", template=template.id, error_type=type(exc).__name__)
                postprocess = {"error": _POSTPROCESS_FAILED}
        return RunOut(
            id=run.id, created_at=run.created_at, user=run.user, template_id=run.template_id,
            template_version=run.template_version, task_type=str(template.task_type) if template else None,
            model_id=run.model_id, model_digest=run.model_digest, status=run.status,
            latency_ms=run.latency_ms, prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens, guard_verdict=run.guard_verdict,
            guard_counts=dict(run.guard_counts), inputs=inputs, output=output, reasoning=reasoning,
            source=source, guard=GuardOut(**guard.to_dict(lang)) if guard else None,
            diff=[DiffSegment(**segment) for segment in diff] if diff is not None else None,
            diff_note=diff_note,
            postprocess=postprocess, content_retained=run.output_text is not None,
            content_kept=run.output_text is not None, content_note=self._content_note(run, lang),
        )  # fmt: skip

    def _content_note(self, run: Run, lang: str) -> str | None:
        """Why the server holds no text of `run` (None when it does)."""
        if run.output_text is not None:
            return None
        if run.status != "ok":
            return message("content.failed", lang)
        if self._gateway.settings.retention.content_days > 0:
            return message("content.purged", lang)
        return message("content.not_retained", lang)

    def owned(self, run_id: str, principal: Principal, others: frozenset[str] = frozenset()) -> Run:
        """The stored run if it is the principal's own (or the principal's role is in `others`)."""
        run = self._gateway.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} does not exist", code="run_not_found", param="run_id")
        if run.user != principal.user and principal.role.value not in others:
            raise Forbidden("this run belongs to another user")
        return run

    def read(self, run_id: str, principal: Principal, lang: str) -> RunOut:
        """A stored run; its content, guard flags and diff only while content is retained, and never
        to an auditor (who reads metadata only)."""
        run = self.owned(run_id, principal, READERS)
        if principal.role == Role.AUDITOR:
            run = dataclasses.replace(run, input_json=None, output_text=None, reasoning_text=None)
        template = self._find(run.template_id, run.template_version)
        inputs = orjson.loads(run.input_json) if run.input_json else None
        if template is None or inputs is None or run.output_text is None:
            record = self._record(
                run, template, inputs, run.output_text, run.reasoning_text, None, None, lang
            )
        else:
            guard = self._check(template, inputs, run.output_text) if run.status == "ok" else None
            source = source_text(template, inputs)
            record = self._record(
                run, template, inputs, run.output_text, run.reasoning_text, source, guard, lang
            )
        if principal.role == Role.AUDITOR:
            record.content_note = message("content.hidden", lang)
        rating = self._gateway.store.get_feedback(run.id)
        record.feedback = FeedbackOut.of(rating) if rating is not None else None
        return record

    def recent(self, principal: Principal, limit: int, lang: str) -> list[RecentRunOut]:
        """The principal's own newest runs, metadata only (whether the text is kept, not the text)."""
        store = self._gateway.store
        runs = store.list_runs(principal.user, limit)
        rated = {run.id for run in runs if store.get_feedback(run.id) is not None}
        titles = {t.id: t.title for t in self._library.list(lang)}
        return [
            RecentRunOut(
                id=run.id,
                template_id=run.template_id,
                template_title=titles.get(run.template_id or ""),
                created_at=run.created_at,
                status=run.status,
                guard_verdict=run.guard_verdict,
                rated=run.id in rated,
                has_content=run.output_text is not None,
            )
            for run in runs
        ]

    def _find(self, template_id: str | None, version: str | None) -> Template | None:
        """The template a run used, in whichever language has that version (a run does not store it)."""
        for lang in LANGS:
            for template in self._library.list(lang):
                if template.id == template_id and template.version == version:
                    return template
        return None


def _error_event(exc: ApiError, lang: str) -> dict[str, Any]:
    """An SSE `error` event: the stable code and what to do in the UI language, at the top level (the
    workbench API's contract) and in the gateway's error shape (as before)."""
    fixed = localized(exc, lang)
    return {"code": fixed.code, "message": fixed.message, "retry_after_s": fixed.retry_after_s,
            **error_body(fixed)}  # fmt: skip


# (delta field, SSE event name = the `_Live` list that collects it)
_CHANNELS = (("reasoning_content", "reasoning"), ("content", "content"))


def diffed(template: Template) -> bool:
    """Whether a run of `template` gets a word diff: anchored, plain text, in the source's language.

    A translation shares no words with its source and a JSON answer no layout, so their diffs would
    mark everything and point at nothing.
    """
    return (
        str(template.task_type) == "anchored"
        and str(template.output_format) == "text"
        and template.guard_task != "translation"
    )
