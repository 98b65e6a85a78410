"""A real gateway with the workbench (uvicorn in a thread) over fake engines, and signed-in clients."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from medvault.app import create_app
from medvault.backends import resolve_runtime
from medvault.config import Settings
from medvault.gateway import Gateway
from medvault.store import Role, Store
from medvault.workbench._mount import Workbench
from tests.gateway.conftest import Engine, make_settings, serve_app, start_engine

PASSWORD = "correct horse battery"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Bench:
    """A running gateway with the workbench, its store and an API key of user alice."""

    url: str
    settings: Settings
    store: Store
    key: str
    admin_key: str
    workbench: Workbench
    gateway: Gateway
    clients: list[httpx.Client] = field(default_factory=list)

    def browser(self) -> httpx.Client:
        """A cookie-keeping client, as a browser would be (not yet signed in); closed after the test."""
        client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        self.clients.append(client)
        return client

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> tuple[httpx.Client, str]:
        """A client signed in through the form, and the session's CSRF token."""
        client = self.browser()
        response = client.post(
            "/workbench/signin",
            data={"username": username, "password": password, "csrf_token": login_token(client)},
        )
        assert response.status_code == 303, response.text
        page = client.get("/workbench")
        match = _CSRF_META.search(page.text)
        assert match, page.text
        return client, match.group(1)

    def api(self, key: str | None = None) -> httpx.Client:
        """A client with an API key (alice's unless given); closed after the test."""
        client = self.browser()
        client.headers["authorization"] = f"Bearer {key or self.key}"
        return client

    def audit(self) -> list[dict[str, Any]]:
        """The audit trail as plain dicts (action, status, user, template, detail)."""
        return [
            {
                "action": e.event.action,
                "status": e.event.status,
                "user": e.event.user,
                "template_id": e.event.template_id,
                "template_version": e.event.template_version,
                "detail": dict(e.event.detail),
            }
            for e in self.store.audit_events()
        ]


def login_token(client: httpx.Client) -> str:
    """The CSRF token of a freshly loaded sign-in form (its cookie stays in the client)."""
    page = client.get("/workbench/signin")
    match = _CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell a failed test (screenshots)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def fake_engine() -> Iterator[Engine]:
    started = start_engine()
    yield started
    started.kill()


@contextlib.contextmanager
def make_bench(tmp_path: Path, engine: Engine, **overrides: Any) -> Iterator[Bench]:
    """A gateway with the workbench over `engine`, user alice (password `PASSWORD`) and her API key."""
    settings = make_settings(tmp_path, [engine.url], **overrides)
    store = Store.from_settings(settings)
    store.migrate()
    store.create_user("alice", PASSWORD, Role.CLINICIAN, "Alice")
    _, key = store.create_key("alice", Role.CLINICIAN)
    _, admin_key = store.create_key("root", Role.ADMIN)
    app = create_app(settings, resolve_runtime(settings, {}), store)
    try:
        with serve_app(app) as url:
            bench = Bench(url, settings, store, key, admin_key, app.state.workbench, app.state.gateway)
            yield bench
    finally:
        for client in bench.clients:
            client.close()
        store.close()


@pytest.fixture
def bench(tmp_path: Path, fake_engine: Engine) -> Iterator[Bench]:
    """A workbench that keeps no content (the default)."""
    with make_bench(tmp_path, fake_engine) as running:
        yield running


@pytest.fixture
def retaining_bench(tmp_path: Path, fake_engine: Engine) -> Iterator[Bench]:
    """A workbench that keeps run content for 30 days."""
    with make_bench(tmp_path, fake_engine, retention={"content_days": 30}) as running:
        yield running


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a workbench run stream."""
    events = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            events.append((lines.get("event", "message"), orjson.loads(lines["data"])))
    return events
