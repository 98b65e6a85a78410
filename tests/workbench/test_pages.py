"""Sign-in (and its back-off), sessions, CSRF and security headers of the workbench pages, over a real
gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from medvault.isolation._state import write_state  # the file the monitor writes
from medvault.store import Role
from medvault.workbench._headers import CSP
from tests.gateway.conftest import Engine, free_port, make_settings
from tests.workbench.conftest import PASSWORD, Bench, login_token, make_bench


def test_every_workbench_response_has_the_security_headers(bench: Bench) -> None:
    """Pages, static files, API answers and errors carry the CSP and its companions."""
    client = bench.browser()
    responses = [
        client.get("/workbench/signin"),
        client.get("/workbench/static/workbench.js"),
        client.get("/api/v1/templates"),
        client.get("/workbench"),
        client.get("/"),
    ]
    for response in responses:
        assert response.headers["content-security-policy"] == CSP, response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP


def test_pages_hold_no_inline_script_or_style(bench: Bench) -> None:
    """The pages only load the same-origin script, so the strict CSP costs no behaviour."""
    client, _ = bench.sign_in()
    pages = [client.get("/workbench").text, client.get("/workbench/survey").text]
    for html in pages:
        assert "style=" not in html and "onclick" not in html
        scripts = html.count("<script")
        assert scripts == html.count('<script src="/workbench/static/workbench.js"') + html.count(
            'type="application/json"'
        )


def test_signed_out_pages_redirect_to_sign_in(bench: Bench) -> None:
    """The workbench and survey pages send a signed-out browser to the sign-in form."""
    client = bench.browser()
    for path in ("/workbench", "/workbench/survey"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/workbench/signin"


def test_sign_in_sets_a_strict_session_cookie_and_shows_templates(bench: Bench) -> None:
    """A right password opens a session (HttpOnly, SameSite=Strict) and shows grouped templates."""
    client = bench.browser()
    response = client.post(
        "/workbench/signin",
        data={"username": "alice", "password": PASSWORD, "csrf_token": login_token(client)},
    )
    assert response.status_code == 303 and response.headers["location"] == "/workbench"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("mv_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = client.get("/workbench").text
    assert "Textgebunden" in page and 'id="tpl-report-correction"' in page
    # The semi-open and open templates are device-class, not enabled by default: not listed at all.
    assert "Offen – hohes Risiko" not in page and 'id="tpl-differential-diagnosis"' not in page
    assert "Isolation: <strong" in page and 'data-state="off"' in page
    event = next(e for e in bench.audit() if e["action"] == "auth.login")
    assert event["user"] == "alice" and event["status"] == 303


def test_wrong_password_is_refused_and_audited_without_the_name(bench: Bench) -> None:
    """A failed sign-in shows the form again (401) and audits `auth.failed` without what was typed."""
    client = bench.browser()
    response = client.post(
        "/workbench/signin",
        data={"username": "alice", "password": "hunter2-wrong", "csrf_token": login_token(client)},
    )
    assert response.status_code == 401
    assert "falsch" in response.text
    assert "mv_session" not in client.cookies
    [event] = [e for e in bench.audit() if e["action"] == "auth.failed"]
    assert event["user"] is None and event["detail"] == {"reason": "credentials"}


def test_sign_in_needs_the_form_token(bench: Bench) -> None:
    """A sign-in post without the form's CSRF token (login CSRF) is refused."""
    client = bench.browser()
    client.get("/workbench/signin")
    response = client.post("/workbench/signin", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert [e["detail"] for e in bench.audit() if e["action"] == "auth.failed"] == [{"reason": "csrf"}]


def test_auditors_land_on_their_pages_and_are_told_the_workbench_is_not_theirs(bench: Bench) -> None:
    """An auditor's correct password signs in (never "wrong password") and lands on /workbench/admin;
    the workbench and the survey answer 403 with a page saying the role does not run templates."""
    bench.store.create_user("audrey", PASSWORD, Role.AUDITOR)
    client = bench.browser()
    response = client.post(
        "/workbench/signin",
        data={"username": "audrey", "password": PASSWORD, "csrf_token": login_token(client)},
    )
    assert response.status_code == 303 and response.headers["location"] == "/workbench/admin"
    for path in ("/workbench", "/workbench/survey"):
        refused = client.get(path + "?lang=en")
        assert refused.status_code == 403
        assert "Your role (auditor) may not run templates" in refused.text
        assert 'id="signin-error"' not in refused.text
    assert [e for e in bench.audit() if e["action"] == "auth.failed"] == []


def test_state_changing_calls_need_the_session_csrf_token(bench: Bench) -> None:
    """With a session cookie, a POST without or with a wrong CSRF token is 403; the right one works."""
    client, token = bench.sign_in()
    body = {"stability": 7, "ease_of_use": 8}
    missing = client.post("/api/v1/survey", json=body)
    wrong = client.post("/api/v1/survey", json=body, headers={"x-csrf-token": token[:-2] + "xx"})
    right = client.post("/api/v1/survey", json=body, headers={"x-csrf-token": token})
    read = client.get("/api/v1/templates")  # reads need no token
    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["error"]["code"] == "csrf_failed"
    assert right.status_code == 201 and read.status_code == 200


def test_idle_session_expires(bench: Bench) -> None:
    """After the idle timeout the API answers 401 `session_expired` and pages go to the sign-in."""
    client, _ = bench.sign_in()
    sessions = bench.workbench.sessions
    later = sessions.clock() + bench.settings.workbench.session_idle_minutes * 60 + 1
    sessions.clock = lambda: later
    api = client.get("/api/v1/templates")
    page = client.get("/workbench")
    assert api.status_code == 401 and api.json()["error"]["code"] == "session_expired"
    assert page.headers["location"] == "/workbench/signin?expired=1"


def test_sign_out_ends_the_session(bench: Bench) -> None:
    """Signing out (with the CSRF token) drops the session server-side and is audited."""
    client, token = bench.sign_in()
    stolen = client.cookies["mv_session"]
    refused = client.post("/workbench/signout")
    assert refused.status_code == 403
    response = client.post("/workbench/signout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/workbench/signin"
    other = bench.browser()
    other.cookies.set("mv_session", stolen)
    assert other.get("/api/v1/templates").status_code == 401
    assert [e["status"] for e in bench.audit() if e["action"] == "auth.logout"] == [403, 303]


def test_language_switch(bench: Bench) -> None:
    """`?lang=en` switches the UI and the template list to English and sticks for the session."""
    client, _ = bench.sign_in()
    english = client.get("/workbench", params={"lang": "en"}).text
    again = client.get("/workbench").text
    templates = client.get("/api/v1/templates").json()
    assert 'lang="en"' in english and "Choose a template" in english and "Report correction" in english
    assert "Choose a template" in again
    assert {t["lang"] for t in templates} == {"en"}


def test_secure_cookies_when_configured(tmp_path: Path, fake_engine: Engine) -> None:
    """With workbench.secure_cookies, the sign-in and session cookies are marked Secure."""
    with make_bench(tmp_path, fake_engine, workbench={"secure_cookies": True}) as bench:
        client = bench.browser()
        form = client.get("/workbench/signin")
        login_cookie = form.headers["set-cookie"]
        assert "Secure" in login_cookie
        # A browser sends Secure cookies over HTTPS only; this test speaks plain HTTP, so it sends it itself.
        token = login_cookie.split(";")[0].split("=", 1)[1]
        response = client.post(
            "/workbench/signin",
            data={"username": "alice", "password": PASSWORD, "csrf_token": token},
            headers={"cookie": f"mv_login_csrf={token}"},
        )
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("mv_session="))
    assert "Secure" in cookie


def test_isolation_state_and_default_language(tmp_path: Path, fake_engine: Engine) -> None:
    """The header's isolation state is served for the badge; the UI starts in the configured language."""
    with make_bench(tmp_path, fake_engine, workbench={"default_language": "en"}) as bench:
        signed_in, _ = bench.sign_in()
        assert signed_in.get("/workbench/isolation").json() == {"state": "off"}
        form = bench.browser().get("/workbench/signin").text
    assert 'lang="en"' in form and "Sign in" in form and "off (development mode)" in form


def test_disabling_a_user_ends_their_live_session(bench: Bench) -> None:
    """`medvault users disable` takes effect on an open session: the API says 401, pages go to sign-in."""
    client, _ = bench.sign_in()
    assert client.get("/api/v1/templates").status_code == 200
    bench.store.set_disabled("alice", True)
    api = client.get("/api/v1/templates")
    assert api.status_code == 401 and api.json()["error"]["code"] == "session_expired"
    assert client.get("/workbench").headers["location"] == "/workbench/signin?expired=1"
    assert len(bench.workbench.sessions) == 0


def test_changing_the_password_ends_live_sessions(bench: Bench) -> None:
    """A new password ends sessions opened with the old one; signing in with the new one works."""
    client, _ = bench.sign_in()
    bench.store.set_password("alice", "another good password")
    assert client.get("/api/v1/templates").status_code == 401
    again, _ = bench.sign_in(password="another good password")
    assert again.get("/api/v1/templates").status_code == 200


def test_a_session_ends_at_its_absolute_lifetime(tmp_path: Path, fake_engine: Engine) -> None:
    """A session used every 25 minutes still ends `session_max_hours` after sign-in."""
    with make_bench(tmp_path, fake_engine, workbench={"session_max_hours": 1}) as bench:
        client, _ = bench.sign_in()
        sessions = bench.workbench.sessions
        start = sessions.clock()
        for step in (1, 2):
            now = start + step * 25 * 60
            sessions.clock = lambda now=now: now  # type: ignore[misc]  # (bound per step, on purpose)
            assert client.get("/api/v1/templates").status_code == 200
        sessions.clock = lambda: start + 61 * 60
        assert client.get("/workbench").headers["location"] == "/workbench/signin?expired=1"


def test_sign_out_after_the_session_expired_goes_to_sign_in(bench: Bench) -> None:
    """Signing out of a session that already idled out lands on the sign-in form saying so, not a 401,
    and still clears the tab's storage (the browser sent its SameSite=Strict cookie)."""
    client, token = bench.sign_in()
    sessions = bench.workbench.sessions
    later = sessions.clock() + bench.settings.workbench.session_idle_minutes * 60 + 1
    sessions.clock = lambda: later
    response = client.post("/workbench/signout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/workbench/signin?expired=1"
    assert response.headers["clear-site-data"] == '"storage"'
    form = client.get(response.headers["location"])
    assert form.status_code == 200 and "Ihre Sitzung ist abgelaufen" in form.text
    assert [e["detail"] for e in bench.audit() if e["action"] == "auth.logout"] == [{"reason": "no_session"}]


@pytest.mark.parametrize(
    ("written", "shown", "css", "label"),
    [
        ("ok", "ok", "isolation-ok", "aktiv"),
        ("breached", "breached", "isolation-breached", "VERLETZT"),
        ("degraded", "unknown", "isolation-unknown", "UNBEKANNT"),
        ("", "unknown", "isolation-unknown", "UNBEKANNT"),
    ],
)  # fmt: skip
def test_header_shows_the_isolation_state_and_fails_closed(
    bench: Bench, written: str, shown: str, css: str, label: str
) -> None:
    """ok and breached render as such; a state the page does not know renders as "unknown", red."""
    bench.gateway.isolation = "on"  # as if the supervisor had placed the gateway in its zone
    write_state(bench.settings.data_dir, state=written)
    client = bench.browser()
    page = client.get("/workbench/signin")
    assert page.status_code == 200
    assert f'class="isolation {css}"' in page.text and f'data-state="{shown}"' in page.text
    assert label in page.text
    signed_in, _ = bench.sign_in()
    assert signed_in.get("/workbench/isolation").json() == {"state": shown}
    css_text = client.get("/workbench/static/workbench.css").text
    assert ".isolation-breached, .isolation-unknown" in css_text


def test_secure_cookies_auto_follows_the_scheme(bench: Bench) -> None:
    """By default (auto) cookies are not Secure over plain http, and a client's `x-forwarded-proto` does
    not change that (no proxy is trusted; `trust_forwarded_proto` is the operator's opt-in)."""
    assert bench.settings.workbench.secure_cookies == "auto"
    plain = bench.browser().get("/workbench/signin").headers["set-cookie"]
    proxied = bench.browser().get("/workbench/signin", headers={"x-forwarded-proto": "https"})
    assert "Secure" not in plain and "Secure" not in proxied.headers["set-cookie"]


# A serve() that starts a real server instead of the patched `uvicorn.run` would block: fail instead.
@pytest.mark.timeout(60)
def test_serve_trusts_no_proxy_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`medvault serve` runs uvicorn with proxy headers off, whatever FORWARDED_ALLOW_IPS says."""
    import uvicorn

    from medvault.backends import resolve_runtime
    from medvault.cli import server
    from medvault.cli.server import serve

    monkeypatch.setattr(server, "configure_logging", lambda *args, **kwargs: None)

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    settings = make_settings(tmp_path, ["http://127.0.0.1:9/v1"])
    runtime = tmp_path / "runtime.json"
    resolve_runtime(settings, {}).write(runtime)
    config = tmp_path / "medvault.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.update(options))
    serve(runtime=runtime, host="127.0.0.1", port=free_port(), config=config, tls_cert=None, tls_key=None)
    assert ran["proxy_headers"] is False


def test_forwarded_for_does_not_change_the_address_the_throttle_sees(bench: Bench) -> None:
    """A spray of wrong user names, each with a new `X-Forwarded-For`, is held by the one real address;
    another real address is not held (positive control)."""
    sessions = bench.workbench.sessions
    now = sessions.clock()
    sessions.clock = lambda: now
    attacker = bench.browser()

    def attempt(client: httpx.Client, user: str, forwarded: str) -> int:
        data = {"username": user, "password": "wrong password!", "csrf_token": login_token(client)}
        return client.post("/workbench/signin", data=data, headers={"x-forwarded-for": forwarded}).status_code

    codes = [attempt(attacker, f"nobody{n}", f"203.0.113.{n}") for n in range(12)]
    assert codes[:11] == [401] * 11 and codes[11] == 429
    other = httpx.Client(
        base_url=bench.url, transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30
    )
    bench.clients.append(other)
    assert attempt(other, "nobody99", "203.0.113.1") == 401


def test_survey_page_shows_the_saved_answer_locked(bench: Bench) -> None:
    """After answering, the survey page shows the answer in a disabled form that says it is saved."""
    client, token = bench.sign_in()
    blank = client.get("/workbench/survey").text
    assert 'id="survey-fields" class="plain">' in blank
    saved = client.post(
        "/api/v1/survey", json={"stability": 6, "ease_of_use": 7}, headers={"x-csrf-token": token}
    )
    assert saved.status_code == 201
    page = client.get("/workbench/survey").text
    assert 'id="survey-fields" class="plain" disabled>' in page and 'value="6"' in page
    assert "Ihre Antwort ist gespeichert" in page


def test_isolation_state_needs_a_session_and_does_not_keep_it_alive(bench: Bench) -> None:
    """Signed out, the badge's endpoint redirects to the sign-in form by a relative URL (saying so when a
    session expired); signed in it answers, and its polls do not count as activity."""
    assert (
        bench.browser().get("/workbench/isolation", headers={"host": "evil.example"}).headers["location"]
        == "/workbench/signin"
    )
    client, _ = bench.sign_in()
    assert client.get("/workbench/isolation").json() == {"state": "off"}
    sessions = bench.workbench.sessions
    signed_in = sessions.clock()
    idle_s = bench.settings.workbench.session_idle_minutes * 60
    sessions.clock = lambda: signed_in + idle_s - 10
    assert client.get("/workbench/isolation").status_code == 200  # still within the idle time
    sessions.clock = lambda: signed_in + idle_s + 5
    response = client.get("/workbench/isolation")
    assert response.status_code == 303 and response.headers["location"] == "/workbench/signin?expired=1"


def _post_signin(client: httpx.Client, password: str) -> httpx.Response:
    data = {"username": "alice", "password": password, "csrf_token": login_token(client)}
    return client.post("/workbench/signin", data=data)


def test_sixty_wrong_passwords_get_429_and_the_right_one_waits_too(bench: Bench) -> None:
    """60 wrong passwords in a row end in 429s with Retry-After, audited as `auth.throttled` without
    the typed name; the right password is refused during the back-off (no oracle) and works after it,
    and another address signs in meanwhile."""
    sessions = bench.workbench.sessions
    now = sessions.clock()
    sessions.clock = lambda: now  # the sign-in back-off reads the session table's clock
    attacker = bench.browser()
    answers = [_post_signin(attacker, "wrong password!") for _ in range(60)]
    assert [r.status_code for r in answers[:4]] == [401] * 4
    assert {r.status_code for r in answers[4:]} == {429}
    assert all(int(r.headers["retry-after"]) >= 1 for r in answers[4:])
    assert "Zu viele fehlgeschlagene Anmeldungen" in answers[-1].text
    held = _post_signin(attacker, PASSWORD)
    assert held.status_code == 429 and "mv_session" not in attacker.cookies
    clean = httpx.Client(
        base_url=bench.url, transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30
    )
    bench.clients.append(clean)
    assert _post_signin(clean, PASSWORD).status_code == 303
    sessions.clock = lambda: now + int(held.headers["retry-after"])
    assert _post_signin(attacker, PASSWORD).status_code == 303
    throttled = [e for e in bench.audit() if e["action"] == "auth.throttled"]
    assert len(throttled) == 57 and {e["status"] for e in throttled} == {429}
    assert all(e["user"] is None and e["detail"] == {"scope": "pair", "retry_after_s": 1} for e in throttled)
    assert [e["status"] for e in bench.audit() if e["action"] == "auth.failed"] == [401] * 4
    assert "wrong password" not in str(bench.audit()) and PASSWORD not in str(bench.audit())
