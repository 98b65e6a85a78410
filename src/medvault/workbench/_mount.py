"""Wiring: builds the workbench's parts over a gateway and adds them to the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from medvault.backends._tokens import TokenCounter
from medvault.directory import Authenticator
from medvault.gateway import Gateway
from medvault.templates import TemplateLibrary
from medvault.workbench._access import Access
from medvault.workbench._api import Api
from medvault.workbench._headers import SecurityHeaders
from medvault.workbench._limits import Limits
from medvault.workbench._pages import Pages
from medvault.workbench._runs import Runner
from medvault.workbench._sessions import Sessions

STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Workbench:
    """The workbench's state, kept on `app.state.workbench` (tests reach the session clock here)."""

    sessions: Sessions
    access: Access
    authenticator: Authenticator  # the gateway's: sign-in, session re-checks and API keys share it


def install(app: FastAPI, gateway: Gateway) -> Workbench:
    """Load the template library and add pages, API, static files and security headers to `app`."""
    settings = gateway.settings
    # What this deployment offers: device-class templates are refused unless governance enables them.
    library = TemplateLibrary.for_settings(settings)
    # The gateway's one authenticator for sign-in, the session re-check and directory users' API keys:
    # what the directory last confirmed about a user (`directory.recheck_s`, `offline_grace_s`) is
    # known once per process.
    authenticator = gateway.authenticator
    sessions = Sessions(
        gateway.store,
        settings.workbench.session_idle_minutes * 60,
        max_s=settings.workbench.session_max_hours * 3600,
    )
    access = Access(sessions, gateway.auth, authenticator.still_valid, settings.auth.cache_ttl_s)
    counter = TokenCounter(settings, gateway.routers)
    runner = Runner(gateway, library, Limits(counter, lambda: gateway.session))
    app.include_router(Api(gateway, library, runner, access).router())
    Pages(gateway, library, access, counter.window, authenticate=authenticator.authenticate).install(app)
    app.mount("/workbench/static", StaticFiles(directory=STATIC_DIR), name="workbench-static")
    app.add_middleware(SecurityHeaders)
    workbench = Workbench(sessions, access, authenticator)
    app.state.workbench = workbench
    return workbench
