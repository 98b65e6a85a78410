"""Through the running gateway: keys follow their owner (disabled, renamed), the sign-in form's CSRF check
has no empty match, the sign-in throttle counts every spelling of a name as one, and session callers'
token counts are rate-limited like key callers'."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from medvault.store import Role
from tests.gateway.conftest import Engine
from tests.workbench.conftest import PASSWORD, Bench, login_token, make_bench

SOURCE = "Die Lunge ist frei. Kein Pleuraerguss links."
RUN = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}


def _within(seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def cached_bench(tmp_path: Path, fake_engine: Engine) -> Iterator[Bench]:
    """A workbench whose gateway caches key lookups for 1 s."""
    with make_bench(tmp_path, fake_engine, auth={"cache_ttl_s": 1.0}) as running:
        yield running


def test_a_disabled_users_key_is_refused_within_the_cache_ttl_and_back_when_enabled(
    cached_bench: Bench,
) -> None:
    """alice disabled: her key gets 401 within the 1 s key cache (+ slack); enabled again, 200 again. A
    service key (no user row) answers throughout (control)."""
    bench = cached_bench
    alice = bench.api()
    _, service_key = bench.store.create_key("svc", Role.CLINICIAN, "reporting host")
    service = bench.api(service_key)
    assert alice.get("/v1/models").status_code == 200
    bench.store.set_disabled("alice", True)
    assert _within(1.5, lambda: alice.get("/v1/models").status_code == 401)
    refused = alice.get("/api/v1/runs")
    assert refused.status_code == 401 and "invalid or revoked API key" in refused.text
    assert service.get("/v1/models").status_code == 200
    bench.store.set_disabled("alice", False)
    assert _within(1.5, lambda: alice.get("/v1/models").status_code == 200)
    assert service.get("/api/v1/runs").status_code == 200


def _run_id(client: httpx.Client) -> str:
    response = client.post("/api/v1/runs", json=RUN)
    assert response.status_code == 200, response.text
    listed = client.get("/api/v1/runs").json()["runs"]
    return str(listed[0]["id"])


def test_after_a_rename_the_old_key_acts_as_the_renamed_user_not_a_new_namesake(bench: Bench) -> None:
    """alice → alicia, then a new alice with a run of her own: alice's old key lists and reads alicia's
    run and not the new alice's; the new alice's key sees only hers (control)."""
    old_key = bench.api()
    first = _run_id(old_key)
    bench.store.rename_user("alice", "alicia")
    bench.store.create_user("alice", PASSWORD + "x", Role.CLINICIAN, "Another Alice")
    _, new_key = bench.store.create_key("alice", Role.CLINICIAN)
    new_alice = bench.api(new_key)
    second = _run_id(new_alice)
    assert first != second
    assert [r["id"] for r in old_key.get("/api/v1/runs").json()["runs"]] == [first]
    assert old_key.get(f"/api/v1/runs/{first}").status_code == 200
    assert old_key.get(f"/api/v1/runs/{second}").status_code == 403  # another user's run
    assert [r["id"] for r in new_alice.get("/api/v1/runs").json()["runs"]] == [second]
    reads = [e["user"] for e in bench.audit() if e["action"] == "runs.list"]
    assert reads[-2:] == ["alicia", "alice"]


@pytest.mark.parametrize("fields", [{"csrf_token": ""}, {}], ids=["empty-token", "no-token"])
def test_a_cross_site_sign_in_without_the_forms_cookie_is_refused(
    bench: Bench, fields: dict[str, str]
) -> None:
    """A post from elsewhere that never loaded the form (no login cookie) with an empty or missing token:
    403 and no session, whatever the password. Control: the form's own token signs in."""
    attacker = bench.browser()
    form = {"username": "alice", "password": PASSWORD, **fields}
    refused = attacker.post("/workbench/signin", data=form, headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "mv_session" not in refused.headers.get("set-cookie", "") and "mv_session" not in attacker.cookies
    client = bench.browser()
    form = {"username": "alice", "password": PASSWORD, "csrf_token": login_token(client)}
    signed_in = client.post("/workbench/signin", data=form)
    assert signed_in.status_code == 303 and "mv_session" in client.cookies


def _from(bench: Bench, address: str) -> httpx.Client:
    client = httpx.Client(
        base_url=bench.url, transport=httpx.HTTPTransport(local_address=address), timeout=30
    )
    bench.clients.append(client)
    return client


def _attempt(client: httpx.Client, username: str) -> int:
    form = {"username": username, "password": "wrong password!", "csrf_token": login_token(client)}
    return client.post("/workbench/signin", data=form).status_code


def test_another_spelling_of_a_name_shares_its_sign_in_count(bench: Bench) -> None:
    """11 wrong passwords for clin1, one per address, fill the per-user count (10 free); "CLIN1 " and
    " Clin1" from new addresses are held (429) as clin1 is. Control: clin2 from a new address is not."""
    sessions = bench.workbench.sessions
    now = sessions.clock()
    sessions.clock = lambda: now  # the back-off reads the session table's clock
    free = bench.settings.workbench.signin_throttle.user_free_failures
    assert [_attempt(_from(bench, f"127.0.1.{n}"), "clin1") for n in range(free + 1)] == [401] * (free + 1)
    assert _attempt(_from(bench, "127.0.2.1"), "CLIN1 ") == 429
    assert _attempt(_from(bench, "127.0.2.2"), " Clin1") == 429
    assert _attempt(_from(bench, "127.0.2.3"), "clin2") == 401


LIMIT = 3


@pytest.fixture
def limited_bench(tmp_path: Path, fake_engine: Engine) -> Iterator[Bench]:
    """A workbench allowing each user 3 requests a minute."""
    with make_bench(tmp_path, fake_engine, limits={"user_requests_per_minute": LIMIT}) as running:
        yield running


def test_a_sessions_token_counts_are_rate_limited(limited_bench: Bench) -> None:
    """A session's first 3 token counts in a minute are answered (control), the 4th is 429 with
    Retry-After, like a key's."""
    if time.time() % 60 > 50:  # all in one rate window
        time.sleep(61 - time.time() % 60)
    client, csrf = limited_bench.sign_in()
    answers = [
        client.post("/api/v1/tokens", json=RUN, headers={"x-csrf-token": csrf}) for _ in range(LIMIT + 1)
    ]
    assert [a.status_code for a in answers] == [200] * LIMIT + [429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].json()["error"]["type"] == "rate_limit_error"
