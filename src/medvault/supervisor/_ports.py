"""Which process listens on each engine's port: the check that an engine answers for itself.

All vault engines share one network namespace and one user, and engines have no authentication: an
engine an attacker runs code in could bind a sibling's address and port first (while the sibling loads,
or restarts after a crash), answer its readiness probe and receive the prompts the gateway routes to
that model, which also bypasses model change control. A port number proves nothing; the socket does.

So the supervisor (root, in the host role, in the host PID namespace that sees every sandbox's real
pids) lists the listening TCP sockets of the engines' namespace (local address, port, socket inode; see
`read_listeners`) and requires that every listener that would receive a
connection to an engine's address and port (the address itself, or a wildcard) is a socket held open
by one of the engine's own processes: its main process (the sandbox's outer bwrap) or a descendant
(`socket:[inode]` among /proc/<pid>/fd). Inside a sandbox an orphan is re-parented to the sandbox's own
init, so the descendants are the whole sandbox. `PortGuard` checks before an engine counts as ready and
twice a second while it runs; what a foreign listener means is the supervisor's decision (`on_hijack`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from medvault.supervisor._netns import _in_netns
from medvault.supervisor._process import (
    ManagedProcess,
    ProcessFailed,
    ReadyCheck,
    descendants,
    process_table,
)

log = structlog.get_logger("medvault.supervisor")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_TCP_LISTEN = 10  # include/net/tcp_states.h
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
WATCH_INTERVAL_S = 0.5  # like the monitor's poll: no kernel event announces a new listening socket
# A crashing engine's listening socket outlives its file descriptors for a moment (closed after them):
# a listener no engine holds is looked at again after this long before it counts as foreign.
_CONFIRM_S = 0.1


class PortHijacked(ProcessFailed):
    """A process that is not the engine's own listens on the engine's address and port."""


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket: its local address and port, and its inode (`socket:[inode]`)."""

    address: IPAddress
    port: int
    inode: int

    def receives(self, address: IPAddress, port: int) -> bool:
        """Whether a connection to `address`:`port` can reach this socket: bound to that address (or its
        IPv4-mapped form) or to a wildcard, which also takes every address the namespace has."""
        if port != self.port:
            return False
        mine = self.address
        if isinstance(mine, ipaddress.IPv6Address) and mine.ipv4_mapped is not None:
            mine = mine.ipv4_mapped
        return mine == address or mine.is_unspecified


def read_listeners(netns: str | None = None) -> list[Listener]:
    """Every listening TCP socket (IPv4 and IPv6) in network namespace `netns` (None: the caller's own).

    Asked of sock_diag, not read from /proc/net/tcp: that file says the same, but each read walks the
    whole established-connection hash (shared by all namespaces, sized by the host's memory), 7 ms on a
    small VM against 0.04 ms for the listening sockets alone, twice a second while MedVault runs.
    (pyroute2's `DiagSocket` runs an event loop of its own, which cannot run in a thread that has one.)
    """

    def read() -> list[Listener]:
        with socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, _NETLINK_SOCK_DIAG
        ) as sock:
            return [lst for family in (socket.AF_INET, socket.AF_INET6) for lst in _dump(sock, family)]

    return read() if netns is None else _in_netns(netns, read)


def _dump(sock: socket.socket, family: int) -> list[Listener]:
    """One sock_diag dump of the TCP sockets of `family` in state LISTEN (inet_diag_req_v2)."""
    request = struct.pack("=BBBBI48x", family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN)
    header = struct.pack(
        "=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0
    )
    sock.sendall(header + request)
    found: list[Listener] = []
    while True:
        data, offset = sock.recv(65536), 0
        if not data:
            raise OSError(errno.EPROTO, "sock_diag: the dump ended without NLMSG_DONE")
        while offset + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if kind == _NLMSG_DONE:
                return found
            if kind == _NLMSG_ERROR:
                error = -struct.unpack_from("=i", data, offset + 16)[0]
                raise OSError(error, f"sock_diag: {os.strerror(error)}")
            # inet_diag_msg: family, state, timer, retrans; sockid (sport, dport, src[16], ...); ... inode
            msg = offset + 16
            size = 4 if data[msg] == socket.AF_INET else 16
            address = ipaddress.ip_address(data[msg + 8 : msg + 8 + size])
            port = struct.unpack_from("!H", data, msg + 4)[0]
            found.append(Listener(address, port, struct.unpack_from("=I", data, msg + 68)[0]))
            offset += (length + 3) & ~3


