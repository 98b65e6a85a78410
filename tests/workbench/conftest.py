"""A real gateway with the workbench (uvicorn in a thread) over fake engines, and signed-in clients."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from playwright.sync_api import sync_playwright

from medvault.app import create_app
from medvault.backends import resolve_runtime
from medvault.config import Settings
from medvault.gateway import Gateway
from medvault.store import Role, Store
from medvault.workbench._mount import Workbench
from tests.conftest import require
from tests.gateway.conftest import Engine, make_settings, serve_app, start_engine

PASSWORD = "correct horse battery"
SCREENSHOTS = Path("test-artifacts/screenshots")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
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
    """Keep each phase's report on the test item; a failed browser test leaves a screenshot of where
    its page stood (kept by CI as an artefact)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
    page = getattr(item, "funcargs", {}).get("page")
    if report.failed and report.when == "call" and page is not None:
        with contextlib.suppress(Exception):  # a crashed page must not hide the test's own error
            shot(page, "FAILED-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name))


def shot(page: Any, name: str) -> None:
    """A full-page screenshot under `SCREENSHOTS`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session; never downloaded, always Debian's."""
    require(shutil.which("chromium") is not None, "Debian's chromium is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh German-language tab of its own context (cookies, storage) at 1400×900."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def sign_in(page: Any, url: str, username: str = "alice", password: str = PASSWORD) -> None:
    """Use the sign-in form from the keyboard, as a user would."""
    page.goto(url + "/workbench")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(url + "/workbench")


@pytest.fixture(scope="module")
def fake_engine() -> Iterator[Engine]:
    started = start_engine()
    yield started
    started.kill()


class _OnLoop:
    """ASGI middleware that hands the server's event loop to `hook` at start-up (lifespan)."""

    def __init__(self, app: Any, hook: Callable[[asyncio.AbstractEventLoop], None]) -> None:
        self.app, self.hook = app, hook

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self.hook(asyncio.get_running_loop())
        await self.app(scope, receive, send)


@contextlib.contextmanager
def make_bench(
    tmp_path: Path,
    engine: Engine,
    on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    **overrides: Any,
) -> Iterator[Bench]:
    """A gateway with the workbench over `engine`, user alice (password `PASSWORD`) and her API key;
    `on_loop` gets the server's event loop before it serves (to set its default executor)."""
    settings = make_settings(tmp_path, [engine.url], **overrides)
    store = Store.from_settings(settings)
    store.migrate()
    store.create_user("alice", PASSWORD, Role.CLINICIAN, "Alice")
    _, key = store.create_key("alice", Role.CLINICIAN)
    _, admin_key = store.create_key("root", Role.ADMIN)
    app = create_app(settings, resolve_runtime(settings, {}), store)
    if on_loop is not None:
        app.add_middleware(_OnLoop, hook=on_loop)
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


# Device-class templates (fleischner, impression, differential) are refused unless enabled.
DEVICE_TEMPLATES = {"enable_device_templates": True}


@pytest.fixture
def retaining_bench(tmp_path: Path, fake_engine: Engine) -> Iterator[Bench]:
    """A workbench that keeps run content for 30 days and offers the device-class templates too."""
    with make_bench(
        tmp_path, fake_engine, retention={"content_days": 30}, governance=DEVICE_TEMPLATES
    ) as running:
        yield running


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a workbench run stream."""
    events = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            events.append((lines.get("event", "message"), orjson.loads(lines["data"])))
    return events
