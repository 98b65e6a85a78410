"""A shared ward PC in Debian's Chromium: the tab's memory of the workbench (sessionStorage `mv.workbench`:
drafts and the last answers) belongs to the user who typed it. The next user who signs in in the same tab,
after a sign-out, an expired session or with another session cookie, finds none of it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from medvault.store import Role
from tests.workbench.conftest import PASSWORD, Bench, sign_in

pytestmark = pytest.mark.browser

CANARY = "CANARY-7f3a Befund: Kein Pleuraerguss links. Die Lunge ist frei belüftet."
STORE = "mv.workbench"


def add_bob(bench: Bench) -> None:
    """A second clinician on the same PC."""
    bench.store.create_user("bob", PASSWORD, Role.CLINICIAN, "Bob")


def stored(page: Any) -> str:
    """Everything in the tab's sessionStorage and the origin's localStorage, as one string."""
    return str(
        page.evaluate("() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])")
    )


def field_values(page: Any) -> list[str]:
    """The values of every input, textarea and select on the page."""
    script = "() => [...document.querySelectorAll('input, textarea, select')].map(e => e.value)"
    return list(page.evaluate(script))


def dictate(page: Any, text: str) -> None:
    """Choose the correction template, type `text`, run it, and wait until the draft is saved."""
    page.get_by_label("Befundkorrektur").check()
    page.get_by_label("Befundtext").fill(text)
    page.get_by_role("button", name="Ausführen").click()
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    page.wait_for_timeout(600)  # the draft is saved 300 ms after the last keystroke


def assert_nothing_of_alice(page: Any) -> None:
    """Bob's workbench shows no trace of alice's dictation: no field, no answer, no stored copy."""
    expect(page.locator("body")).to_contain_text("Angemeldet als bob")
    expect(page.get_by_label("Befundkorrektur")).not_to_be_checked()
    page.get_by_label("Befundkorrektur").check()  # the template she used: its field must be empty
    expect(page.get_by_label("Befundtext")).to_have_value("")
    page.wait_for_timeout(600)  # a pending restore or load of her last run would have landed by now
    assert not any("CANARY" in value for value in field_values(page))
    assert "CANARY" not in (page.locator("body").text_content() or "")
    assert "CANARY" not in stored(page)
    assert "alice" not in stored(page)


@pytest.mark.timeout(120)
def test_after_sign_out_the_next_user_in_the_same_tab_finds_nothing(page: Any, bench: Bench) -> None:
    """Alice dictates and runs a template, signs out; bob signs in in the same tab and finds nothing of
    hers. The sign-out's Clear-Site-Data is honoured by Chromium: a key the script never touches is gone
    too, and so is the theme (accepted: a shared PC's next user starts with the system's theme)."""
    add_bob(bench)
    sign_in(page, bench.url)
    dictate(page, CANARY)
    page.get_by_role("button", name=re.compile("Dunkel|Hell")).click()  # the theme, in localStorage
    page.evaluate("() => sessionStorage.setItem('mv.probe', 'x')")
    # Positive control: before sign-out the feature works, a reload brings her draft and answer back.
    page.reload()
    expect(page.get_by_label("Befundkorrektur")).to_be_checked()
    expect(page.get_by_label("Befundtext")).to_have_value(CANARY)
    expect(page.locator("#run-status")).to_contain_text("wiederhergestellt")
    kept = stored(page)
    assert "CANARY" in kept and "mv.probe" in kept and "mv.theme" in kept
    assert json.loads(page.evaluate(f"() => sessionStorage.getItem('{STORE}')"))["owner"] == "alice"

    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(bench.url + "/workbench/signin")
    left = stored(page)
    assert "CANARY" not in left
    # Neither key is the script's to remove: the header did it.
    assert "mv.probe" not in left and "mv.theme" not in left
    page.go_back()  # Back does not bring her page out of a cache either
    page.wait_for_url(re.compile(r"/workbench/signin$"))
    assert "CANARY" not in (page.locator("body").text_content() or "")

    sign_in(page, bench.url, "bob")
    assert_nothing_of_alice(page)


@pytest.mark.timeout(120)
def test_an_expired_session_keeps_the_draft_for_its_owner_only(page: Any, bench: Bench) -> None:
    """Alice's session ends while she dictates: the page keeps the draft (for her) and goes to the
    sign-in form. Bob signs in there instead: the draft is discarded before anything is restored."""
    add_bob(bench)
    sign_in(page, bench.url)
    dictate(page, CANARY)
    cookie = next(c for c in page.context.cookies() if c["name"] == "mv_session")
    bench.workbench.sessions.drop(cookie["value"])
    page.get_by_label("Befundtext").fill(CANARY + " Nachtrag.")
    page.get_by_role("button", name="Ausführen").click()
    page.wait_for_url(re.compile(r"/workbench/signin\?expired=1$"))
    # Control: the draft was kept in the tab (its owner would get it back, see test_browser_workbench).
    assert "Nachtrag" in stored(page)

    page.get_by_label("Benutzername").fill("bob")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(bench.url + "/workbench")
    assert_nothing_of_alice(page)


@pytest.mark.timeout(120)
def test_another_users_session_cookie_in_the_tab_discards_the_draft(page: Any, bench: Bench) -> None:
    """No sign-out and no sign-in form at all: the tab's cookie is replaced by bob's session. The page,
    now bob's, drops alice's memory before it restores anything."""
    add_bob(bench)
    sign_in(page, bench.url)
    dictate(page, CANARY)
    page.reload()  # control: still alice, still her draft
    expect(page.get_by_label("Befundtext")).to_have_value(CANARY)

    client, _ = bench.sign_in("bob")
    page.context.add_cookies(
        [{"name": "mv_session", "value": client.cookies["mv_session"], "url": bench.url}]
    )
    page.reload()
    assert_nothing_of_alice(page)


@pytest.mark.timeout(120)
def test_the_page_forgets_at_sign_out_where_the_browser_ignores_the_header(page: Any, bench: Bench) -> None:
    """Browsers ignore Clear-Site-Data on plain-http hosts other than localhost: with the header taken
    out of the sign-out's answer, the page's own sign-out still drops the draft (and only its key: the
    control that the header really was taken out)."""
    add_bob(bench)

    def without_header(route: Any) -> None:
        answer = route.fetch(max_redirects=0)
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "clear-site-data"}
        assert len(headers) < len(answer.headers)  # the server did send it
        route.fulfill(response=answer, headers=headers)

    page.route(bench.url + "/workbench/signout", without_header)
    sign_in(page, bench.url)
    page.evaluate("() => sessionStorage.setItem('mv.probe', 'x')")
    dictate(page, CANARY)
    assert "CANARY" in stored(page)
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(bench.url + "/workbench/signin")
    left = stored(page)
    assert "mv.probe" in left and "CANARY" not in left
    sign_in(page, bench.url, "bob")
    assert_nothing_of_alice(page)
