"""The workbench's own forms (sign-in, sign-out) are read through a byte counter: a body past 16 KiB is
refused with 413 before it is read whole, too many fields or bytes that are not UTF-8 with 400; no
sign-in is needed to send one, so no such body may cost the gateway more than the limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from medvault.workbench._access import FORM_MAX_BYTES
from tests.workbench.conftest import PASSWORD, Bench, login_token

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _signin(bench: Bench, body: bytes | Iterator[bytes]) -> tuple[int, str]:
    client = bench.browser()
    login_token(client)  # the sign-in form's CSRF cookie, as a browser has it
    response = client.post("/workbench/signin", content=body, headers=FORM)
    return response.status_code, response.text


def test_a_normal_sign_in_form_is_read(bench: Bench) -> None:
    """Control: the form a browser sends signs in (303 to the workbench)."""
    client = bench.browser()
    token = login_token(client)
    response = client.post(
        "/workbench/signin", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/workbench")


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_sign_in_form_is_refused_with_413(bench: Bench, chunked: bool) -> None:
    """A form past the limit, declared (content-length) or chunked, gets 413, audited as a refused
    sign-in of nobody."""
    big = b"username=alice&password=" + b"a" * (FORM_MAX_BYTES + 1)
    body: bytes | Iterator[bytes] = iter([big[:1000], big[1000:]]) if chunked else big
    status, text = _signin(bench, body)
    assert status == 413 and "payload_too_large" in text, text
    logins = [(e["status"], e["user"]) for e in bench.audit() if e["action"] == "auth.login"]
    assert logins == [(413, None)]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"&".join(b"f%d=x" % i for i in range(40)), "form"),
        (b"username=\xff\xfe&password=x", "form"),
        (b"username=%ff%fe&password=x", "form"),
    ],
)
def test_a_malformed_sign_in_form_is_refused_with_400(bench: Bench, body: bytes, needle: str) -> None:
    """Too many fields, or bytes that are not UTF-8: 400 saying what to do, never a 500."""
    status, text = _signin(bench, body)
    assert status == 400 and needle in text, text


def test_an_oversized_sign_out_form_is_refused_with_413(bench: Bench) -> None:
    """The sign-out form is read the same way (its CSRF token is in it); the session survives."""
    client, token = bench.sign_in()
    body = f"csrf_token={token}&pad=".encode() + b"a" * (FORM_MAX_BYTES + 1)
    response = client.post("/workbench/signout", content=body, headers=FORM)
    assert response.status_code == 413
    assert client.get("/workbench").status_code == 200  # still signed in
    control = client.post("/workbench/signout", data={"csrf_token": token})
    assert control.status_code == 303 and control.headers["location"] == "/workbench/signin"


def test_a_sign_in_form_of_another_type_is_refused_with_415(bench: Bench) -> None:
    """A multipart (or JSON) sign-in is not the page's form: 415 saying what to send, not a misleading
    CSRF refusal (control: the same fields url-encoded sign in)."""
    client = bench.browser()
    token = login_token(client)
    fields = {"username": "alice", "password": PASSWORD, "csrf_token": token}
    multipart = client.post("/workbench/signin", files={k: (None, v) for k, v in fields.items()})
    assert multipart.status_code == 415 and "application/x-www-form-urlencoded" in multipart.text
    assert client.post("/workbench/signin", data=fields).status_code == 303
