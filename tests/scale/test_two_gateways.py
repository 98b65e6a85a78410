"""Two gateway processes on one real PostgreSQL: sessions, rate limits, sign-in throttling, the audit
chain and the metrics are shared; killing one mid-load loses no audit event of an answered request."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medvault.store import Role, Store
from tests.gateway.conftest import Engine
from tests.gateway.test_chat import CHAT, ask
from tests.scale.conftest import GatewayProcess, gateways, worker_of
from tests.workbench.conftest import PASSWORD, login_token

pytestmark = [pytest.mark.postgres]

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture
def pair(tmp_path: Path, pg_url: str, engine: Engine) -> Iterator[tuple[list[GatewayProcess], Store]]:
    """Two gateways on one PostgreSQL database, without rate limits."""
    with gateways(tmp_path, pg_url, engine.url) as running:
        yield running


def _sign_in(url: str, user: str, password: str) -> httpx.Response:
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    data = {"username": user, "password": password, "csrf_token": login_token(client)}
    response = client.post("/workbench/signin", data=data)
    response.extensions["client"] = client
    return response


def test_the_two_processes_are_two_workers(pair: tuple[list[GatewayProcess], Store]) -> None:
    """Positive control for everything below: the two URLs really reach two processes."""
    (first, second), _ = pair
    assert (worker_of(first.url), worker_of(second.url)) == (1, 2)
    assert first.process.pid != second.process.pid


def test_a_session_made_on_one_is_valid_on_the_other(pair: tuple[list[GatewayProcess], Store]) -> None:
    """Sign in on the first process; the cookie opens the workbench on the second, its CSRF token is
    accepted there, and a sign-out on the second ends it on the first."""
    (first, second), store = pair
    store.create_user("alice", PASSWORD, Role.CLINICIAN)
    signed_in = _sign_in(first.url, "alice", PASSWORD)
    assert signed_in.status_code == 303, signed_in.text
    cookies = signed_in.extensions["client"].cookies
    with httpx.Client(base_url=second.url, cookies=cookies, timeout=30, follow_redirects=False) as other:
        page = other.get("/workbench")
        assert page.status_code == 200 and "alice" in page.text
        token = _CSRF_META.search(page.text)
        assert token is not None
        out = other.post("/workbench/signout", data={"csrf_token": token.group(1)})
        assert out.status_code == 303
    with httpx.Client(base_url=first.url, cookies=cookies, timeout=30, follow_redirects=False) as back:
        assert back.get("/workbench").status_code == 303  # to the sign-in form: the session is gone


def test_sign_in_throttling_counts_across_both(pair: tuple[list[GatewayProcess], Store]) -> None:
    """Wrong passwords sent alternately to both processes share one count: after the free failures
    (3, then one more let through) the next attempt is refused on either, the right password included.
    Counted per process, neither would have seen more than three."""
    (first, second), store = pair
    store.create_user("bob", PASSWORD, Role.CLINICIAN)
    urls = [first.url, second.url]
    statuses = [_sign_in(urls[n % 2], "bob", "wrong password " + str(n)).status_code for n in range(4)]
    assert statuses == [401, 401, 401, 401]  # the form again, saying the password was wrong
    refused = _sign_in(second.url, "bob", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    refused = _sign_in(first.url, "bob", PASSWORD)
    assert refused.status_code == 429


def test_concurrent_writes_from_both_leave_one_intact_chain(
    pair: tuple[list[GatewayProcess], Store],
) -> None:
    """200 requests at both processes at once: every one audited, one chain, and it verifies."""
    (first, second), store = pair
    _, key = store.create_key("carol", Role.CLINICIAN)
    ids = [secrets.token_hex(16) for _ in range(200)]

    async def burst() -> list[int]:
        headers = {"authorization": f"Bearer {key}"}
        async with (
            httpx.AsyncClient(base_url=first.url, headers=headers, timeout=30) as a,
            httpx.AsyncClient(base_url=second.url, headers=headers, timeout=30) as b,
        ):
            answers = await asyncio.gather(
                *((a if n % 2 else b).post(CHAT, json=ask("Befund"), headers={"x-request-id": rid})
                  for n, rid in enumerate(ids))
            )  # fmt: skip
        return [r.status_code for r in answers]

    assert asyncio.run(burst()) == [200] * len(ids)
    events = store.audit_events(limit=10_000)
    assert {e.event.request_id for e in events} >= set(ids)
    report = store.verify_audit_chain()
    assert report.ok, report.problems
    assert report.checked == len(events) >= len(ids)


def test_metrics_of_both_processes_are_summed(pair: tuple[list[GatewayProcess], Store]) -> None:
    """/metrics on either process counts the requests both served (Prometheus multi-process mode)."""
    (first, second), store = pair
    _, admin = store.create_key("root", Role.ADMIN)
    headers = {"authorization": f"Bearer {admin}"}
    for url, times in ((first.url, 3), (second.url, 4)):
        for _ in range(times):
            assert httpx.get(url + "/v1/models", headers=headers).status_code == 200
    for url in (first.url, second.url):
        text = httpx.get(url + "/metrics", headers=headers).text
        found = re.search(r'medvault_requests_total\{model="",route="models.list",status="200"\} (\S+)', text)
        assert found is not None, text
        assert float(found.group(1)) == 7.0


def test_a_limit_of_n_per_minute_lets_exactly_n_through_across_both(
    tmp_path: Path, pg_url: str, engine: Engine
) -> None:
    """With 10 requests a minute per key, 40 requests sent to both processes at once get exactly 10
    answers; the rest are 429 in OpenAI shape with Retry-After."""
    with gateways(tmp_path, pg_url, engine.url, extra="[limits]\nrate_limit_per_minute = 10\n") as (
        (first, second),
        store,
    ):
        _, key = store.create_key("dave", Role.CLINICIAN)
        if time.time() % 60 > 50:  # one minute's window for the whole burst
            time.sleep(61 - time.time() % 60)

        async def burst() -> list[httpx.Response]:
            headers = {"authorization": f"Bearer {key}"}
            async with (
                httpx.AsyncClient(base_url=first.url, headers=headers, timeout=30) as a,
                httpx.AsyncClient(base_url=second.url, headers=headers, timeout=30) as b,
            ):
                return await asyncio.gather(*((a if n % 2 else b).get("/v1/models") for n in range(40)))

        answers = asyncio.run(burst())
    statuses = [r.status_code for r in answers]
    assert statuses.count(200) == 10 and statuses.count(429) == 30
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_sigkill_of_one_mid_load_loses_no_answered_event_and_the_other_serves(
    tmp_path: Path, pg_url: str, engine: Engine
) -> None:
    """Load on both processes; the first is SIGKILLed in the middle. Every request that got an answer
    (from either) is in the audit trail, the chain verifies, and the second answers every request,
    before and after the kill."""
    with gateways(tmp_path, pg_url, engine.url) as ((first, second), store):
        _, key = store.create_key("erin", Role.CLINICIAN)
        answered: list[str] = []
        second_statuses: list[int] = []
        killed = asyncio.Event()

        async def client(url: str, is_second: bool) -> None:
            headers = {"authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
                for _ in range(60):
                    rid = secrets.token_hex(16)
                    try:
                        r = await c.post(
                            CHAT, json=ask("Befund __late:0.01__"), headers={"x-request-id": rid}
                        )
                    except httpx.TransportError:
                        assert not is_second, "the second process must keep serving"
                        await asyncio.sleep(0.01)
                        continue
                    if r.status_code == 200:
                        answered.append(r.headers["x-request-id"])
                    if is_second:
                        second_statuses.append(r.status_code)

        async def killer() -> None:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(first.kill)
            killed.set()

        async def load() -> None:
            await asyncio.gather(
                *(client(first.url, False) for _ in range(4)),
                *(client(second.url, True) for _ in range(4)),
                killer(),
            )

        asyncio.run(load())
        assert first.process.returncode == -9
        assert second_statuses == [200] * 240
        recorded = {e.event.request_id for e in store.audit_events(limit=100_000)}
        missing = [rid for rid in answered if rid not in recorded]
        assert not missing, f"{len(missing)} answered requests have no audit event"
        assert len(answered) > 240  # the first answered some before it died
        report = store.verify_audit_chain()
        assert report.ok, report.problems
