"""The server-rendered pages: sign-in, the workbench, the pilot survey, the admin and auditor pages
(`_admin.py`); and sign-out.

After sign-in each role lands on its own pages: clinicians on the workbench, admins and auditors on the
status page under /workbench/admin (admins reach the workbench from there). A correct password of a role
with no pages in the browser is told so, never "wrong password"; an auditor who opens the workbench is
told that the role does not run templates.

Pages hold no inline script or style (the CSP forbids both); behaviour lives in static/workbench.js,
which talks to the JSON API. Sign-in and sign-out are audited as `auth.login`, `auth.failed`,
`auth.throttled` (refused unchecked by the back-off of `_throttle.py`) and `auth.logout`; the audit
event never holds the username a failed attempt typed (it may be a password), nor the password: a
refusal records the `Outcome`'s fixed `reason` (and for an unreachable directory its `cause`).

Who may sign in is `medvault.directory.Authenticator`'s answer: local users first (the break-glass
admin never depends on the directory), then the hospital's directory where one is configured. A
directory that is down or slow answers within its budget with 503 and a message saying local accounts
still work; a right password without a mapped group is told "not enabled", never "wrong password".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from medvault.directory import Outcome
from medvault.gateway import Call, Gateway, endpoint
from medvault.store import Principal, get_survey_answer
from medvault.templates import TemplateLibrary
from medvault.workbench._access import CSRF_FIELD, READERS, USERS, Access, read_form
from medvault.workbench._admin import ADMIN, AdminPages
from medvault.workbench._cookies import wants_secure
from medvault.workbench._i18n import CATEGORIES, TASK_TYPES, pick_lang, texts
from medvault.workbench._messages import message
from medvault.workbench._schemas import TemplateOut
from medvault.workbench._sessions import COOKIE, Session, new_token, same_token
from medvault.workbench._throttle import Refusal, SigninThrottle, address_key

PAGES_DIR = Path(__file__).parent / "pages"
LANG_COOKIE = "mv_lang"
LOGIN_CSRF_COOKIE = "mv_login_csrf"
SIGNIN = "/workbench/signin"
HOME = "/workbench"
# Who may sign in to the browser pages at all: the workbench's users and the admin pages' readers.
SIGNIN_ROLES = USERS | READERS

# Checks a username and password (`medvault.directory.Authenticator.authenticate`): local users first,
# then the directory where one is configured.
Authenticate = Callable[[str, str], Awaitable[Outcome]]
# The HTTP status of a refused sign-in, by the form's message (default 401).
_REFUSAL_STATUS = {"signin.directory_unavailable": 503, "signin.not_enabled": 403}
# Sent with sign-out: the browser drops this origin's sessionStorage (the tab's drafts and answers) and
# localStorage (only the theme), so the next user of a shared PC finds nothing of the last one's. A
# quoted directive; browsers honour it on secure origins only (https, localhost, 127.0.0.1), so the
# page's script forgets too.
CLEAR_STORAGE = '"storage"'


def landing(principal: Principal) -> str:
    """Where a role lands after sign-in: its own pages."""
    return HOME if principal.role.value in USERS and principal.role.value not in READERS else ADMIN


class Pages:
    """Page handlers; `install` adds them to the app."""

    def __init__(
        self,
        gateway: Gateway,
        library: TemplateLibrary,
        access: Access,
        window: Callable[[str], int],
        *,
        authenticate: Authenticate,
    ) -> None:
        self._gateway = gateway
        self._library = library
        self._access = access
        self._authenticate = authenticate
        self.admin = AdminPages(gateway, self._session_or_signin, self._render, self._lang, window)
        # Read through the session table's clock: one seam moves every sign-in time in the tests.
        self._throttle = SigninThrottle(
            gateway.settings.workbench.signin_throttle, gateway.store, clock=lambda: access.sessions.clock()
        )
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(PAGES_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def install(self, app: FastAPI) -> None:
        calls = self._gateway.calls
        add = app.router.add_route
        add("/", self.index, ["GET"], include_in_schema=False)
        add(HOME, self.workbench, ["GET"], include_in_schema=False)
        add("/workbench/survey", self.survey, ["GET"], include_in_schema=False)
        add("/workbench/isolation", self.isolation, ["GET"], include_in_schema=False)
        add(SIGNIN, self.signin_form, ["GET"], include_in_schema=False)
        add(SIGNIN, endpoint(calls, "auth.login", self.signin), ["POST"], include_in_schema=False)
        add(
            "/workbench/signout",
            endpoint(calls, "auth.logout", self.signout),
            ["POST"],
            include_in_schema=False,
        )
        self.admin.install(app)

    # -- helpers -----------------------------------------------------------------------------------

    async def _lang(self, request: Request, session: Session | None) -> str:
        chosen = pick_lang(
            request.query_params.get("lang"),
            session.lang if session else None,
            request.cookies.get(LANG_COOKIE),
            self._gateway.settings.workbench.default_language,
        )
        if session is not None and chosen != session.lang:
            await asyncio.to_thread(setattr, session, "lang", chosen)  # the setter writes through
        return chosen

    def _secure(self, request: Request) -> bool:
        settings = self._gateway.settings.workbench
        return wants_secure(settings.secure_cookies, settings.trust_forwarded_proto, request)

    def _cookie(self, request: Request, response: Response, name: str, value: str, path: str = "/") -> None:
        response.set_cookie(
            name, value, path=path, httponly=True, samesite="strict", secure=self._secure(request)
        )

    def _render(
        self, request: Request, page: str, lang: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        state = self._gateway.isolation_state()
        html = self._env.get_template(page).render(
            t=texts(lang), lang=lang, other_lang="en" if lang == "de" else "de", path=request.url.path,
            isolation=state, **context,
        )  # fmt: skip
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") == lang:
            self._cookie(request, response, LANG_COOKIE, lang)
        return response

    async def _session_or_signin(self, request: Request, *, touch: bool = True) -> Session | Response:
        session = await self._access.session(request, touch=touch)
        if session is not None:
            return session
        return self._to_signin(request)

    def _to_signin(self, request: Request) -> Response:
        """Back to the sign-in form; saying the session expired if the browser still had one."""
        expired = COOKIE in request.cookies
        response = RedirectResponse(SIGNIN + ("?expired=1" if expired else ""), status_code=303)
        if expired:
            self._drop_cookie(request, response)
        return response

    def _drop_cookie(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict", secure=self._secure(request)
        )

    # -- pages -------------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return RedirectResponse(HOME, status_code=303)

    async def isolation(self, request: Request) -> Response:
        """The isolation state for the header badge's refresh, for a signed-in session only."""
        # The badge polls every 15 s: that must not keep an idle session open.
        session = await self._session_or_signin(request, touch=False)
        if isinstance(session, Response):
            return session
        return JSONResponse({"state": self._gateway.isolation_state()})

    async def _workbench_user(self, request: Request, session: Session | Response) -> Session | Response:
        """The session if its role uses the workbench, else a page saying that it does not."""
        if isinstance(session, Response) or session.principal.role.value in USERS:
            return session
        await self._lang(request, session)
        return self.admin.refusal(request, session, "role.no_workbench", status=403)

    async def workbench(self, request: Request) -> Response:
        session = await self._workbench_user(request, await self._session_or_signin(request))
        if isinstance(session, Response):
            return session
        lang = await self._lang(request, session)
        templates = [TemplateOut.of(t) for t in self._library.list(lang)]
        groups = [(kind, [t for t in templates if t.task_type == kind]) for kind in TASK_TYPES]
        return self._render(
            request, "workbench.html", lang, session=session, groups=[g for g in groups if g[1]],
            categories=CATEGORIES, run_id=request.query_params.get("run", ""),
        )  # fmt: skip

    async def survey(self, request: Request) -> Response:
        session = await self._workbench_user(request, await self._session_or_signin(request))
        if isinstance(session, Response):
            return session
        answer = await asyncio.to_thread(get_survey_answer, self._gateway.store, session.principal.user)
        lang = await self._lang(request, session)
        templates = [TemplateOut.of(t) for t in self._library.list(lang)]  # one utility question each
        return self._render(request, "survey.html", lang, session=session, answer=answer, templates=templates)

    async def signin_form(
        self, request: Request, error: str | None = None, status: int = 200, notice: str | None = None
    ) -> Response:
        """The sign-in form; a browser that is still signed in (Back after sign-in) goes to its pages."""
        if error is None and notice is None and request.method == "GET":
            session = await self._access.session(request)
            if session is not None:
                return RedirectResponse(landing(session.principal), status_code=303)
        lang = await self._lang(request, None)
        if error is None and request.query_params.get("expired"):
            error = "signin.expired"
        token = new_token()
        response = self._render(
            request, "signin.html", lang, status=status, session=None, csrf=token, error=error, notice=notice
        )
        self._cookie(request, response, LOGIN_CSRF_COOKIE, token, path=SIGNIN)
        return response

    async def signin(self, request: Request, call: Call) -> Response:
        """Check the form's CSRF token and the password; on success open a fresh session."""
        form = await read_form(request)
        if not same_token(form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)):
            call.action = "auth.failed"
            call.detail["reason"] = "csrf"
            return await self.signin_form(request, "signin.csrf", 403)
        username, password = form.get("username", ""), form.get("password", "")
        client = address_key(request.client.host if request.client else None)
        attempt = await asyncio.to_thread(self._throttle.begin, username, client)
        if isinstance(attempt, Refusal):
            return await self._throttled(request, call, attempt)
        outcome = Outcome(None, None, "credentials")
        if username and password:
            outcome = await self._authenticate(username, password)
        principal, stamp = outcome.principal, outcome.stamp
        # A right password takes its attempt back, also when the account is not enabled here; an
        # unreachable directory judged nothing, so that attempt still counts (no free guesses meanwhile).
        if principal is not None or outcome.ui_error == "signin.not_enabled":
            await asyncio.to_thread(self._throttle.succeeded, attempt)
        if principal is None or stamp is None:
            call.action = "auth.failed"
            call.detail["reason"] = outcome.reason
            if outcome.cause:
                call.detail["cause"] = outcome.cause
            error = outcome.ui_error or "signin.failed"
            return await self.signin_form(request, error, _REFUSAL_STATUS.get(error, 401))
        call.principal = principal
        if principal.role.value not in SIGNIN_ROLES:  # the password was right: say what is wrong
            call.action = "auth.failed"
            call.detail["reason"] = "role"
            lang = await self._lang(request, None)
            role = message("role.signin_refused", lang, role=principal.role.value)
            return await self.signin_form(request, status=403, notice=role)
        sessions = self._access.sessions
        await asyncio.to_thread(sessions.drop, request.cookies.get(COOKIE))
        session = await asyncio.to_thread(sessions.create, principal, await self._lang(request, None), stamp)
        response = RedirectResponse(landing(principal), status_code=303)
        self._cookie(request, response, COOKIE, session.id)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=SIGNIN)
        return response

    async def _throttled(self, request: Request, call: Call, refusal: Refusal) -> Response:
        """429 with Retry-After, the password unchecked; audited with fixed values only."""
        call.action = "auth.throttled"
        call.detail.update(scope=refusal.scope, retry_after_s=refusal.retry_after_s)
        response = await self.signin_form(request, "signin.throttled", 429)
        response.headers["retry-after"] = str(refusal.retry_after_s)
        return response

    async def signout(self, request: Request, call: Call) -> Response:
        """End the session (the CSRF token is checked, so another site cannot sign a user out).

        A session that already ended (idle, too old, user disabled) goes to the sign-in form saying so.
        Both answers tell the browser to clear this origin's storage (`CLEAR_STORAGE`).
        """
        if "authorization" not in request.headers and await self._access.session(request) is None:
            call.detail["reason"] = "no_session"
            response = self._to_signin(request)
            # Only with the (SameSite=Strict) cookie: another site's form post must not wipe the tab.
            if COOKIE in request.cookies:
                response.headers["clear-site-data"] = CLEAR_STORAGE
            return response
        call.principal = await self._access(request)
        await asyncio.to_thread(self._access.sessions.drop, request.cookies.get(COOKIE))
        response = RedirectResponse(SIGNIN, status_code=303)
        self._drop_cookie(request, response)
        response.headers["clear-site-data"] = CLEAR_STORAGE
        return response
