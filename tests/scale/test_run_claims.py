"""Idempotent workbench run starts across gateway processes: two complete apps (gateway + workbench,
each with its own store connection and runner, as two processes or hosts have) over one database, on
SQLite and on PostgreSQL. The same Idempotency-Key sent to both starts one run."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from medvault.app import create_app
from medvault.backends import resolve_runtime
from medvault.store import Role, Store, claim_run, finish_claim, release_claim
from medvault.store._claims import CLAIM_KEEP_S, CLAIM_STALE_S
from tests.gateway.conftest import Engine, make_settings, serve_app
from tests.scale.conftest import gateways
from tests.workbench.conftest import PASSWORD, sse_events

SOURCE = "Kein Pleuraerguss rechts. Herz normal groß."


@pytest.fixture
def pair(tmp_path: Path, db_url: str, engine: Engine) -> Iterator[tuple[list[str], Store, str]]:
    """Two apps over the database at `db_url`, each with its own data directory (as two hosts), the
    store, and an API key of clinician alice."""
    store = Store.open(db_url)
    store.migrate()
    store.create_user("alice", PASSWORD, Role.CLINICIAN)
    _, key = store.create_key("alice", Role.CLINICIAN)
    with contextlib.ExitStack() as stack:
        urls = []
        for name in ("one", "two"):
            settings = make_settings(tmp_path / name, [engine.url], database_url=db_url)
            own = Store.open(db_url)
            stack.callback(own.close)
            urls.append(
                stack.enter_context(serve_app(create_app(settings, resolve_runtime(settings, {}), own)))
            )
        yield urls, store, key
    store.close()


def _run(url: str, api_key: str, idem: str, report: str = SOURCE) -> httpx.Response:
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": report}}
    headers = {"authorization": f"Bearer {api_key}", "idempotency-key": idem}
    return httpx.post(url + "/api/v1/runs", json=body, headers=headers, timeout=60)


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_the_same_key_on_both_processes_starts_one_run(pair: tuple[list[str], Store, str]) -> None:
    """Sent to both at the same moment (the first answer comes after a second, so both overlap): one
    streams the run, the other is refused `run_in_progress`; afterwards either names the stored run."""
    (one, two), store, key = pair
    idem = str(uuid.uuid4())
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda url: _run(url, key, idem, "__late:1__ " + SOURCE), (one, two)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.text for a in answers]
    streamed = next(a for a in answers if a.status_code == 200)
    refused = next(a for a in answers if a.status_code == 409)
    assert sse_events(streamed)[-1][0] == "done" and _error(refused)["code"] == "run_in_progress"
    [run] = store.list_runs()
    for url in (one, two):
        again = _run(url, key, idem)
        assert again.status_code == 409 and _error(again)["code"] == "run_exists"
        assert run.id in _error(again)["message"]
    assert len(store.list_runs()) == 1
    assert _run(two, key, str(uuid.uuid4())).status_code == 200  # positive control: a new key runs
    assert len(store.list_runs()) == 2


def test_two_gateway_processes_start_one_run_for_one_key(tmp_path: Path, db_url: str, engine: Engine) -> None:
    """The same, with two real `medvault serve` processes (as the supervisor starts workers)."""
    with gateways(tmp_path, db_url, engine.url) as (running, store):
        store.create_user("alice", PASSWORD, Role.CLINICIAN)
        _, key = store.create_key("alice", Role.CLINICIAN)
        idem = str(uuid.uuid4())
        urls = [gateway.url for gateway in running]
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda url: _run(url, key, idem, "__late:1__ " + SOURCE), urls))
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        [run] = store.list_runs()
        again = _run(urls[1], key, idem)
        assert again.status_code == 409 and run.id in _error(again)["message"]


def test_a_retry_on_the_other_process_while_the_first_streams_is_in_progress(
    pair: tuple[list[str], Store, str],
) -> None:
    """The browser's retry reaches the second process while the first still waits for the engine."""
    (one, two), store, key = pair
    idem = str(uuid.uuid4())
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_run, one, key, idem, "__late:2__ " + SOURCE)
        time.sleep(1)  # the first has claimed the key and waits for the engine's first word (2 s)
        retry = _run(two, key, idem)
        assert first.result().status_code == 200
    assert retry.status_code == 409 and _error(retry)["code"] == "run_in_progress"
    assert len(store.list_runs()) == 1


def test_claims_release_finish_and_expire(db_url: str) -> None:
    """The store's claim: first wins; a released claim is free again; a finished one names its run
    until a day after; an open claim left by a dead process is free again after CLAIM_STALE_S."""
    store = Store.open(db_url)
    store.migrate()
    try:
        assert claim_run(store, "alice", "k1", 1000.0) is None
        held = claim_run(store, "alice", "k1", 1001.0)
        assert held is not None and held.run_id is None
        assert claim_run(store, "bob", "k1", 1001.0) is None  # keys are per user
        held = claim_run(store, "bob", "k1", 1001.0 + CLAIM_STALE_S - 1)
        assert held is not None and held.run_id is None
        assert claim_run(store, "bob", "k1", 1001.0 + CLAIM_STALE_S + 1) is None  # left by a dead process
        release_claim(store, "alice", "k1")
        assert claim_run(store, "alice", "k1", 1002.0) is None
        finish_claim(store, "alice", "k1", "run-1", 1003.0)
        release_claim(store, "alice", "k1")  # a finished claim is never released
        held = claim_run(store, "alice", "k1", 1003.0 + CLAIM_KEEP_S - 1)
        assert held is not None and held.run_id == "run-1"
        assert claim_run(store, "alice", "k1", 1004.0 + CLAIM_KEEP_S) is None  # forgotten after a day
    finally:
        store.close()
