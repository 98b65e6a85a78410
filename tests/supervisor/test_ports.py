"""Who holds an engine's port: listeners, /proc process trees and fds, the guard's verdicts on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from medvault.config import Settings
from medvault.errors import ConfigError
from medvault.supervisor import ManagedProcess, Supervisor
from medvault.supervisor._layout import Placement
from medvault.supervisor._netns import http_ok
from medvault.supervisor._ports import (
    Listener,
    PortGuard,
    PortHijacked,
    process_tree,
    read_listeners,
    socket_holders,
    socket_inodes,
)

ip = ipaddress.ip_address
# An engine in miniature: `python -c SERVE HOST DELAY PORT...` waits DELAY seconds, then answers every GET
# with a model list on HOST at each PORT: the first its own, any further one a sibling's that it takes over
# as soon as it is free (retrying while the sibling holds it).
SERVE = """
import http.server, json, socket, sys, threading, time
host, delay, ports = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
time.sleep(delay)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
def take(port):
    if port.startswith("+"):  # a thief that waits for the port's owner to listen, then for its crash
        port = port[1:]
        while True:
            try:
                socket.create_connection((host, int(port)), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
    while True:
        try:
            server = http.server.HTTPServer((host, int(port)), H)
        except OSError:
            time.sleep(0.05)
        else:
            server.serve_forever()
for port in ports[1:]:
    threading.Thread(target=take, args=(port,), daemon=True).start()
http.server.HTTPServer((host, int(ports[0])), H).serve_forever()
"""


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _inode_listening_on(port: int) -> int:
    return next(lst.inode for lst in read_listeners() if lst.port == port)


@pytest.mark.parametrize(
    ("bound", "port", "receives"),
    [
        ("100.72.0.6", 8101, True),
        ("0.0.0.0", 8101, True),  # a wildcard takes the engine's address too
        ("::", 8101, True),  # so does a dual-stack wildcard
        ("::ffff:100.72.0.6", 8101, True),
        ("100.72.0.6", 8100, False),
        ("127.0.0.1", 8101, False),  # loopback is not where the gateway connects
        ("100.72.0.2", 8101, False),
    ],
)
def test_which_listeners_receive_an_engines_connections(bound: str, port: int, receives: bool) -> None:
    """A listener takes connections to 100.72.0.6:8101 when bound to that address or a wildcard, same port."""
    assert Listener(ip(bound), port, 1).receives(ip("100.72.0.6"), 8101) is receives


@pytest.mark.parametrize(("family", "address"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_own_listener_found_as_owned_by_this_process(family: socket.AddressFamily, address: str) -> None:
    """A socket this test opens is listed with its address, port and inode, held by this pid and no other;
    a bound socket that does not listen is not listed."""
    with socket.socket(family) as sock, socket.socket(family) as idle:
        sock.bind((address, 0))
        sock.listen()
        idle.bind((address, 0))
        port, inode = sock.getsockname()[1], os.fstat(sock.fileno()).st_ino
        listeners = read_listeners()
        assert Listener(ip(address), port, inode) in listeners
        assert all(lst.port != idle.getsockname()[1] for lst in listeners)
        assert inode in socket_inodes([os.getpid()])
        assert socket_holders(inode) == [os.getpid()]
    assert all(lst.port != port for lst in read_listeners())  # closed: gone from the list


@pytest.fixture
def child_listener() -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], int]]:
    """A child that listens on a loopback port, and an unrelated child: (listener, bystander, port)."""
    port = _free_ports(1)[0]
    listener = subprocess.Popen([sys.executable, "-c", SERVE, "127.0.0.1", "0", str(port)])
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        deadline = time.monotonic() + 10
        while all(lst.port != port for lst in read_listeners()):
            assert time.monotonic() < deadline and listener.poll() is None
            time.sleep(0.05)
        yield listener, bystander, port
    finally:
        for process in (listener, bystander):
            process.kill()
            process.wait()


def test_a_childs_socket_belongs_to_its_tree_only(
    child_listener: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], int],
) -> None:
    """The child's socket is in its own tree and its parent's (this test), not in an unrelated process's."""
    listener, bystander, port = child_listener
    inode = _inode_listening_on(port)
    assert listener.pid in process_tree(os.getpid())
    assert inode in socket_inodes(process_tree(listener.pid))
    assert inode in socket_inodes(process_tree(os.getpid()))
    assert inode not in socket_inodes(process_tree(bystander.pid))
    assert socket_holders(inode) == [listener.pid]


@pytest.fixture
async def engines() -> AsyncIterator[tuple[PortGuard, list[str], ManagedProcess, ManagedProcess, list[int]]]:
    """Two engines on loopback under one guard: m#0 also takes m#1's port; m#1 is still loading.

    Yields (guard, the hijacks it reported, m#0, m#1, [port of m#0, port of m#1])."""
    own, taken = _free_ports(2)
    reported: list[str] = []
    guard = PortGuard(None, reported.append, reported.append)
    thief = ManagedProcess(
        "engine m#0",
        [sys.executable, "-c", SERVE, "127.0.0.1", "0", str(own), str(taken)],
        guard.ready_check("engine m#0", lambda: http_ok(f"http://127.0.0.1:{own}/v1/models")),
    )
    victim = ManagedProcess(
        "engine m#1",
        [sys.executable, "-c", "import time; time.sleep(60)"],  # loading: not listening yet
        guard.ready_check("engine m#1", lambda: http_ok(f"http://127.0.0.1:{taken}/v1/models")),
        start_timeout_s=10,
    )
    guard.add(thief, "127.0.0.1", own)
    guard.add(victim, "127.0.0.1", taken)
    try:
        yield guard, reported, thief, victim, [own, taken]
    finally:
        await guard.stop()
        for engine in (thief, victim):
            await engine.stop(grace_s=2)


async def test_port_taken_by_a_sibling_fails_the_start(
    engines: tuple[PortGuard, list[str], ManagedProcess, ManagedProcess, list[int]],
) -> None:
    """The thief is ready on its own port (control); the victim's probe is answered, by the thief, so its
    start fails naming the victim, the port and the holder, and the hijack is reported once."""
    guard, reported, thief, victim, (own, taken) = engines
    await thief.start()
    assert thief.ready
    with pytest.raises(PortHijacked) as failed:
        await victim.start()
    message = str(failed.value)
    assert message.startswith(f"engine m#1: its port 127.0.0.1:{taken} is held by pid ")
    assert "of engine m#0" in message and "not by the engine's own processes" in message
    assert reported == [message] and not victim.ready
    assert all(f":{own} " not in problem for problem in guard.problems())  # the thief's own port is its own


async def test_watch_reports_a_port_taken_while_its_engine_is_down(
    engines: tuple[PortGuard, list[str], ManagedProcess, ManagedProcess, list[int]],
) -> None:
    """With the victim not running (between a crash and its restart) the watch alone finds the thief's
    listener on its port, and only that one: the thief's own port is its own."""
    guard, reported, thief, _victim, (_, taken) = engines
    guard.start(interval_s=0.05)
    await asyncio.sleep(0.3)
    assert reported == []  # control: nothing listens anywhere yet
    await thief.start()
    deadline = time.monotonic() + 5
    while not reported:
        assert time.monotonic() < deadline, "the watch reported nothing"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # the watch stops at its first report
    assert len(reported) == 1
    assert reported[0].startswith(f"engine m#1: its port 127.0.0.1:{taken} is held by pid ")


async def test_an_engine_being_spawned_is_judged_at_the_next_check(
    engines: tuple[PortGuard, list[str], ManagedProcess, ManagedProcess, list[int]],
) -> None:
    """While an engine's child is being spawned its new pid is unknown, so a listener on its port is not
    yet anyone's hijack; once spawned (here: still not running) the same listener is reported."""
    guard, _reported, thief, victim, (_, taken) = engines
    await thief.start()
    deadline = time.monotonic() + 5
    while all(lst.port != taken for lst in read_listeners()):
        assert time.monotonic() < deadline, "the thief did not take the port"
        await asyncio.sleep(0.05)
    victim.spawning = True
    assert guard.problems() == []
    victim.spawning = False
    assert [p.split(" is held")[0] for p in guard.problems()] == [f"engine m#1: its port 127.0.0.1:{taken}"]


def test_two_replicas_on_one_port_are_refused(tmp_path: Path) -> None:
    """Two managed replicas given the same port are a configuration error naming both (not a hijack)."""
    argv = [sys.executable, "-m", "http.server", "--bind", "{host}", "{port}"]
    replica = {"kind": "command", "argv": argv, "port": 18555}
    settings = Settings.model_validate(
        {"data_dir": tmp_path, "models": [{"id": "m", "replicas": [replica, replica]}]}
    )
    supervisor = Supervisor(settings, config_file=None, isolate=False)
    guard = PortGuard(None, print, print)
    with pytest.raises(ConfigError, match=r"replicas m#0 and m#1 both use port 18555"):
        supervisor._engines(Placement(), guard)


def test_up_without_isolation_stops_when_a_replica_takes_its_siblings_port(tmp_path: Path) -> None:
    """`up --no-isolation`: replica 0 binds replica 1's loopback port before replica 1 starts; `up` exits
    with status 5, naming replica 1, its port and replica 0, and writes an audit event."""
    own, taken, gateway = _free_ports(3)
    thief = [sys.executable, "-c", SERVE, "{host}", "0", "{port}", str(taken)]
    victim = [sys.executable, "-c", SERVE, "{host}", "3", "{port}"]
    replicas = "".join(
        f'[[models.replicas]]\nkind = "command"\nargv = {json.dumps(argv)}\nport = {port}\n'
        for argv, port in ((thief, own), (victim, taken))
    )
    config = tmp_path / "medvault.toml"
    config.write_text('[[models]]\nid = "pair"\n' + replicas)
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(tmp_path / "data"), "MEDVAULT_CONFIG": str(config)}
    result = subprocess.run(
        [sys.executable, "-m", "medvault", "up", "--no-isolation", "--port", str(gateway)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 5, out[-3000:]
    assert f"ENGINE PORT TAKEN OVER: engine pair#1: its port 127.0.0.1:{taken} is held by pid " in out
    assert "of engine pair#0" in out
    audit = subprocess.run(
        [sys.executable, "-m", "medvault", "audit", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert "engine.port_taken" in audit.stdout, audit.stdout[-2000:] + audit.stderr[-2000:]
