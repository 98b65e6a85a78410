"""Unit tests of the in-memory session table: creation, idle expiry, sign-out."""

from __future__ import annotations

from medvault.store import Principal, Role
from medvault.workbench._sessions import Sessions, new_token, same_token

ALICE = Principal("alice", Role.CLINICIAN)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_create_gives_fresh_random_ids_and_csrf_tokens() -> None:
    """Every session gets its own unguessable id and CSRF token."""
    sessions = Sessions(60)
    first, second = sessions.create(ALICE, "de"), sessions.create(ALICE, "de")
    assert first.id != second.id and first.csrf != second.csrf
    assert len(first.id) >= 43 and len(first.csrf) >= 43
    assert sessions.get(first.id) is first


def test_idle_session_expires_and_activity_keeps_it_alive() -> None:
    """A request within the idle time extends the session; a longer pause ends it."""
    clock = Clock()
    sessions = Sessions(60, clock)
    session = sessions.create(ALICE, "en")
    clock.now += 59
    assert sessions.get(session.id) is session
    clock.now += 59
    assert sessions.get(session.id) is session
    clock.now += 61
    assert sessions.get(session.id) is None
    assert len(sessions) == 0


def test_drop_and_unknown_ids() -> None:
    """A dropped, unknown or empty id finds no session."""
    sessions = Sessions(60)
    session = sessions.create(ALICE, "de")
    sessions.drop(session.id)
    assert sessions.get(session.id) is None
    assert sessions.get("no-such-id") is None
    assert sessions.get(None) is None
    assert sessions.get("") is None


def test_creating_prunes_expired_sessions() -> None:
    """Abandoned sessions do not pile up in memory."""
    clock = Clock()
    sessions = Sessions(60, clock)
    for _ in range(5):
        sessions.create(ALICE, "de")
    clock.now += 120
    sessions.create(ALICE, "de")
    assert len(sessions) == 1


def test_same_token_compares_exactly() -> None:
    """Only the identical token matches; a missing one never does."""
    token = new_token()
    assert same_token(token, token)
    assert not same_token(token[:-1], token)
    assert not same_token(None, token)
    assert not same_token("", token)
