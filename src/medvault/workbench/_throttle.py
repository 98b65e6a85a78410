"""Sign-in throttling: exponential back-off per (user, address), per address and per user.

Three counts of wrong passwords, each with the same back-off: none for the first `free` failures, then
`base_delay_s` doubling with every further failure, up to a cap.

- per (user name, client address), cap `max_delay_s`: one address guessing one user's password;
- per client address, whatever the user name, cap `max_delay_s`: one address trying a few passwords on
  many users. It allows more failures, because a ward PC or a terminal server is shared by many people,
  and it does not hold (nor count) a familiar pair: a user who signed in from this address in the last
  `familiar_days`. Otherwise one insider behind a NAT, a terminal server or the loopback bridge could
  type ten wrong user names and keep every user of that address out, the admin included;
- per user, counting only addresses this user has not signed in from in the last `familiar_days`, cap
  `user_max_delay_s` (short): many addresses guessing one user's password. It delays and never locks:
  its cap is short, and the addresses the user really signs in from are not held by it, so an attacker
  cannot keep the local admin out, while a distributed guess gets one try per cap at most.

While a back-off runs, an attempt is refused (429 with `Retry-After`) before its password is looked at,
so the right password is refused too and the answer tells nothing about the password (no oracle). An
attempt let through counts as a failure at once, before the (slow) password check, and a right password
takes that back: parallel guesses see each other instead of all slipping through one opening. A right
password also clears its (user, address) count; the address and user counts only lose the attempt's
own share, so signing in as oneself cannot wipe out the failures of a password spray.

Failures are forgotten `forget_after_s` after the last one. The counts and the familiar pairs live in
this gateway process's memory (there is one gateway process; docs/design.md), so a restart forgets them
(and a familiar user is then held by the address count until they sign in again). They grow only with
attempts that were let through, which the per-address rule bounds, and forgotten ones are pruned.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from medvault.config import SigninThrottleSettings

Scope = Literal["pair", "address", "user"]
K = TypeVar("K", str, tuple[str, str])
_PRUNE_EVERY_S = 60.0
_MAX_NAME = 128  # longer typed names share one count: the key stays small, and such a name is no user's


def address_key(host: str | None) -> str:
    """The client address a count is kept for: an IPv6 client counts by its /64, which it may hold whole."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def backoff_s(failures: int, free: int, base_s: float, cap_s: float) -> float:
    """How long after the last failure the next attempt must wait: 0, then base, 2*base, ... up to cap."""
    if failures <= free:
        return 0.0
    return min(cap_s, base_s * 2.0 ** min(failures - free - 1, 64))


@dataclass(frozen=True)
class Refusal:
    """An attempt refused unchecked: which count holds it, and for how many whole seconds more."""

    scope: Scope
    retry_after_s: int


@dataclass(frozen=True)
class Attempt:
    """An attempt let through (and already counted as failed): hand it back to `succeeded`."""

    user: str
    address: str
    familiar: bool  # counted for its pair only


@dataclass(slots=True)
class _Count:
    failures: int
    last: float


class SigninThrottle:
    """The counts of one gateway process; `clock` (monotonic seconds) is a seam for tests."""

    def __init__(self, settings: SigninThrottleSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._pairs: dict[tuple[str, str], _Count] = {}
        self._addresses: dict[str, _Count] = {}
        self._users: dict[str, _Count] = {}
        self._familiar: dict[tuple[str, str], float] = {}  # (user, address): when last signed in
        self._next_prune = 0.0

    def begin(self, user: str, address: str) -> Attempt | Refusal:
        """Refuse the attempt while a back-off runs; otherwise count it as failed and let it through."""
        now = self.clock()
        self._prune(now)
        user = user[:_MAX_NAME]
        familiar = self._is_familiar(user, address, now)
        s = self.settings
        checks: list[tuple[Scope, _Count | None, int, float]] = [
            ("pair", self._pairs.get((user, address)), s.free_failures, s.max_delay_s),
        ]
        if not familiar:
            checks.append(("address", self._addresses.get(address), s.address_free_failures, s.max_delay_s))
            checks.append(("user", self._users.get(user), s.user_free_failures, s.user_max_delay_s))
        waits = [
            (count.last + backoff_s(count.failures, free, s.base_delay_s, cap) - now, scope)
            for scope, count, free, cap in checks
            if count is not None
        ]
        wait, scope = max(waits, default=(0.0, "pair"))
        if wait > 0:
            return Refusal(scope, max(1, math.ceil(wait)))
        self._fail(self._pairs, (user, address), now)
        if not familiar:
            self._fail(self._addresses, address, now)
            self._fail(self._users, user, now)
        return Attempt(user, address, familiar)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: clear the pair's count, take back the attempt's share of the others,
        and remember the address as one this user signs in from."""
        self._pairs.pop((attempt.user, attempt.address), None)
        if not attempt.familiar:
            self._take_back(self._addresses, attempt.address)
            self._take_back(self._users, attempt.user)
        self._familiar[(attempt.user, attempt.address)] = self.clock()

    def __len__(self) -> int:
        """How many counts and familiar addresses are held (they must not grow without bound)."""
        return len(self._pairs) + len(self._addresses) + len(self._users) + len(self._familiar)

    def _is_familiar(self, user: str, address: str, now: float) -> bool:
        since = self._familiar.get((user, address))
        return since is not None and now - since < self.settings.familiar_days * 86400

    def _fail(self, counts: dict[K, _Count], key: K, now: float) -> None:
        count = counts.get(key)
        if count is None or now - count.last >= self.settings.forget_after_s:
            counts[key] = _Count(1, now)
        else:
            count.failures += 1
            count.last = now

    @staticmethod
    def _take_back(counts: dict[K, _Count], key: K) -> None:
        count = counts.get(key)
        if count is not None:
            count.failures = max(0, count.failures - 1)

    def _prune(self, now: float) -> None:
        if now < self._next_prune:
            return
        self._next_prune = now + _PRUNE_EVERY_S
        forget = self.settings.forget_after_s
        self._pairs = {k: c for k, c in self._pairs.items() if now - c.last < forget}
        self._addresses = {k: c for k, c in self._addresses.items() if now - c.last < forget}
        self._users = {k: c for k, c in self._users.items() if now - c.last < forget}
        keep = self.settings.familiar_days * 86400
        self._familiar = {k: since for k, since in self._familiar.items() if now - since < keep}
