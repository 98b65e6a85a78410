"""Who is calling the workbench: a bearer API key, or a signed-in session with its CSRF token.

A request that carries `Authorization` is judged by the key alone (API clients have no cookies to
forge). Otherwise the session cookie decides, and every state-changing request must also echo the
session's CSRF token in the `x-csrf-token` header or a `csrf_token` form field.

A session is only as good as the user behind it: at most `recheck_s` (the key cache's `auth.cache_ttl_s`)
after the last look, the user's stamp is read again (`medvault.directory.Authenticator.still_valid`: the
local user table, or for a directory user the directory itself at most every `directory.recheck_s`), and
a disabled user, a changed password or a changed role ends the session (`medvault users disable` takes
effect within seconds).

Sessions live in the database: every read and write of one runs in a worker thread, so a PostgreSQL
round trip never holds up the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request

from medvault.errors import BadRequest, Forbidden, Unauthenticated, UnsupportedMediaType
from medvault.gateway import ADMIN_ROLES, CHAT_ROLES, read_body
from medvault.store import Principal
from medvault.workbench._sessions import COOKIE, Session, Sessions, same_token

# The gateway's role sets under the workbench's names: who may run templates and give feedback, and
# who may read other users' runs.
USERS = CHAT_ROLES
READERS = ADMIN_ROLES
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# The workbench's own forms (sign-in, sign-out) hold a few short fields: a larger body, or more fields,
# is no browser filling them in, and is refused before it is read whole (no sign-in needed to send one).
FORM_TYPE = "application/x-www-form-urlencoded"
FORM_MAX_BYTES = 16 * 1024
_FORM_MAX_FIELDS = 16

KeyAuth = Callable[[Request], Awaitable[Principal]]
# The user's current stamp, None when their sessions must end; async because it may ask the directory.
UserStamp = Callable[[str], Awaitable[str | None]]


class Access:
    """Resolve a request to a principal, raising 401/403 in the API's error shape."""

    def __init__(
        self, sessions: Sessions, key_auth: KeyAuth, user_stamp: UserStamp, recheck_s: float = 5.0
    ) -> None:
        self.sessions = sessions
        self._key_auth = key_auth
        self._user_stamp = user_stamp
        self.recheck_s = recheck_s

    async def known_session(self, request: Request, *, touch: bool = True) -> Session | None:
        """The session the cookie names, without re-checking its user: for the UI language only."""
        return await asyncio.to_thread(self.sessions.get, request.cookies.get(COOKIE), touch=touch)

    async def session(self, request: Request, *, touch: bool = True) -> Session | None:
        """The cookie's live session, or None if there is none or its user is no longer the same.

        `touch=False` for a background poll, which must not keep an idle session open."""
        session = await self.known_session(request, touch=touch)
        if session is None:
            return None
        now = self.sessions.clock()
        if now - session.checked < self.recheck_s:
            return session
        stamp = await self._user_stamp(session.principal.user)
        if stamp is None or stamp != session.stamp:
            await asyncio.to_thread(self.sessions.drop, session.id)
            return None
        await asyncio.to_thread(setattr, session, "checked", now)  # the setter writes through
        return session

    async def __call__(self, request: Request) -> Principal:
        """Who is calling; the caller checks the role (after noting who, so a refusal is audited)."""
        if "authorization" in request.headers:
            return await self._key_auth(request)
        session = await self.session(request)
        if session is None:
            code = "session_expired" if COOKIE in request.cookies else "missing_credentials"
            raise Unauthenticated(
                "sign in to the workbench, or send 'Authorization: Bearer <key>'", code=code
            )
        if request.method not in SAFE_METHODS:
            await self._check_csrf(request, session)
        return session.principal

    @staticmethod
    async def _check_csrf(request: Request, session: Session) -> None:
        token = request.headers.get(CSRF_HEADER)
        if token is None and request.headers.get("content-type", "").startswith(FORM_TYPE):
            token = (await read_form(request)).get(CSRF_FIELD)
        if not same_token(token, session.csrf):
            raise Forbidden("missing or wrong CSRF token; reload the page", code="csrf_failed")


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form of a sign-in or sign-out post: 413 past `FORM_MAX_BYTES`, 400 for more
    than a few fields or bytes that are not UTF-8 (the first value of a repeated field counts)."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        raise UnsupportedMediaType(f"send the form as {FORM_TYPE}, as the sign-in page does")
    raw = await read_body(request, FORM_MAX_BYTES)
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=_FORM_MAX_FIELDS, errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("the form is not one of the workbench's: reload the page and send it again") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
