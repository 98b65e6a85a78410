"""A real gateway (uvicorn, in a thread) in front of fake engines running as separate processes."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from medvault.app import create_app
from medvault.backends import resolve_runtime
from medvault.config import Settings, load_settings
from medvault.store import Role, Store

REPO = Path(__file__).resolve().parents[2]
LogEvent = MutableMapping[str, Any]  # one event as structlog's `capture_logs` records it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in {timeout_s} s")


@dataclass
class Engine:
    """A fake engine process on loopback."""

    url: str
    process: subprocess.Popen[bytes]

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = httpx.get(self.url.removesuffix("/v1") + "/_stats").json()
        return result

    def last(self) -> dict[str, Any]:
        """The last chat request body the engine received."""
        result: dict[str, Any] = httpx.get(self.url.removesuffix("/v1") + "/_last").json()
        return result

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def start_engine(port: int | None = None) -> Engine:
    port = port or free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.engine", "--port", str(port)], cwd=REPO)
    engine = Engine(f"http://127.0.0.1:{port}/v1", process)
    wait_http(engine.url + "/models")
    return engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    started = start_engine()
    yield started
    started.kill()


@dataclass
class Running:
    """A gateway under test and what the test needs to talk to it."""

    url: str
    settings: Settings
    store: Store
    key: str
    admin_key: str
    key_id: str

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"authorization": f"Bearer {key or self.key}"}
        return httpx.Client(base_url=self.url, headers=headers, **{"timeout": 30, **kwargs})


@contextlib.contextmanager
def serve(settings: Settings, store: Store) -> Iterator[str]:
    """Run the app in a uvicorn server on a free loopback port for the duration of a test."""
    with serve_app(create_app(settings, resolve_runtime(settings, {}), store)) as url:
        yield url


@contextlib.contextmanager
def serve_app(app: FastAPI) -> Iterator[str]:
    """Serve a built app on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        # proxy_headers off, as `medvault serve` runs it: no client's X-Forwarded-* header is believed.
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            loop="asyncio",
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def make_settings(tmp_path: Path, engine_urls: list[str], **overrides: Any) -> Settings:
    replicas = [{"kind": "openai", "url": url} for url in engine_urls]
    given: dict[str, Any] = {"auth": {"cache_ttl_s": 0}, **overrides}
    return load_settings(None, data_dir=tmp_path, models=[{"id": "fake", "replicas": replicas}], **given)


def open_store(settings: Settings) -> Store:
    store = Store.open(settings.resolved_database_url)
    store.migrate()
    return store


@pytest.fixture
def gateway(tmp_path: Path, engine: Engine) -> Iterator[Running]:
    settings = make_settings(
        tmp_path,
        [engine.url],
        limits={"max_body_bytes": 4096, "request_timeout_s": 3, "first_token_timeout_s": 3},
    )
    store = open_store(settings)
    key_id, key = store.create_key("alice", Role.CLINICIAN)
    _, admin = store.create_key("root", Role.ADMIN)
    with serve(settings, store) as url:
        yield Running(url, settings, store, key, admin, key_id)
    store.close()
