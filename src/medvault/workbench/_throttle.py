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
the database (`Store.signin_counts`), so every gateway process and every host on one PostgreSQL counts
the same attempts: each decision and its count happen in one transaction that excludes every other
sign-in's, so parallel guesses sent to different processes still see each other. They grow only with
attempts that were let through, which the per-address rule bounds, and forgotten ones are pruned.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from medvault.config import SigninThrottleSettings
from medvault.store import Store
from medvault.store._directory_users import name_key

Scope = Literal["pair", "address", "user"]
_PRUNE_EVERY_S = 60.0
_MAX_NAME = 128  # longer typed names share one count: the key stays small, and such a name is no user's


def user_key(typed: str) -> str:
    """The digest a typed name is counted under. Every spelling that can reach one account shares it: the
    directory matches a uid ignoring case and surrounding or repeated spaces, and a local name's
    look-alikes are its holder's (`name_key`), so "CLIN1 " must not open a fresh count beside "clin1".
    Only a digest is kept: a failed attempt's "name" may be a mistyped password. The cut before
    normalising bounds the work; a name that long signs in nowhere (the directory's limit is 256)."""
    normal = " ".join(name_key(typed[: _MAX_NAME * 4]).split())[:_MAX_NAME]
    return hashlib.sha256(normal.encode()).hexdigest()


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


class SigninThrottle:
    """The counts, kept in `store`; `clock` (epoch seconds, shared by processes) is a seam for tests."""

    def __init__(
        self, settings: SigninThrottleSettings, store: Store, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._next_prune = 0.0

    def begin(self, user: str, address: str) -> Attempt | Refusal:
        """Refuse the attempt while a back-off runs; otherwise count it as failed and let it through."""
        now = self.clock()
        self._prune(now)
        user = user_key(user)
        s = self.settings
        with self.store.signin_counts() as counts:
            since = counts.familiar_since(user, address)
            familiar = since is not None and now - since < s.familiar_days * 86400
            keys: list[tuple[Scope, str, str, int, float]] = [
                ("pair", user, address, s.free_failures, s.max_delay_s)
            ]
            if not familiar:
                keys.append(("address", "", address, s.address_free_failures, s.max_delay_s))
                keys.append(("user", user, "", s.user_free_failures, s.user_max_delay_s))
            found = [(key, counts.get(key[0], key[1], key[2])) for key in keys]
            waits: list[tuple[float, Scope]] = []
            for (scope, _, _, free, cap), count in found:
                if count is not None:
                    failures, last = count
                    waits.append((last + backoff_s(failures, free, s.base_delay_s, cap) - now, scope))
            wait, scope = max(waits, default=(0.0, "pair"))
            if wait > 0:
                return Refusal(scope, max(1, math.ceil(wait)))
            for (scope, key_user, key_address, _, _), count in found:
                stale = count is None or now - count[1] >= s.forget_after_s
                failures = 1 if stale or count is None else count[0] + 1
                counts.put(scope, key_user, key_address, failures, now)
        return Attempt(user, address, familiar)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: clear the pair's count, take back the attempt's share of the others,
        and remember the address as one this user signs in from."""
        with self.store.signin_counts() as counts:
            counts.clear("pair", attempt.user, attempt.address)
            if not attempt.familiar:
                counts.take_back("address", "", attempt.address)
                counts.take_back("user", attempt.user, "")
            counts.make_familiar(attempt.user, attempt.address, self.clock())

    def __len__(self) -> int:
        """How many counts and familiar addresses are held (they must not grow without bound)."""
        return self.store.signin_rows()

    def _prune(self, now: float) -> None:
        if now < self._next_prune:
            return
        self._next_prune = now + _PRUNE_EVERY_S
        self.store.signin_prune(now - self.settings.forget_after_s, now - self.settings.familiar_days * 86400)
