"""The one exception tree of MedVault.

    MedVaultError
    ├── ConfigError                 a setting is wrong; names the key, the problem and the fix
    ├── StoreError                  the database refused or failed
    ├── IsolationError              namespaces, nftables or sysctls could not be set or read
    │   └── BreachDetected          the isolation monitor found a way out
    ├── GuardError                  the grounding guard was called wrongly
    ├── TemplateError               a template file is invalid, or a run's inputs do not fit it
    └── ApiError                    anything that becomes an HTTP error (OpenAI error shape)
        ├── BadRequest              400 malformed body
        ├── Unauthenticated         401 missing, unknown or revoked credentials
        ├── Forbidden               403 authenticated but not allowed
        ├── NotFound                404 unknown model, template, run
        ├── PayloadTooLarge         413 body over the configured limit
        ├── UnsupportedMediaType    415 body declared as something other than JSON
        ├── ValidationFailed        422 body does not fit the schema (names the field)
        ├── RateLimited             429 over the per-key request rate
        ├── ClientClosed            499 the client went away before the answer (audited, never sent)
        ├── BadGateway              502 the engine answered with an error or broke off
        ├── BackendUnavailable      503 no healthy replica, or the engine refused the connection
        └── BackendTimeout          504 the engine did not answer in time

Errors of lower libraries (aiohttp, SQLAlchemy, nft, netlink) are translated into this tree
at the boundary that calls them; `medvault.gateway.errors` is the one place that renders
`ApiError` as an HTTP response.
"""

from __future__ import annotations


class MedVaultError(Exception):
    """Base of every error MedVault raises on purpose."""


class ConfigError(MedVaultError):
    """A setting is invalid: the message names the key, the problem and the fix."""


class StoreError(MedVaultError):
    """The database could not do what was asked."""


class IsolationError(MedVaultError):
    """Network isolation could not be set up, read or verified."""


class BreachDetected(IsolationError):
    """The isolation monitor observed traffic or rules that break the policy."""


class GuardError(MedVaultError):
    """The grounding guard was given arguments it cannot check."""


class TemplateError(MedVaultError):
    """A template file is invalid, or the inputs of a run do not fit its template."""


class ApiError(MedVaultError):
    """An error that reaches an API client as an OpenAI-shaped body."""

    status_code = 500
    error_type = "server_error"
    code: str | None = "internal_error"
    retry_after_s: int | None = None  # sent as `Retry-After` when set

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param


class BadRequest(ApiError):
    status_code = 400
    error_type = "invalid_request_error"
    code = "bad_request"


class Unauthenticated(ApiError):
    status_code = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class Forbidden(ApiError):
    status_code = 403
    error_type = "permission_error"
    code = "forbidden"


class NotFound(ApiError):
    status_code = 404
    error_type = "invalid_request_error"
    code = "not_found"


class PayloadTooLarge(ApiError):
    status_code = 413
    error_type = "invalid_request_error"
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status_code = 415
    error_type = "invalid_request_error"
    code = "unsupported_media_type"


class ValidationFailed(ApiError):
    status_code = 422
    error_type = "invalid_request_error"
    code = "validation_error"


class RateLimited(ApiError):
    status_code = 429
    error_type = "rate_limit_error"
    code = "rate_limited"


class ClientClosed(ApiError):
    status_code = 499  # nginx's convention; only the audit trail and the metrics ever see it
    error_type = "client_error"
    code = "client_closed"


class BadGateway(ApiError):
    status_code = 502
    error_type = "server_error"
    code = "bad_gateway"


class BackendUnavailable(ApiError):
    status_code = 503
    error_type = "server_error"
    code = "backend_unavailable"


class BackendTimeout(ApiError):
    status_code = 504
    error_type = "server_error"
    code = "backend_timeout"
