"""The OpenAI-compatible HTTP API: routes, auth, limits, audit hooks, metrics."""

from medvault.gateway._app import Gateway, create_app

__all__ = ["Gateway", "create_app"]
