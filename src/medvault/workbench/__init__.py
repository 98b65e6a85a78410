"""The clinicians' web workbench (being built; `mount` adds its routes to the gateway app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from medvault.gateway import Gateway


def mount(app: FastAPI, gateway: Gateway) -> None:
    """Add the workbench's pages and JSON API to `app`."""
