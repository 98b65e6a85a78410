"""Sign-out tells the browser to clear the origin's storage (`Clear-Site-Data: "storage"`), so the next user
of a shared PC finds no draft of the last one; a request that cannot be the user's own sign-out does not."""

from __future__ import annotations

import re

from tests.workbench.conftest import Bench

CLEAR = "clear-site-data"


def test_sign_out_sends_clear_site_data_storage(bench: Bench) -> None:
    """The header's value is the quoted directive (an unquoted one is ignored by browsers)."""
    client, token = bench.sign_in()
    signed_in = client.get("/workbench")
    assert CLEAR not in signed_in.headers  # control: only sign-out clears
    assert re.search(r'<body [^>]*data-user="alice"', signed_in.text)  # whose the tab's memory is
    response = client.post("/workbench/signout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/workbench/signin"
    assert response.headers[CLEAR] == '"storage"'
    form = client.get("/workbench/signin")
    assert "data-user" not in form.text


def test_no_clearing_without_the_session_cookie_or_the_csrf_token(bench: Bench) -> None:
    """Another site's form post arrives without the cookie (SameSite=Strict) or without the token: it
    must not wipe the tab's work."""
    stranger = bench.browser().post("/workbench/signout")
    assert stranger.status_code == 303 and CLEAR not in stranger.headers
    client, _ = bench.sign_in()
    refused = client.post("/workbench/signout")
    assert refused.status_code == 403 and CLEAR not in refused.headers
