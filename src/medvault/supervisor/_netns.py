"""Health checks that must be made from inside another network namespace.

The supervisor stays in the host role's namespace family but its zones are separate namespaces: a
readiness probe of the gateway or the engine is made from a short-lived thread that joins the zone's
namespace (setns affects only the calling thread), so the supervisor itself never moves.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from medvault.tls import direct_opener

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _in_netns(netns: str, work: Callable[[], T]) -> T:
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {netns} failed")
            finally:
                os.close(fd)
            result.append(work())
        except BaseException as exc:  # noqa: BLE001 — handed back to the calling thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"netns-{netns}", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def _get_ok(url: str, timeout_s: float, pin: Path | None) -> bool:
    try:  # an unreadable pin is a failed probe, like an unreachable server
        with direct_opener(pin).open(url, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return False


async def http_ok(
    url: str, netns: str | None = None, timeout_s: float = 2.0, pin: Path | None = None
) -> bool:
    """True when GET `url` answers 200, made from inside `netns` when one is given; an https `url` must
    present the server certificate first in the PEM file `pin` (see `medvault.tls.pinned_context`)."""
    if netns is None:
        return await asyncio.to_thread(_get_ok, url, timeout_s, pin)
    return await asyncio.to_thread(_in_netns, netns, lambda: _get_ok(url, timeout_s, pin))
