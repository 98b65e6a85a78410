"""Server-side sign-in sessions: a random id in a cookie, everything else in the database.

A session ends when the user signs out, after `idle_s` without a request, or `max_s` after sign-in
whatever the activity (so a session left open on a ward PC does not live for days). It also rests on a
*stamp* of the user (role and password hash, `Store.user_stamp`): `Access` re-reads the stamp every few
seconds and ends the session when it changed or the user was disabled. The cookie carries only the id;
the principal, the CSRF token and the UI language stay on the server, so a stolen page cannot be
replayed after sign-out and nothing in the cookie is worth tampering with.

The sessions live in the database (`Store.session_*`), not in a process: every gateway process, and
every host on one PostgreSQL, sees a sign-in and a sign-out at once, so a load balancer needs no sticky
sessions. The table holds only the SHA-256 of each id: a copy of the database opens no session.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from medvault.store import Principal, Role, SessionRow, Store

COOKIE = "mv_session"


def new_token() -> str:
    """A random token for session ids and CSRF tokens (256 bits)."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Compare tokens in constant time, so a timing side channel cannot guess them byte by byte. An empty
    or missing token matches nothing, not even another empty one: a form posted from elsewhere without
    the cookie must not pass as "both empty"."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Session:
    """One signed-in browser; times are readings of the table's clock. Setting `lang` or `checked`
    writes through to the database, so every gateway process sees the change."""

    __slots__ = ("_checked", "_lang", "_save", "csrf", "id", "last_seen", "principal", "stamp", "started")

    def __init__(self, session_id: str, row: SessionRow, save: Callable[..., None]) -> None:
        self.id = session_id
        self.principal = Principal(user=row.user, role=Role(row.role))
        self.started, self.last_seen = row.started, row.last_seen
        self.stamp = row.stamp  # the user's stamp at sign-in
        self.csrf = row.csrf
        self._lang, self._checked = row.lang, row.checked  # `checked`: when the stamp was last confirmed
        self._save = save

    @property
    def lang(self) -> str:
        return self._lang

    @lang.setter
    def lang(self, value: str) -> None:
        if value != self._lang:
            self._lang = value
            self._save(lang=value)

    @property
    def checked(self) -> float:
        return self._checked

    @checked.setter
    def checked(self, value: float) -> None:
        self._checked = value
        self._save(checked=value)


class Sessions:
    """The open sessions, in `store`; `clock` (epoch seconds, shared by processes) is a seam for tests."""

    def __init__(
        self,
        store: Store,
        idle_s: float,
        clock: Callable[[], float] = time.time,
        *,
        max_s: float = 12 * 3600,
    ) -> None:
        self.store = store
        self.idle_s = idle_s
        self.max_s = max_s
        self.clock = clock

    def create(self, principal: Principal, lang: str, stamp: str = "") -> Session:
        """Open a new session under a fresh id (never reusing one the browser sent: no fixation)."""
        now = self.clock()
        # Sign-ins are rare: each removes the sessions that expired meanwhile, so they cannot pile up.
        self.store.sessions_prune(now, self.idle_s, self.max_s)
        session_id = new_token()
        row = SessionRow(
            id_hash=_hash(session_id), user=principal.user, role=str(principal.role), lang=lang,
            csrf=new_token(), stamp=stamp, started=now, last_seen=now, checked=now,
        )  # fmt: skip
        self.store.session_create(row)
        return self._session(session_id, row)

    def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        """The live session for this id, touched unless `touch` is false (a background poll is not
        activity); None when unknown, idle too long or too old."""
        if not session_id or len(session_id) > 128:
            return None
        row = self.store.session_get(_hash(session_id), self.clock(), self.idle_s, self.max_s, touch=touch)
        return None if row is None else self._session(session_id, row)

    def drop(self, session_id: str | None) -> None:
        """End one session (sign-out, or its user changed), in every process."""
        if session_id:
            self.store.session_drop(_hash(session_id))

    def __len__(self) -> int:
        return self.store.session_count()

    def _session(self, session_id: str, row: SessionRow) -> Session:
        return Session(session_id, row, functools.partial(self.store.session_update, row.id_hash))
