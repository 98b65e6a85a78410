"""The loopback bridge: the machine's 127.0.0.1:PORT to the dmz gateway, when a test or demo namespace
plays the host role.

The listener lives in the caller's namespace (the machine's root namespace); each upstream socket is
created by a thread that joined the host-role namespace, so the connection leaves from there and
passes the host firewall's `output` chain like any host-role traffic. Nothing in the root namespace
(routes, firewall, sysctls) changes.

Timeouts bound connecting and silence, never a connection's total duration: a model may think for
minutes before its first token, and the gateway's own `limits.first_token_timeout_s` is the bound on
that wait. The bridge only drops a connection on which neither side has sent a byte for `idle_timeout_s`
(the workbench's stream sends keep-alives, so a live run is never silent that long).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

from medvault.errors import IsolationError
from medvault.isolation import _sys

CONNECT_TIMEOUT_S = 5.0
# Well above the gateway's default first-token bound (120 s): the gateway, not the bridge, ends a wait.
IDLE_TIMEOUT_S = 600.0


class _Relay:
    """One client connection and its upstream, relayed both ways until either side closes or both have
    been silent for `idle_s`."""

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        self.last = time.monotonic()  # the last byte either way: silence one way is normal (a long answer)

    def pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    if time.monotonic() - self.last < self.idle_s:
                        continue  # the other direction was busy meanwhile
                    break
                if not data:
                    break
                self.last = time.monotonic()
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class LoopbackBridge:
    """Accepts on 127.0.0.1:`listen_port` and relays each connection to `upstream` from `host_netns`
    (None: the caller's namespace)."""

    def __init__(
        self,
        listen_port: int,
        upstream: tuple[str, int],
        host_netns: str | None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.upstream = upstream
        self.idle_timeout_s = idle_timeout_s
        self._connector = _sys.netns_executor(host_netns, 4, "bridge")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind(("127.0.0.1", listen_port))
        except OSError as exc:
            self._listener.close()
            self._connector.shutdown()
            raise IsolationError(f"cannot listen on 127.0.0.1:{listen_port}: {exc.strerror}") from exc
        self._listener.listen(64)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="ingress-bridge", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            try:
                upstream = self._connector.submit(
                    socket.create_connection, self.upstream, CONNECT_TIMEOUT_S
                ).result()
            except (OSError, RuntimeError):
                return  # the gateway is down or the bridge is closing: the client sees the close
            with upstream:
                # The connect timeout stays on the socket unless replaced: it would cut every answer
                # slower than it. Both sockets now wake after `idle_timeout_s` to check for silence.
                relay = _Relay(self.idle_timeout_s)
                for sock in (client, upstream):
                    sock.settimeout(self.idle_timeout_s)
                back = threading.Thread(target=relay.pump, args=(upstream, client), daemon=True)
                back.start()
                relay.pump(client, upstream)
                back.join()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=2)
        self._connector.shutdown(wait=False, cancel_futures=True)


class IngressHandle:
    """What `expose_ingress` returns; `close()` stops the bridge and withdraws the DNAT rule."""

    def __init__(self, close_ingress: Callable[[], None], bridge: LoopbackBridge | None) -> None:
        self._close_ingress = close_ingress
        self.bridge = bridge

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()
        self._close_ingress()
