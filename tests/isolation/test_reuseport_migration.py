"""Gateway workers share one port with SO_REUSEPORT: with `net.ipv4.tcp_migrate_req = 1` in the zones,
a worker that dies or restarts hands its queued connections to another worker instead of resetting them."""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import sys
import time

import pytest

from medvault.isolation import Isolation, _sys
from tests.conftest import require
from tests.isolation.conftest import REPO, Lab, sh

pytestmark = [pytest.mark.root, pytest.mark.slow]

MIGRATE_REQ = "net.ipv4.tcp_migrate_req"
CLIENTS = 20
PORT = 9100  # on the loopback of a namespace of its own: nothing else there listens on it


def _accept_queue(listener: socket.socket) -> int:
    """Connections waiting in a listener's accept queue (a listener's tcpi_unacked, 6th field of tcp_info)."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int(struct.unpack_from("I", info, 24)[0])


def _trial() -> dict[str, int]:
    """Two SO_REUSEPORT listeners, CLIENTS connections queued across both and not accepted, the first
    listener closed: how many connections the second then accepts and exchanges a byte over each way,
    and how many are reset. Runs in the calling thread's network namespace."""
    listeners = []
    for _ in range(2):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", PORT))
        listener.listen(CLIENTS)
        listeners.append(listener)
    first, second = listeners
    clients = [socket.create_connection(("127.0.0.1", PORT), timeout=5) for _ in range(CLIENTS)]
    accepted: list[socket.socket] = []
    try:
        for client in clients:
            client.sendall(b"p")
        deadline = time.monotonic() + 5
        while _accept_queue(first) + _accept_queue(second) < CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        queued = {"queued_first": _accept_queue(first), "queued_second": _accept_queue(second)}
        first.close()  # without accepting: what a dying or restarting worker does to its queue
        second.settimeout(1.0)
        with contextlib.suppress(TimeoutError):
            while True:
                conn, _ = second.accept()
                accepted.append(conn)
                conn.settimeout(2)
                if conn.recv(1) == b"p":
                    conn.sendall(b"k")
        outcome = {"ok": 0, "reset": 0, "other": 0}
        for client in clients:
            try:
                outcome["ok" if client.recv(1) == b"k" else "other"] += 1
            except ConnectionResetError:
                outcome["reset"] += 1
            except OSError:
                outcome["other"] += 1
        return queued | outcome | {"accepted": len(accepted)}
    finally:
        for sock in [*clients, *accepted, second]:
            sock.close()


def _migrate_req(netns: str) -> str | None:
    return _sys.call_in(netns, lambda: _sys.read_sysctls([MIGRATE_REQ])[MIGRATE_REQ])


def _set_migrate_req(netns: str, value: str) -> None:
    _sys.call_in(netns, lambda: _sys.write_sysctls({MIGRATE_REQ: value}))


@pytest.fixture(scope="module")
def dmz(lab: Lab, iso: Isolation) -> str:
    """The dmz zone's namespace, on a kernel that has the sysctl (Linux >= 5.14)."""
    require(_migrate_req(iso.links["dmz"].netns) is not None, f"the kernel has no {MIGRATE_REQ}")
    return iso.links["dmz"].netns


def test_zones_migrate_queued_connections(iso: Isolation, dmz: str) -> None:
    """Every zone has the sysctl on, and in the dmz no queued connection is lost when a listener closes."""
    assert {zone: _migrate_req(link.netns) for zone, link in iso.links.items()} == {"dmz": "1", "vault": "1"}
    result = _sys.call_in(dmz, _trial)
    assert result["queued_first"] >= 1 and result["queued_second"] >= 1, result
    assert result["queued_first"] + result["queued_second"] == CLIENTS, result
    outcome = {key: result[key] for key in ("ok", "reset", "other", "accepted")}
    assert outcome == {"ok": CLIENTS, "reset": 0, "other": 0, "accepted": CLIENTS}, result


def test_without_migration_queued_connections_are_reset(lab: Lab, dmz: str) -> None:
    """Positive control: the same trial in a namespace with the sysctl off loses the closed queue."""
    netns = f"mvt-{lab.tag}-nomigrate"
    sh("ip", "netns", "add", netns)
    try:
        sh("ip", "-n", netns, "link", "set", "lo", "up")
        _set_migrate_req(netns, "0")
        assert _migrate_req(netns) == "0"
        result = _sys.call_in(netns, _trial)
    finally:
        sh("ip", "netns", "del", netns, check=False)
    assert result["queued_first"] >= 1, result
    assert result["reset"] == result["queued_first"] and result["ok"] == result["queued_second"], result


def test_switching_migration_off_in_a_zone_is_drift(iso: Isolation, dmz: str) -> None:
    """Root setting the sysctl back to 0 in the dmz is reported by the audit the monitor polls."""
    assert iso.sysctl_problems() == []
    _set_migrate_req(dmz, "0")
    try:
        assert f"zone dmz: sysctl {MIGRATE_REQ} is 0, must be 1" in iso.sysctl_problems()
    finally:
        _set_migrate_req(dmz, "1")
    assert iso.sysctl_problems() == []


def test_dmz_workload_cannot_switch_migration_off(iso: Isolation, dmz: str) -> None:
    """A sandboxed dmz workload (no capabilities, not root) cannot write the sysctl that root can."""
    write = f"open('/proc/sys/{MIGRATE_REQ.replace('.', '/')}', 'w').write('0')"
    done = subprocess.run(
        [*iso.exec_prefix("dmz"), sys.executable, "-c", write],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "PermissionError" in done.stderr or "Read-only file system" in done.stderr, done.stderr
    assert _migrate_req(dmz) == "1"
    assert iso.sysctl_problems() == []
