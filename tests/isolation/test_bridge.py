"""The loopback bridge times out on connect and on silence, never on a request's duration: a model that
thinks longer than the old 5-second socket timeout before its first token still answers, once."""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from medvault.isolation import _sys
from medvault.isolation._ingress import LoopbackBridge
from medvault.store import Store
from medvault.tls import direct_opener
from tests.isolation.conftest import ENGINE_PORT, Lab, Up, free_port, launch


class _Scripted(socketserver.BaseRequestHandler):
    """Reads one line, then follows the server's `script`: (delay in seconds, bytes to send) pairs."""

    def handle(self) -> None:
        self.request.recv(1024)
        for delay, data in self.server.script:  # type: ignore[attr-defined]
            time.sleep(delay)
            self.request.sendall(data)


@pytest.fixture
def upstream() -> Iterator[socketserver.ThreadingTCPServer]:
    """A loopback TCP server whose answer follows `server.script`."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Scripted)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _exchange(port: int, timeout_s: float) -> tuple[bytes, float]:
    """Send a line through the bridge on `port`; everything that comes back until the close, and when."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as client:
        client.sendall(b"hello\n")
        received = b""
        while chunk := client.recv(4096):
            received += chunk
    return received, time.monotonic() - started


def _bridge(upstream: socketserver.ThreadingTCPServer, idle_s: float = 600.0) -> tuple[LoopbackBridge, int]:
    """A bridge in this namespace from a free loopback port to `upstream`: the bridge and its port."""
    port = free_port()
    host, upstream_port = upstream.server_address[:2]
    return LoopbackBridge(port, (str(host), int(upstream_port)), None, idle_timeout_s=idle_s), port


def test_an_answer_slower_than_the_connect_timeout_passes_the_bridge(
    upstream: socketserver.ThreadingTCPServer,
) -> None:
    """An upstream silent for 6.5 s (longer than the 5-second connect timeout) still gets its answer to
    the client; the control over the same bridge answers at once."""
    bridge, port = _bridge(upstream)
    try:
        upstream.script = [(0, b"at once")]  # type: ignore[attr-defined]
        assert _exchange(port, 20)[0] == b"at once"
        upstream.script = [(6.5, b"after thinking")]  # type: ignore[attr-defined]
        answer, took_s = _exchange(port, 20)
    finally:
        bridge.close()
    assert answer == b"after thinking" and took_s >= 6.5


def test_a_silent_connection_is_closed_after_the_idle_timeout_but_a_trickle_is_not(
    upstream: socketserver.ThreadingTCPServer,
) -> None:
    """With a 1 s idle timeout, an upstream that sends a byte every 0.4 s for 3 s keeps the connection
    (the client's own silence does not count), and one silent for 10 s is cut after about 1-2 s."""
    bridge, port = _bridge(upstream, idle_s=1.0)
    try:
        upstream.script = [(0.4, b".")] * 8  # type: ignore[attr-defined]
        trickle, _ = _exchange(port, 20)
        upstream.script = [(10, b"too late")]  # type: ignore[attr-defined]
        silent, took_s = _exchange(port, 20)
    finally:
        bridge.close()
    assert trickle == b"." * 8
    assert silent == b"" and 0.9 <= took_s < 4


# -- end to end: `medvault up --host-netns`, a fake engine in the vault, a client on 127.0.0.1 ---------


@pytest.fixture
def slow_service(lab: Lab, tmp_path: Path) -> Iterator[tuple[Up, str]]:
    """`medvault up --host-netns` whose engine is the fake one, running in the vault zone; yields the
    service and the vault engine's URL."""
    vault_address = lab.isolation().zone_address("vault")
    url = f"http://{vault_address}:{ENGINE_PORT}/v1"
    config = tmp_path / "medvault.toml"
    engine = f'\n[[models]]\nid = "fake"\n[[models.replicas]]\nkind = "openai"\nurl = "{url}"\n'
    config.write_text(lab.toml() + engine)
    run = launch(lab, config, tmp_path / "up.log")
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/healthz", timeout_s=90)
        vault = lab.policy.zone_netns("vault")
        fake = ["-m", "tests.fakes.engine", "--host", vault_address, "--port", str(ENGINE_PORT)]
        lab.spawn(["ip", "netns", "exec", vault, sys.executable, *fake])
        yield run, url
    finally:
        if run.process.poll() is None:
            run.process.terminate()
            run.process.wait(timeout=60)
        run.cli("isolation", "reset", "--yes")


def _chat(run: Up, port: int, text: str) -> tuple[int, bytes]:
    """A streamed chat completion through the loopback bridge, as `make run`'s users reach it."""
    body = {"model": "fake", "stream": True, "messages": [{"role": "user", "content": text}]}
    request = urllib.request.Request(
        f"https://127.0.0.1:{port}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={
            "authorization": f"Bearer {run.env['MEDVAULT_ADMIN_KEY']}",
            "content-type": "application/json",
        },
    )
    try:
        with direct_opener(run.certificate()).open(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _engine_started(lab: Lab, url: str) -> int:
    def read() -> int:
        with direct_opener(None).open(url.removesuffix("/v1") + "/_stats", timeout=5) as response:
            return int(json.load(response)["started"])

    return _sys.call_in(lab.policy.zone_netns("vault"), read)


def _chat_events(lab: Lab) -> list[int]:
    store = Store.open(f"sqlite:///{lab.data_dir / 'medvault.db'}")
    try:
        return [
            s.event.status for s in store.audit_events(limit=10_000) if s.event.action == "chat.completions"
        ]
    finally:
        store.close()


@pytest.mark.root
@pytest.mark.slow
def test_a_slow_first_token_completes_once_through_the_bridge(lab: Lab, slow_service: tuple[Up, str]) -> None:
    """A request whose first token comes after 8 s, through the real bridge and the isolated gateway,
    answers 200 with the whole stream, reaches the engine once and is audited once."""
    run, url = slow_service
    port = lab.policy.ingress.port
    deadline = time.monotonic() + 60
    ok_in_a_row = 0  # the control: every gateway worker (each checks the engine itself) has seen it up
    while ok_in_a_row < 4:
        ok_in_a_row = ok_in_a_row + 1 if _chat(run, port, "ping")[0] == 200 else 0
        assert time.monotonic() < deadline and run.process.poll() is None, run.tail()
        if not ok_in_a_row:
            time.sleep(1)
    engine_before, audited_before = _engine_started(lab, url), len(_chat_events(lab))
    started = time.monotonic()
    status, body = _chat(run, port, "__late:8__ Befund")
    took_s = time.monotonic() - started
    assert status == 200 and took_s >= 8, body[-500:]
    assert b"Lunge" in body and body.rstrip().endswith(b"data: [DONE]")
    assert _engine_started(lab, url) == engine_before + 1
    deadline = time.monotonic() + 10
    while len(_chat_events(lab)) == audited_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _chat_events(lab)[audited_before:] == [200]
