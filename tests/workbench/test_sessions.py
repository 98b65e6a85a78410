"""Unit tests of the session table (in the database) (creation, idle and absolute expiry, sign-out) and of the
session's re-check of its user."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from starlette.requests import Request

from medvault.store import Principal, Role, Store
from medvault.workbench._access import Access
from medvault.workbench._sessions import Session, Sessions, new_token, same_token

T = TypeVar("T")

ALICE = Principal("alice", Role.CLINICIAN)


def _id(session: Session | None) -> str | None:
    """The id of a found session: each read of the table gives a new object."""
    return None if session is None else session.id


def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store, closed afterwards (the two-process PostgreSQL cases are in tests/scale)."""
    opened = Store.open(f"sqlite:///{tmp_path / 'medvault.db'}")
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from sqlite_store(tmp_path)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_create_gives_fresh_random_ids_and_csrf_tokens(store: Store) -> None:
    """Every session gets its own unguessable id and CSRF token."""
    sessions = Sessions(store, 60)
    first, second = sessions.create(ALICE, "de"), sessions.create(ALICE, "de")
    assert first.id != second.id and first.csrf != second.csrf
    assert len(first.id) >= 43 and len(first.csrf) >= 43
    assert _id(sessions.get(first.id)) == first.id


def test_idle_session_expires_and_activity_keeps_it_alive(store: Store) -> None:
    """A request within the idle time extends the session; a longer pause ends it."""
    clock = Clock()
    sessions = Sessions(store, 60, clock)
    session = sessions.create(ALICE, "en")
    clock.now += 59
    assert _id(sessions.get(session.id)) == session.id
    clock.now += 59
    assert _id(sessions.get(session.id)) == session.id
    clock.now += 61
    assert sessions.get(session.id) is None
    assert len(sessions) == 0


def test_a_look_without_touch_does_not_extend_the_session(store: Store) -> None:
    """`get(..., touch=False)` finds a live session but leaves its idle clock running."""
    clock = Clock()
    sessions = Sessions(store, 60, clock)
    session = sessions.create(ALICE, "en")
    clock.now += 59
    assert _id(sessions.get(session.id, touch=False)) == session.id
    clock.now += 2
    assert sessions.get(session.id, touch=False) is None


def test_drop_and_unknown_ids(store: Store) -> None:
    """A dropped, unknown or empty id finds no session."""
    sessions = Sessions(store, 60)
    session = sessions.create(ALICE, "de")
    sessions.drop(session.id)
    assert sessions.get(session.id) is None
    assert sessions.get("no-such-id") is None
    assert sessions.get(None) is None
    assert sessions.get("") is None


def test_creating_prunes_expired_sessions(store: Store) -> None:
    """Abandoned sessions do not pile up in memory."""
    clock = Clock()
    sessions = Sessions(store, 60, clock)
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


def test_a_session_ends_at_its_absolute_lifetime_despite_activity(store: Store) -> None:
    """Requests keep a session from idling out, but not past `max_s` after sign-in."""
    clock = Clock()
    sessions = Sessions(store, 60, clock, max_s=150)
    session = sessions.create(ALICE, "de")
    for _ in range(3):
        clock.now += 50
        assert _id(sessions.get(session.id)) == session.id
    clock.now += 1
    assert sessions.get(session.id) is None
    assert len(sessions) == 0


def _request(session_id: str) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"cookie", f"mv_session={session_id}".encode())],
    }
    return Request(scope)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on a loop of its own thread: the browser tests' Playwright keeps a loop running in
    the main thread for the whole session, where `asyncio.run` would refuse."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


def test_access_rechecks_the_user_at_most_every_few_seconds(store: Store) -> None:
    """The user's stamp is read again only after `recheck_s`; a changed or missing stamp ends the session."""
    clock = Clock()
    sessions = Sessions(store, 3600, clock)
    stamps = {"alice": "s1"}
    reads: list[str] = []

    async def stamp(user: str) -> str | None:
        reads.append(user)
        return stamps.get(user)

    async def no_keys(request: Request) -> Principal:
        raise AssertionError("no API key in these requests")

    access = Access(sessions, no_keys, stamp, recheck_s=5)
    session = sessions.create(ALICE, "de", "s1")
    assert _id(_run(access.session(_request(session.id)))) == session.id and reads == []
    clock.now += 6
    assert _id(_run(access.session(_request(session.id)))) == session.id and reads == ["alice"]
    stamps["alice"] = "s2"  # the password was changed
    clock.now += 4
    assert _id(_run(access.session(_request(session.id)))) == session.id  # still within the cache
    clock.now += 2
    assert _run(access.session(_request(session.id))) is None
    assert sessions.get(session.id) is None
    other = sessions.create(ALICE, "de", "s2")
    del stamps["alice"]  # disabled
    clock.now += 6
    assert _run(access.session(_request(other.id))) is None


def test_a_second_process_sees_sign_in_language_and_sign_out(store: Store) -> None:
    """Two session tables over one database (two gateway processes) share every session: one opened by
    the first is found by the second, a language set on one is read by the other, and a sign-out on the
    second ends it for the first. (The same across real processes on PostgreSQL: tests/scale.)"""
    clock = Clock()
    first, second = Sessions(store, 60, clock), Sessions(store, 60, clock)
    session = first.create(ALICE, "de", "s1")
    seen = second.get(session.id)
    assert seen is not None and seen.csrf == session.csrf and seen.principal == ALICE
    seen.lang = "en"
    again = first.get(session.id)
    assert again is not None and again.lang == "en"
    second.drop(session.id)
    assert first.get(session.id) is None


def test_the_table_keeps_no_usable_session_id(store: Store) -> None:
    """Only the id's SHA-256 is stored: reading the database does not give a cookie that signs in."""
    sessions = Sessions(store, 60)
    session = sessions.create(ALICE, "de")
    from sqlalchemy import text

    with store._engine.connect() as conn:
        stored = conn.execute(text("SELECT id_hash FROM web_sessions")).scalar_one()
    assert stored != session.id and session.id not in stored
    assert sessions.get(stored) is None
