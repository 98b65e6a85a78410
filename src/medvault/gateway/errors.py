"""The one place that turns an `ApiError` into an HTTP response in OpenAI's error shape."""

from __future__ import annotations

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from medvault.errors import ApiError, BadRequest, Forbidden, NotFound, Unauthenticated, ValidationFailed


def error_body(exc: ApiError) -> dict[str, object]:
    return {"error": {"message": exc.message, "type": exc.error_type, "code": exc.code, "param": exc.param}}


def error_response(exc: ApiError) -> Response:
    headers = {"www-authenticate": 'Bearer realm="medvault"'} if exc.status_code == 401 else None
    return Response(
        orjson.dumps(error_body(exc)),
        status_code=exc.status_code,
        media_type="application/json",
        headers=headers,
    )


def sse_error(exc: ApiError) -> bytes:
    """An error inside an already started stream: one SSE event the OpenAI SDK raises as APIError."""
    return b"data: " + orjson.dumps(error_body(exc)) + b"\n\n"


def install_error_handlers(app: Starlette) -> None:
    """Unknown routes, wrong methods and FastAPI validation errors answer in the same shape."""

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
        return error_response(error)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"] if p != "body")
        return error_response(ValidationFailed(f"field `{field}`: {first['msg']}", param=field))

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(ApiError, api_error)
