"""The composition root: the OpenAI-compatible API and the clinicians' workbench, side by side.

The gateway builds the services and the API; the workbench is mounted beside it on the same app. Neither
package mounts the other, so they depend one way (the workbench on the gateway's services).
"""

from __future__ import annotations

from fastapi import FastAPI

from medvault import gateway, workbench
from medvault.backends import Runtime
from medvault.config import Settings
from medvault.store import Store


def create_app(settings: Settings, runtime: Runtime, store: Store) -> FastAPI:
    """The whole ASGI app `medvault serve` runs: the API with the workbench mounted beside it."""
    app = gateway.create_app(settings, runtime, store)
    workbench.mount(app, app.state.gateway)
    return app
