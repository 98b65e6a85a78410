"""Interactive traffic first with the real embedded engine: while its own metrics say requests wait,
API keys are held to their busy share (429 in the OpenAI shape, with Retry-After) and a signed-in
workbench session is admitted; once the queue drains the keys are served again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.backends.conftest import EmbeddedEngine, embedded_engine
from tests.gateway.conftest import Engine
from tests.workbench.conftest import Bench, make_bench

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EmbeddedEngine]:
    with embedded_engine(tmp_path) as started:
        yield started


def load(engine: EmbeddedEngine) -> int:
    """One long streamed completion straight to the engine (a batch client the gateway does not see)."""
    body = {"prompt": "Once upon a time", "max_tokens": 128, "temperature": 0, "stream": True}
    with httpx.stream("POST", engine.url + "/completions", json=body, timeout=120) as response:
        return sum(1 for line in response.iter_lines() if line.startswith("data: "))


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def test_sessions_go_first_while_the_embedded_engine_queues(tmp_path: Path, engine: EmbeddedEngine) -> None:
    limits = {
        "busy_queue_depth": 1,
        "busy_requests_per_minute": 1,
        "queue_poll_s": 0.1,
        # llama-cpp-python answers its health probe only between requests: a probe during this test's
        # load would time out and mark the engine down (the gateway itself sends it none of the load).
        "health_interval_s": 600,
    }
    with make_bench(tmp_path, Engine(engine.url, engine.process), limits=limits) as bench:
        api = bench.api()
        # Positive control: with the queue shallow, the key is not limited at all.
        assert [api.get("/v1/models").status_code for _ in range(3)] == [200, 200, 200]
        session, csrf = bench.sign_in()
        with ThreadPoolExecutor(4) as pool:
            streams = [pool.submit(load, engine) for _ in range(4)]
            wait_for(lambda: bench.gateway.queue.deep)
            answers = [api.get("/v1/models") for _ in range(3)]
            assert bench.gateway.queue.deep  # still deep: the refusals below are the busy share's
            refused = [r for r in answers if r.status_code == 429]
            # One a minute while busy: a second at most when a minute boundary falls in between.
            assert 1 <= len(refused) <= 2 and {r.status_code for r in answers} <= {200, 429}
            error = refused[0].json()["error"]
            assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limited")
            assert "busy" in error["message"]
            assert 1 <= int(refused[0].headers["retry-after"]) <= 60
            ran = _session_run(bench, session, csrf)
            assert all(s.result() > 1 for s in streams)
        assert ran == 200  # the same user's session, while her key was refused
        wait_for(lambda: not bench.gateway.queue.deep)
        assert api.get("/v1/models").status_code == 200  # drained: the key is served again


def _session_run(bench: Bench, session: httpx.Client, csrf: str) -> int:
    """Start a workbench run in `session` while the queue is deep; returns its status once the stream
    has begun (the run is then abandoned: its admission is what is tested)."""
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": "Lunge frei."}}
    assert bench.gateway.queue.deep
    with session.stream("POST", "/api/v1/runs", json=body, headers={"x-csrf-token": csrf}) as response:
        if response.status_code == 200:
            lines = response.iter_lines()
            next(line for line in lines if line.startswith("data: "))
        return response.status_code
