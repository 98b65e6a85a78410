"""The OpenAI-compatible HTTP API: routes, auth, limits, audit hooks, metrics.

The names below are what other packages (the workbench, the CLI) may use; the modules behind them are
private.
"""

from medvault.gateway._app import METRICS_PAGE, Gateway, create_app
from medvault.gateway._auth import ADMIN_ROLES, CHAT_ROLES, Authenticator, require_role
from medvault.gateway._calls import Call, CallLog, Handler, endpoint
from medvault.gateway._metrics import Metrics, use_multiprocess
from medvault.gateway._schemas import read_body, read_json
from medvault.gateway.errors import (
    ErrorDetail,
    error_body,
    error_response,
    error_responses,
    validation_failed,
)

__all__ = [
    "ADMIN_ROLES",
    "CHAT_ROLES",
    "METRICS_PAGE",
    "Authenticator",
    "Call",
    "CallLog",
    "ErrorDetail",
    "Gateway",
    "Handler",
    "Metrics",
    "create_app",
    "endpoint",
    "error_body",
    "error_response",
    "error_responses",
    "read_body",
    "read_json",
    "require_role",
    "use_multiprocess",
    "validation_failed",
]