def socket_inodes(pids: Iterable[int], proc: Path = Path("/proc")) -> set[int]:
    """The inodes of the sockets the processes `pids` hold open (one gone meanwhile holds none)."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):  # exited between the listing and now
            for fd in os.scandir(proc / str(pid) / "fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    if target.startswith("socket:["):
                        inodes.add(int(target[8:-1]))
    return inodes


def socket_holders(inode: int, proc: Path = Path("/proc")) -> list[int]:
    """Every process holding socket `inode` open (a scan of all of /proc: used only to name a culprit)."""
    return sorted(
        int(entry.name)
        for entry in os.scandir(proc)
        if entry.name.isdigit() and inode in socket_inodes([int(entry.name)], proc)
    )


def process_tree(root: int, proc: Path = Path("/proc")) -> set[int]:
    """`root` and every process below it."""
    children, _ = process_table(proc)
    return {root, *descendants(root, children)}


@dataclass(frozen=True)
class _Engine:
    process: ManagedProcess
    address: IPAddress
    port: int


class PortGuard:
    """The engines' ports and their owners, checked in the namespace `netns` (None: the supervisor's).

    `on_hijack(reason)` is called (from a worker thread) at the first listener on an engine's address and
    port that none of the engine's own processes holds, `on_failure(reason)` when the sockets or processes
    cannot be read while watching; the supervisor contains or halts in both (fail closed)."""

    def __init__(
        self,
        netns: str | None,
        on_hijack: Callable[[str], None],
        on_failure: Callable[[str], None],
        proc: Path = Path("/proc"),
    ) -> None:
        self._netns = netns
        self._on_hijack = on_hijack
        self._on_failure = on_failure
        self._proc = proc
        self._engines: dict[str, _Engine] = {}
        # (inode, engine pid) pairs already found in that engine's tree: a socket leaves a sandbox only if
        # its holder hands it over (SCM_RIGHTS), which the engine whose port it is has no cause to do; so
        # only a new listener is looked up, and the twice-a-second check stays a table read.
        self._verified: set[tuple[int, int]] = set()
        self._reporting = threading.Lock()  # held while a hijack is contained: `stop` waits for it
        self._watching: asyncio.Task[None] | None = None

    def add(self, process: ManagedProcess, address: str, port: int) -> None:
        self._engines[process.name] = _Engine(process, ipaddress.ip_address(address), port)

    def problems(self, names: Iterable[str] | None = None) -> list[str]:
        """One line per engine (all, or those `names`) whose address and port a foreign process holds."""
        engines = [self._engines[name] for name in (self._engines if names is None else names)]
        suspects = self._foreign(engines, read_listeners(self._netns))
        if not suspects:
            return []
        time.sleep(_CONFIRM_S)
        listening = read_listeners(self._netns)
        confirmed = [found for found in self._foreign(engines, listening) if found in suspects]
        named: dict[str, str] = {}
        for engine, listener in confirmed:
            named.setdefault(engine.process.name, self._describe(engine, listener))
        return list(named.values())

    def _foreign(self, engines: list[_Engine], listeners: list[Listener]) -> list[tuple[_Engine, Listener]]:
        return [
            (engine, listener)
            for engine in engines
            for listener in listeners
            if listener.receives(engine.address, engine.port) and not self._owns(engine, listener)
        ]

    def _owns(self, engine: _Engine, listener: Listener) -> bool:
        if engine.process.spawning:
            return True  # cannot be told yet (its new pid is not known); the next check decides
        pid = _running_pid(engine.process)
        if pid is None:
            return False  # an engine not running holds nothing: whatever listens is someone else's
        if (listener.inode, pid) in self._verified:
            return True
        if listener.inode not in socket_inodes(process_tree(pid, self._proc), self._proc):
            return False
        self._verified.add((listener.inode, pid))
        return True

    def _describe(self, engine: _Engine, listener: Listener) -> str:
        """Name the engine, the port, and who holds it (and whose engine that process is, if any)."""
        children, names = process_table(self._proc)
        trees = {
            other.process.name: {pid, *descendants(pid, children)}
            for other in self._engines.values()
            if (pid := _running_pid(other.process)) is not None
        }
        holders = []
        for pid in socket_holders(listener.inode, self._proc):
            owner = next((name for name, tree in trees.items() if pid in tree), None)
            holders.append(f"pid {pid} ({names.get(pid, '?')}{f', of {owner}' if owner else ''})")
        who = ", ".join(holders) or "a process the supervisor cannot see"
        bound = f"[{listener.address}]" if listener.address.version == 6 else str(listener.address)
        where = "" if listener.address == engine.address else f" (listening on {bound}:{listener.port})"
        return (
            f"{engine.process.name}: its port {engine.address}:{engine.port} is held by {who}{where}, "
            "not by the engine's own processes"
        )

    def _report(self, problem: str) -> None:
        with self._reporting:
            log.error("engine_port_hijacked", reason=problem)
            self._on_hijack(problem)

    async def owned(self, name: str) -> bool:
        """For readiness: True once engine `name` itself listens on its port; raises `PortHijacked` (after
        `on_hijack`) when a foreign process does; False while nothing listens there."""

        def check() -> bool:
            problems = self.problems([name])
            if problems:
                self._report(problems[0])
                raise PortHijacked(problems[0])
            engine = self._engines[name]
            return any(lst.receives(engine.address, engine.port) for lst in read_listeners(self._netns))

        try:
            return await asyncio.to_thread(check)
        except (OSError, ValueError) as exc:  # unreadable is not ready: the probe alone is not trusted
            raise ProcessFailed(f"{name}: the owner of its port cannot be checked: {exc}") from exc

    def ready_check(self, name: str, probe: ReadyCheck) -> ReadyCheck:
        """`probe` (an engine's readiness probe), then `owned`: an answer counts only from the engine."""

        async def ready() -> bool:
            return await probe() and await self.owned(name)

        return ready

    def start(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """`check()` every `interval_s` (in a task) until `stop()` or the first finding."""
        self._watching = asyncio.create_task(self._watch(interval_s))

    async def stop(self) -> None:
        """Stop watching; a hijack being contained meanwhile is contained first (its thread runs on)."""
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching

        def wait() -> None:
            with self._reporting:
                pass

        await asyncio.to_thread(wait)

    async def check(self) -> bool:
        """Check every engine now and report the first hijack (or that /proc cannot be read); True then.

        Also after an engine failed to start: one that died of EADDRINUSE lost its port to someone."""
        try:
            problems = await asyncio.to_thread(self.problems)
        except (OSError, ValueError) as exc:
            await asyncio.to_thread(self._on_failure, f"the engines' ports cannot be checked: {exc}")
            return True
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            await asyncio.to_thread(self._report, problems[0] + more)
        return bool(problems)

    async def _watch(self, interval_s: float) -> None:
        while not await self.check():
            await asyncio.sleep(interval_s)


def _running_pid(process: ManagedProcess) -> int | None:
    """The pid of `process` while it runs; None once it exited (its pid may then be another process's)."""
    child = process.process
    return child.pid if child is not None and child.returncode is None else None
