"""`gateway.workers = 2` under `medvault up`: two processes on one port; one killed is restarted while
the other keeps serving."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from medvault.store import Store
from tests.gateway.conftest import free_port, start_engine, wait_http
from tests.gateway.test_chat import CHAT, ask

# How a connection dies with the worker holding it: one the kernel had queued on the killed worker's
# listener is reset (at connect, or on the first read), one it was answering is cut. Neither request
# was answered, so a client (or the load balancer in front) sends it again; after the worker has exited
# its listener is out of the port's group and no new connection can meet this.
_CUT = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
# The load below has one connection open at a time: cut once when worker 1 exits (it was being answered
# or queued there), perhaps reset again while connecting to the listener being closed; then no more.
_MAX_CUT = 3


def _state(data: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((data / "run" / "supervisor.json").read_text())
    return result


def _gateways(data: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in _state(data)["processes"] if p["name"].startswith("gateway")}


def _admin_key(data: Path) -> str:
    return (data / "admin.key").read_text().strip()


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise TimeoutError(what)


def _exited(pid: int) -> bool:
    """True once `pid` has exited: a zombie (until the supervisor reaps it) has closed its files already,
    so its listener has left the port's SO_REUSEPORT group."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _chat(url: str, key: str) -> httpx.Response:
    """One chat request on a new connection (so the kernel picks a worker for each), with its own id."""
    headers = {"authorization": f"Bearer {key}", "x-request-id": secrets.token_hex(16)}
    return httpx.post(url + CHAT, json=ask("Befund"), headers=headers, timeout=30)


class _Load(threading.Thread):
    """Chat requests one after another until stopped; a cut one is sent again (counted, bounded)."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.answers: list[httpx.Response] = []
        self.cuts: list[str] = []
        self.failure: BaseException | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                for _ in range(_MAX_CUT + 1):
                    try:
                        self.answers.append(_chat(self.url, self.key))
                        break
                    except _CUT as exc:
                        self.cuts.append(repr(exc))
                if len(self.cuts) > _MAX_CUT:
                    raise AssertionError(f"more connections cut than were queued at the kill: {self.cuts}")
        except BaseException as exc:  # re-raised by the test's thread
            self.failure = exc

    def wait_answers(self, count: int, timeout_s: float = 60) -> None:
        _wait(lambda: len(self.answers) >= count or self.failure is not None, timeout_s, f"{count} answers")

    def finish(self) -> None:
        self.stopping.set()
        self.join(60)
        if self.failure is not None:
            raise self.failure


def test_a_killed_worker_is_restarted_and_the_other_keeps_serving(tmp_path: Path) -> None:
    """Load runs across a SIGKILL of worker 1: the few requests cut with it are sent again and answered;
    once it has exited, every request is answered without one failure; it is restarted (a new pid that
    answers as worker 1) while worker 2 serves on, never restarted; every answer is in the audit trail."""
    engine = start_engine()
    config = tmp_path / "medvault.toml"
    config.write_text(
        "[gateway]\nworkers = 2\n"
        f'[[models]]\nid = "fake"\n[[models.replicas]]\nkind = "openai"\nurl = "{engine.url}"\n'
    )
    data = tmp_path / "data"
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data), "MEDVAULT_CONFIG": str(config)}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "medvault", "up", "--no-isolation", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(url + "/healthz", timeout_s=120)
        _wait(lambda: all(p["ready"] for p in _gateways(data).values()), 120, "both workers ready")
        before = _gateways(data)
        assert sorted(before) == ["gateway-1", "gateway-2"]
        # Both answer on the one port (the kernel spreads connections over the two listeners).
        seen = {httpx.get(url + "/healthz").json()["worker"] for _ in range(40)}
        assert seen == {1, 2}
        assert sorted(p.name for p in (data / "metrics").iterdir())  # multi-process metrics in use
        key = _admin_key(data)

        load = _Load(url, key)
        load.start()
        try:
            load.wait_answers(5)
            killed = before["gateway-1"]["pid"]
            os.kill(killed, signal.SIGKILL)
            _wait(lambda: _exited(killed), 30, "gateway-1 exited")
            load.wait_answers(len(load.answers) + 10)  # the survivor carries the load on
        finally:
            load.finish()
        assert [a.status_code for a in load.answers] == [200] * len(load.answers)
        assert len(load.cuts) <= _MAX_CUT, load.cuts

        # Worker 1 has exited: nothing can reach its listener, so no request may fail (and none is resent).
        after = [_chat(url, key) for _ in range(30)]
        assert [a.status_code for a in after] == [200] * 30
        assert {httpx.get(url + "/healthz").json()["worker"] for _ in range(20)} <= {1, 2}

        def restarted() -> bool:
            now = _gateways(data)["gateway-1"]
            return bool(now["pid"] != killed and now["ready"])

        _wait(restarted, 120, "gateway-1 restarted")
        assert _gateways(data)["gateway-2"]["pid"] == before["gateway-2"]["pid"]  # never interrupted
        # The old process is gone, so an answer from worker 1 now comes from the restarted one.
        _wait(lambda: {httpx.get(url + "/healthz").json()["worker"] for _ in range(40)} == {1, 2}, 30, "both")

        answered = {a.headers["x-request-id"] for a in [*load.answers, *after]}
        store = Store.open(f"sqlite:///{data / 'medvault.db'}")
        try:
            recorded = {e.event.request_id for e in store.audit_events(limit=100_000)}
        finally:
            store.close()
        assert answered <= recorded, f"{len(answered - recorded)} answered requests have no audit event"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
        engine.kill()
