"""The one place that turns an `ApiError` into an HTTP response in OpenAI's error shape."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount

from medvault.errors import ApiError, BadRequest, Forbidden, NotFound, Unauthenticated, ValidationFailed

# A key that an error may name in `param`: anything else could be client text (a patient's name).
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_LOC_ROOTS = frozenset({"body", "query", "path"})
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")  # those a 405's `Allow` may name

# Every API answer carries these: answers hold patient text (no cache may keep them), and a JSON error
# must never be sniffed into something a browser runs. Precomputed, appended as raw header pairs.
NOSNIFF = [(b"x-content-type-options", b"nosniff")]
NO_STORE = [(b"cache-control", b"no-store"), *NOSNIFF]


def hardened(response: Response) -> Response:
    """`response` with `NO_STORE` added: for answers that do not pass through `endpoint()`."""
    response.raw_headers += NO_STORE
    return response


class ErrorDetail(BaseModel):
    """What went wrong: `code` is stable for clients to act on; `param` names the field or header."""

    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorOut(BaseModel):
    """Every error answer's body (OpenAI's shape), as the OpenAPI document declares it."""

    error: ErrorDetail


# Why each status is answered, for the OpenAPI document.
_WHY = {
    400: "the body is not JSON, or not UTF-8",
    401: "no API key or session, or an unknown or revoked one",
    403: "authenticated, but the role may not do this",
    404: "no such template, run or model",
    409: "a run with this Idempotency-Key was already started (the message names it)",
    413: "the body is over `limits.max_body_bytes`",
    415: "the body is declared as something other than JSON (send Content-Type: application/json)",
    422: "the body, a query parameter or a header does not fit the schema (`param` names it)",
    429: "over the caller's request or token rate (see Retry-After)",
    500: "internal error (the gateway log says more)",
    502: "the engine answered with an error or broke off",
    503: "no engine is ready, or the model is held by change control",
    504: "the engine did not answer in time",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` declaring `ErrorOut` for each of `statuses` (a route's `responses=`)."""
    return {status: {"model": ErrorOut, "description": _WHY[status]} for status in statuses}


def error_body(exc: ApiError) -> dict[str, object]:
    return {"error": {"message": exc.message, "type": exc.error_type, "code": exc.code, "param": exc.param}}


def error_response(exc: ApiError) -> Response:
    headers: dict[str, str] = {}
    if exc.status_code == 401:
        headers["www-authenticate"] = 'Bearer realm="medvault"'
    if exc.retry_after_s is not None:  # e.g. an engine's own back-off, passed on
        headers["retry-after"] = str(exc.retry_after_s)
    return Response(
        orjson.dumps(error_body(exc)),
        status_code=exc.status_code,
        media_type="application/json",
        headers=headers,
    )


def sse_error(exc: ApiError) -> bytes:
    """An error inside an already started stream: one SSE event the OpenAI SDK raises as APIError."""
    return b"data: " + orjson.dumps(error_body(exc)) + b"\n\n"


def validation_failed(exc: RequestValidationError) -> ValidationFailed:
    """FastAPI's first validation error as a 422 whose `param` names the field, `inputs[2].name` style.

    The path stops before the first key that is not a plain identifier, and pydantic's messages name
    the expected type, never the value.
    """
    first = exc.errors()[0]
    loc = list(first["loc"])
    if loc and loc[0] in _LOC_ROOTS:
        loc = loc[1:]
    field = ""
    for part in loc:
        if isinstance(part, int):
            field += f"[{part}]"
        elif IDENTIFIER.fullmatch(part):
            field += f".{part}" if field else part
        else:
            break
    return ValidationFailed(f"field `{field or 'body'}`: {first['msg']}", param=field or None)


def _allowed(request: Request) -> str | None:
    """The methods this path answers, for the `Allow` header HTTP requires of a 405 (None if no route
    does): Starlette names only those of the first route it found on the path, and `/api/v1/runs` has a
    GET and a POST. Each method is tried against the app's routes, as the router would try it."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
    return ", ".join(allowed) or None


def install_error_handlers(app: Starlette) -> None:
    """Unknown routes, wrong methods, FastAPI validation errors and crashes answer in the same shape."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kinds: dict[int, type[ApiError]] = {
            404: NotFound,
            405: BadRequest,
            401: Unauthenticated,
            403: Forbidden,
        }
        cls = kinds.get(exc.status_code, ApiError)
        error = cls(str(exc.detail))
        error.status_code = exc.status_code
        response = error_response(error)
        if exc.headers:
            response.headers.update(exc.headers)
        allowed = _allowed(request) if exc.status_code == 405 else None
        if allowed:
            response.headers["allow"] = allowed
        return hardened(response)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return hardened(error_response(validation_failed(exc)))

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return hardened(error_response(exc))

    async def crashed(request: Request, exc: Exception) -> Response:
        # Starlette's last resort: it logs the exception itself, and the client learns nothing of it.
        return hardened(error_response(ApiError("internal error; see the gateway log")))

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(Exception, crashed)
