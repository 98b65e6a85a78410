"""Server-side sign-in sessions: a random id in a cookie, everything else in this process's memory.

A session ends when the user signs out, after `idle_s` without a request, or `max_s` after sign-in
whatever the activity (so a session left open on a ward PC does not live for days). It also rests on a
*stamp* of the user (role and password hash, `Store.user_stamp`): `Access` re-reads the stamp every few
seconds and ends the session when it changed or the user was disabled. The cookie carries only the id;
the principal, the CSRF token and the UI language stay on the server, so a stolen page cannot be
replayed after sign-out and nothing in the cookie is worth tampering with.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from medvault.store import Principal

COOKIE = "mv_session"


def new_token() -> str:
    """A random token for session ids and CSRF tokens (256 bits)."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    """Compare tokens in constant time, so a timing side channel cannot guess them byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass(slots=True)
class Session:
    """One signed-in browser; times are readings of the table's clock."""

    id: str
    principal: Principal
    lang: str
    started: float
    last_seen: float
    stamp: str = ""  # the user's stamp at sign-in
    checked: float = 0.0  # when the stamp was last confirmed
    csrf: str = field(default_factory=new_token)


class Sessions:
    """The open sessions of this gateway process; `clock` is a seam for expiry tests."""

    def __init__(
        self, idle_s: float, clock: Callable[[], float] = time.monotonic, *, max_s: float = 12 * 3600
    ) -> None:
        self.idle_s = idle_s
        self.max_s = max_s
        self.clock = clock
        self._open: dict[str, Session] = {}

    def create(self, principal: Principal, lang: str, stamp: str = "") -> Session:
        """Open a new session under a fresh id (never reusing one the browser sent: no fixation)."""
        self._prune()
        now = self.clock()
        session = Session(new_token(), principal, lang, now, now, stamp, now)
        self._open[session.id] = session
        return session

    def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        """The live session for this id, touched unless `touch` is false (a background poll is not
        activity); None when unknown, idle too long or too old."""
        if not session_id:
            return None
        session = self._open.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            del self._open[session_id]
            return None
        if touch:
            session.last_seen = now
        return session

    def drop(self, session_id: str | None) -> None:
        """End one session (sign-out, or its user changed)."""
        if session_id:
            self._open.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._open)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen > self.idle_s or now - session.started > self.max_s

    def _prune(self) -> None:
        now = self.clock()
        for stale in [s.id for s in self._open.values() if self._expired(s, now)]:
            del self._open[stale]
