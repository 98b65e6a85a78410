"""Unit tests of the sign-in back-off: per (user, address), per address, per user, with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medvault.config import SigninThrottleSettings
from medvault.store import Store
from medvault.workbench._throttle import Attempt, Refusal, SigninThrottle, address_key, backoff_s
from tests.workbench.test_sessions import Clock, sqlite_store

ATTACKER, CLINIC, WARD = "198.51.100.66", "198.51.100.10", "198.51.100.20"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from sqlite_store(tmp_path)


def _throttle(store: Store, **settings: float) -> tuple[SigninThrottle, Clock]:
    clock = Clock()
    return SigninThrottle(SigninThrottleSettings.model_validate(settings), store, clock), clock


def _fail(throttle: SigninThrottle, user: str, address: str) -> Attempt | Refusal:
    """One attempt with a wrong password: counted when let through, never taken back."""
    return throttle.begin(user, address)


def _sign_in(throttle: SigninThrottle, user: str, address: str) -> Attempt | Refusal:
    """One attempt with the right password."""
    outcome = throttle.begin(user, address)
    if isinstance(outcome, Attempt):
        throttle.succeeded(outcome)
    return outcome


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, 0.0), (3, 0.0), (4, 1.0), (5, 2.0), (6, 4.0), (13, 512.0), (14, 900.0), (10_000, 900.0)],
)
def test_backoff_doubles_after_the_free_failures_up_to_the_cap(failures: int, wait: float) -> None:
    """No wait for the first free failures, then 1 s doubling per failure, never past the cap."""
    assert backoff_s(failures, free=3, base_s=1.0, cap_s=900.0) == wait


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("not an address", "unknown"),
        (None, "unknown"),
    ],
)
def test_address_key(host: str | None, key: str) -> None:
    """IPv4 (mapped or not) counts per address, IPv6 per /64, anything else as one unknown client."""
    assert address_key(host) == key


def test_sixty_wrong_passwords_are_held_and_the_right_one_is_refused_during_the_backoff(store: Store) -> None:
    """After the free failures every attempt is refused unchecked, the right password included (no
    oracle); once Retry-After has passed the right password works."""
    throttle, clock = _throttle(store)
    outcomes = [_fail(throttle, "admin", ATTACKER) for _ in range(60)]
    assert all(isinstance(o, Attempt) for o in outcomes[:4])
    refusals = outcomes[4:]
    assert all(isinstance(r, Refusal) and r.scope == "pair" and r.retry_after_s == 1 for r in refusals)
    held = _sign_in(throttle, "admin", ATTACKER)
    assert isinstance(held, Refusal)
    clock.now += held.retry_after_s
    assert isinstance(_sign_in(throttle, "admin", ATTACKER), Attempt)
    assert isinstance(_fail(throttle, "admin", ATTACKER), Attempt)  # the count starts again after it


def test_each_further_failure_doubles_the_wait_up_to_the_cap(store: Store) -> None:
    """An attacker who retries whenever the back-off ends waits twice as long each time, at most the cap."""
    throttle, clock = _throttle(store, max_delay_s=60, forget_after_s=3600)
    waits = []
    for _ in range(20):
        outcome = _fail(throttle, "admin", ATTACKER)
        if isinstance(outcome, Refusal):
            waits.append(outcome.retry_after_s)
            clock.now += outcome.retry_after_s
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_attackers_address_does_not_hold_another_address(store: Store) -> None:
    """While the attacker's address is held, the same user signs in from a clean address."""
    throttle, _ = _throttle(store)
    for _ in range(60):
        _fail(throttle, "admin", ATTACKER)
    assert isinstance(_fail(throttle, "admin", ATTACKER), Refusal)
    assert isinstance(_sign_in(throttle, "admin", CLINIC), Attempt)


def test_a_password_spray_from_one_address_is_held_per_address(store: Store) -> None:
    """Two tries each on many user names from one address trip the address count, not just the pairs."""
    throttle, _ = _throttle(store)
    outcomes = [_fail(throttle, f"user{n}", ATTACKER) for n in range(12)]
    assert all(isinstance(o, Attempt) for o in outcomes[:11])
    assert outcomes[11] == Refusal("address", 1)
    assert isinstance(_fail(throttle, "user99", WARD), Attempt)  # another address is not held


def test_signing_in_as_oneself_does_not_wipe_a_spray(store: Store) -> None:
    """A right password takes back only its own attempt from the address count."""
    throttle, _ = _throttle(store)
    for n in range(10):
        _fail(throttle, f"user{n}", ATTACKER)
    assert isinstance(_sign_in(throttle, "mallory", ATTACKER), Attempt)
    assert isinstance(_fail(throttle, "user10", ATTACKER), Attempt)  # the 11th failure still counts
    assert isinstance(_fail(throttle, "user11", ATTACKER), Refusal)


