"""The one place that turns an `ApiError` into an HTTP response in OpenAI's error shape."""

from __future__ import annotations

import re

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from medvault.errors import ApiError, BadRequest, Forbidden, NotFound, Unauthenticated, ValidationFailed

# A key that an error may name in `param`: anything else could be client text (a patient's name).
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_LOC_ROOTS = frozenset({"body", "query", "path"})

# Every API answer carries these: answers hold patient text (no cache may keep them), and a JSON error
# must never be sniffed into something a browser runs. Precomputed, appended as raw header pairs.
NOSNIFF = [(b"x-content-type-options", b"nosniff")]
NO_STORE = [(b"cache-control", b"no-store"), *NOSNIFF]


def hardened(response: Response) -> Response:
    """`response` with `NO_STORE` added: for answers that do not pass through `endpoint()`."""
    response.raw_headers += NO_STORE
    return response


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
        return hardened(error_response(error))

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
