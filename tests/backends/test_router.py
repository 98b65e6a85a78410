"""Replicas of one model share the load, and a dead one is taken out and put back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from medvault.store import Role
from tests.gateway.conftest import make_settings, open_store, serve, start_engine


def test_failover_and_recovery(tmp_path: Path) -> None:
    """With one of two replicas killed every request still succeeds; a restarted one rejoins."""
    first, second = start_engine(), start_engine()
    # The probe waits as long as the interval (at most 2 s): 0.2 s timed both replicas out on a loaded host.
    settings = make_settings(tmp_path, [first.url, second.url], limits={"health_interval_s": 0.5})
    store = open_store(settings)
    _, key = store.create_key("alice", Role.CLINICIAN)
    body = {"model": "fake", "messages": [{"role": "user", "content": "x"}]}
    try:
        with (
            serve(settings, store) as url,
            httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as c,
        ):
            for _ in range(10):
                assert c.post("/v1/chat/completions", json=body).status_code == 200
            assert first.stats()["started"] > 0 and second.stats()["started"] > 0  # both served
            port = int(first.url.split(":")[2].split("/")[0])
            first.kill()
            statuses = [c.post("/v1/chat/completions", json=body).status_code for _ in range(10)]
            assert statuses == [200] * 10
            metrics = c.get(
                "/metrics", headers={"authorization": f"Bearer {store.create_key('ops', Role.ADMIN)[1]}"}
            )
            assert 'medvault_replica_healthy{model="fake",replica="fake#0"} 0.0' in metrics.text
            revived = start_engine(port)
            deadline = time.monotonic() + 10
            while revived.stats()["started"] == 0 and time.monotonic() < deadline:
                c.post("/v1/chat/completions", json=body)
            assert revived.stats()["started"] > 0
            revived.kill()
    finally:
        second.kill()
        first.kill()
        store.close()
