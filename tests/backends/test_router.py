"""Replicas of one model share the load, and a dead one is taken out and put back."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from medvault.backends import ModelRouter, Replica, post_json, stream_batches
from medvault.errors import BackendUnavailable
from medvault.store import Role
from tests.gateway.conftest import Engine, make_settings, open_store, serve, start_engine


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


@contextlib.contextmanager
def paused(*engines: Engine) -> Iterator[None]:
    """Freeze the engine processes: the kernel still accepts connections, but nothing answers (a starved
    engine on a loaded host, as a probe sees it)."""
    for engine in engines:
        os.kill(engine.process.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 30
        while _state(engine.process.pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(engine.process.pid) == "T"
    try:
        yield
    finally:
        for engine in engines:
            os.kill(engine.process.pid, signal.SIGCONT)


def _state(pid: int) -> str:
    """The process state letter from /proc (`T`: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


async def probe_until_healthy(router: ModelRouter, session: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + 60
    while not all(r.healthy for r in router.replicas) and time.monotonic() < deadline:
        await router.check_health(session, timeout_s=10)
    assert all(r.healthy for r in router.replicas)


async def time_out_probes(router: ModelRouter, session: aiohttp.ClientSession, *engines: Engine) -> None:
    """Let the probes of these engines' replicas time out, as they do on a loaded host."""
    with paused(*engines):
        await router.check_health(session, timeout_s=0.3)  # a stopped process cannot answer in any time


def chat(session: aiohttp.ClientSession) -> Callable[[Replica], Awaitable[dict[str, Any]]]:
    timeout = aiohttp.ClientTimeout(total=60)
    return lambda replica: post_json(session, replica, "/chat/completions", BODY, timeout)


def chat_stream(session: aiohttp.ClientSession) -> Callable[[Replica], AsyncIterator[list[dict[str, Any]]]]:
    timeout = aiohttp.ClientTimeout(total=60)
    return lambda replica: stream_batches(
        session, replica, "/chat/completions", {**BODY, "stream": True}, timeout
    )


BODY = {"model": "fake", "messages": [{"role": "user", "content": "x"}]}


async def test_probe_timeouts_alone_do_not_stop_service() -> None:
    """Replicas out only because their probes timed out still serve, plain and streamed: the one that
    went down last is tried, and health stays the probe's verdict."""
    with contextlib.ExitStack() as engines:
        first, second = (engines.enter_context(_killed_after(start_engine())) for _ in range(2))
        router = ModelRouter("fake", [Replica("fake#0", first.url), Replica("fake#1", second.url)])
        async with aiohttp.ClientSession() as session:
            await probe_until_healthy(router, session)
            await time_out_probes(router, session, first)
            await time_out_probes(router, session, first, second)  # fake#1 down last: the last resort
            assert [(r.healthy, r.last_error) for r in router.replicas] == [(False, "TimeoutError")] * 2
            assert not router.ready

            replica, answer = await router.call(chat(session))
            assert replica.name == "fake#1" and answer["choices"][0]["message"]["content"]
            async with router.stream(chat_stream(session)) as (replica, batches):
                events = [event async for batch in batches for event in batch]
            assert replica.name == "fake#1" and events
            assert second.stats()["started"] == 2 and first.stats()["started"] == 0
            assert not router.ready  # only a probe's answer puts a replica back

            await router.check_health(session, timeout_s=10)
            assert router.ready


@contextlib.contextmanager
def _killed_after(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.kill()


async def test_dead_replica_still_gets_readable_503() -> None:
    """A replica whose probe timed out and which then really died is tried once and refuses: 503 naming
    every replica and why; one refused outright by its probe is not tried at all."""
    engine = start_engine()
    router = ModelRouter("fake", [Replica("fake#0", engine.url)])
    try:
        async with aiohttp.ClientSession() as session:
            await probe_until_healthy(router, session)
            await time_out_probes(router, session, engine)
            engine.kill()
            with pytest.raises(BackendUnavailable) as refused:
                await router.call(chat(session))
            assert refused.value.message == (
                "model 'fake' has no healthy replica (fake#0: inference engine fake#0 unreachable)"
            )

            await router.check_health(session, timeout_s=10)  # the probe now sees the refusal itself
            assert router.replicas[0].last_error == "ClientConnectorError"
            for attempt in (router.call(chat(session)), _open(router.stream(chat_stream(session)))):
                with pytest.raises(BackendUnavailable) as unavailable:
                    await attempt
                assert (
                    unavailable.value.message
                    == "model 'fake' has no healthy replica (fake#0: ClientConnectorError)"
                )
    finally:
        engine.kill()


async def test_a_replica_never_healthy_is_no_last_resort() -> None:
    """A replica whose probes have only ever timed out may still be loading its model (and has not told
    its model name): it gets no last-resort try; one that served before does."""
    engine = start_engine()
    router = ModelRouter("fake", [Replica("fake#0", engine.url)])
    try:
        async with aiohttp.ClientSession() as session:
            await time_out_probes(router, session, engine)  # never healthy
            assert router.replicas[0].last_error == "TimeoutError"
            with pytest.raises(BackendUnavailable) as unavailable:
                await router.call(chat(session))
            assert unavailable.value.message == "model 'fake' has no healthy replica (fake#0: TimeoutError)"
            assert engine.stats()["started"] == 0
            # control: once it has served, the same timeout leaves it as the last resort
            await probe_until_healthy(router, session)
            await time_out_probes(router, session, engine)
            replica, _ = await router.call(chat(session))
            assert replica.name == "fake#0" and engine.stats()["started"] == 1
    finally:
        engine.kill()


async def _open(stream: contextlib.AbstractAsyncContextManager[object]) -> None:
    async with stream:
        pass