def test_a_distributed_guess_is_delayed_but_the_admin_still_signs_in(store: Store) -> None:
    """Guesses at one user from many addresses are held per user, for at most `user_max_delay_s`, and
    never from an address the user signed in from before."""
    throttle, clock = _throttle(store)
    assert isinstance(_sign_in(throttle, "admin", CLINIC), Attempt)  # the admin's own workstation
    outcomes = [_fail(throttle, "admin", f"203.0.113.{n}") for n in range(1, 40)]
    assert all(isinstance(o, Attempt) for o in outcomes[:11])
    held = [o for o in outcomes[11:] if isinstance(o, Refusal)]
    assert held and all(r.scope == "user" for r in held)
    assert isinstance(_sign_in(throttle, "admin", CLINIC), Attempt)  # familiar: not held by the user count
    for n in range(100, 120):  # keep guessing from fresh addresses whenever allowed: the wait stays capped
        outcome = _fail(throttle, "admin", f"203.0.113.{n}")
        if isinstance(outcome, Refusal):
            assert outcome.retry_after_s <= 60
            clock.now += outcome.retry_after_s
    assert isinstance(_fail(throttle, "admin", "203.0.113.250"), Refusal)
    clock.now += 60
    assert isinstance(_sign_in(throttle, "admin", WARD), Attempt)  # a new address after the short wait


def test_an_insider_on_the_admins_address_does_not_keep_the_admin_out(store: Store) -> None:
    """Wrong user names from the admin's own address (a NAT, a terminal server, the loopback bridge) hold
    that address for strangers, but not the admin, who signed in from it before."""
    throttle, _ = _throttle(store)
    assert isinstance(_sign_in(throttle, "admin", CLINIC), Attempt)
    outcomes = [_fail(throttle, f"nobody{n}", CLINIC) for n in range(20)]
    assert Refusal("address", 1) in outcomes  # the spray is held by the address count
    assert isinstance(_fail(throttle, "bob", CLINIC), Refusal)  # positive control: a stranger is held too
    assert isinstance(_sign_in(throttle, "admin", CLINIC), Attempt)


def test_a_familiar_pair_still_has_its_own_limit(store: Store) -> None:
    """A familiar (user, address) skips the address count but not its own: guessing a user's password
    from an address that user signs in from is held per pair."""
    throttle, _ = _throttle(store)
    _sign_in(throttle, "admin", CLINIC)
    outcomes = [_fail(throttle, "admin", CLINIC) for _ in range(5)]
    assert [type(o) for o in outcomes] == [Attempt] * 4 + [Refusal]
    assert {o.scope for o in outcomes if isinstance(o, Refusal)} == {"pair"}


def test_parallel_attempts_see_each_other(store: Store) -> None:
    """Attempts let through count before their passwords are checked, so parallel guesses are held too."""
    throttle, _ = _throttle(store)
    in_flight = [throttle.begin("admin", ATTACKER) for _ in range(5)]
    assert [type(o) for o in in_flight] == [Attempt] * 4 + [Refusal]


def test_failures_are_forgotten_and_a_right_password_clears_its_pair(store: Store) -> None:
    """After `forget_after_s` without failures the free attempts are back; a sign-in clears its pair."""
    throttle, clock = _throttle(store)
    for _ in range(4):
        _fail(throttle, "alice", CLINIC)
    assert isinstance(_fail(throttle, "alice", CLINIC), Refusal)
    clock.now += 3600
    assert all(isinstance(_fail(throttle, "alice", CLINIC), Attempt) for _ in range(3))
    assert isinstance(_sign_in(throttle, "alice", CLINIC), Attempt)
    assert all(isinstance(_fail(throttle, "alice", CLINIC), Attempt) for _ in range(3))


def test_forgotten_counts_are_pruned(store: Store) -> None:
    """Counts and familiar addresses are dropped once forgotten, so memory follows recent attempts only."""
    throttle, clock = _throttle(store, familiar_days=1)
    for n in range(50):
        _fail(throttle, f"user{n}", f"203.0.113.{n}")
    _sign_in(throttle, "alice", CLINIC)
    assert len(throttle) == 50 * 3 + 2 + 1  # alice: her address, user count and familiar address
    clock.now += 86400
    _fail(throttle, "bob", WARD)
    assert len(throttle) == 3


def test_forgetting_before_the_backoff_ends_is_refused() -> None:
    """A configuration that would forget failures before their back-off ends is refused, saying why."""
    with pytest.raises(ValueError, match="forget_after_s"):
        SigninThrottleSettings(max_delay_s=900, forget_after_s=60)
