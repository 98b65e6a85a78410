"""The clinicians' web workbench: sign-in, template runs streamed from the models, feedback, survey.

    mount(app, gateway)      # called by the composition root, medvault.app

adds the pages under /workbench, the JSON API under /api/v1 (in the OpenAPI document) and the security
headers (CSP without inline script, no framing) on all of them. See docs/workbench.md and docs/api.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from medvault.gateway import Gateway
from medvault.workbench._mount import Workbench, install

__all__ = ["mount"]


def mount(app: FastAPI, gateway: Gateway) -> Workbench:
    """Add the workbench's pages and JSON API to `app`, with the configured template library."""
    return install(app, gateway)
