"""Fair use: the rate limiter over the database (per key, per user, requests and tokens), the engine
queue depth read from the engines' own metrics, and the interactive-first rule while it is deep."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from medvault.backends import ModelRouter, QueueDepth, Replica, waiting_in
from medvault.config import LimitSettings
from medvault.errors import RateLimited
from medvault.gateway._ratelimit import RateLimiter
from medvault.store import Principal, Role, Store

KEY_A = Principal("alice", Role.CLINICIAN, key_id="k-a")
KEY_B = Principal("alice", Role.CLINICIAN, key_id="k-b")
BATCH = Principal("batch", Role.CLINICIAN, key_id="k-batch")
SESSION = Principal("carol", Role.CLINICIAN)  # signed in to the workbench: no key

VLLM = """# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} 7.0
vllm:num_requests_running{model_name="m"} 2.0
"""
LLAMA_CPP = """# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 1
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 3
"""


class Clock:
    def __init__(self) -> None:
        self.now = 6_000_000.0  # the start of a minute

    def __call__(self) -> float:
        return self.now


def _admitted(limiter: RateLimiter, principal: Principal, n: int, *, interactive: bool = False) -> int:
    async def run() -> int:
        count = 0
        for _ in range(n):
            try:
                await limiter.admit(principal, interactive=interactive)
                count += 1
            except RateLimited:
                pass
        return count

    return asyncio.run(run())


def test_per_key_and_per_user_request_limits(store: Store) -> None:
    """Each key gets its own N per minute; the user's limit caps all of the user's keys together; the
    next minute starts afresh; a refusal says when (Retry-After) and counts nothing."""
    clock = Clock()
    limits = LimitSettings(rate_limit_per_minute=3, user_requests_per_minute=5, busy_queue_depth=0)
    limiter = RateLimiter(store, limits, clock=clock)
    assert _admitted(limiter, KEY_A, 10) == 3
    assert _admitted(limiter, KEY_B, 10) == 2  # the user's fifth request is the last
    clock.now += 20

    async def refused() -> RateLimited:
        with pytest.raises(RateLimited) as caught:
            await limiter.admit(KEY_B)
        return caught.value

    error = asyncio.run(refused())
    assert error.status_code == 429 and error.retry_after_s == 40
    assert store.rate_used("key:k-b", int(clock.now // 60)) == (2, 0)  # the refusal counted nothing
    clock.now += 40
    assert _admitted(limiter, KEY_B, 10) == 3


def test_token_limits_refuse_from_the_next_request_on(store: Store) -> None:
    """Tokens are counted when a request ends; past the limit the next request is refused."""
    clock = Clock()
    limits = LimitSettings(user_tokens_per_minute=100, busy_queue_depth=0)
    limiter = RateLimiter(store, limits, clock=clock)
    assert limiter.counts_tokens
    assert _admitted(limiter, KEY_A, 1) == 1
    asyncio.run(limiter.spent(KEY_A, 99))
    assert _admitted(limiter, KEY_A, 1) == 1
    asyncio.run(limiter.spent(KEY_A, 5))
    assert _admitted(limiter, KEY_A, 3) == 0
    assert store.rate_used("user:alice", int(clock.now // 60)) == (2, 104)


def test_no_limit_configured_touches_no_database(store: Store) -> None:
    """The default (no limits, shallow queue) costs the hot path nothing: no window is written."""
    limiter = RateLimiter(store, LimitSettings(), QueueDepth([], 4))
    assert _admitted(limiter, KEY_A, 5) == 5
    assert limiter.callers(KEY_A, interactive=False) == []


def test_waiting_requests_are_read_from_vllm_and_llama_cpp_metrics() -> None:
    """Both engines' names for their queue are understood; a page without them reports nothing."""
    assert waiting_in(VLLM) == 7.0
    assert waiting_in(LLAMA_CPP) == 3.0
    assert waiting_in("# nothing here\nother_metric 5\n") is None


@contextlib.asynccontextmanager
async def _engine_metrics(pages: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    """Fake engines that serve only `/metrics`: {name: page text, "" for 404}; yields their URLs."""
    runners, urls = [], {}
    for name, text in pages.items():
        app = web.Application()

        async def metrics(request: web.Request, text: str = text) -> web.Response:
            return web.Response(text=text) if text else web.Response(status=404)

        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        urls[name] = f"http://127.0.0.1:{port}/v1"
        runners.append(runner)
    try:
        yield urls
    finally:
        for runner in runners:
            await runner.cleanup()


def test_queue_depth_and_interactive_traffic_first(store: Store) -> None:
    """With a vLLM engine reporting 7 waiting (deep at 4), API keys get their busy share (2 a minute)
    while a workbench session is not held back; never is everyone refused: each key keeps its share.
    An engine without /metrics (llama-cpp-python) does not make the queue deep, however busy this
    process is with it; llama.cpp's own count does."""

    async def run() -> None:
        async with (
            _engine_metrics({"vllm": VLLM, "plain": "", "llama": LLAMA_CPP}) as urls,
            aiohttp.ClientSession() as http,
        ):
            busy_router = ModelRouter("big", [Replica("big#0", urls["vllm"])])
            plain = Replica("small#0", urls["plain"], outstanding=50)
            queue = QueueDepth([busy_router, ModelRouter("small", [plain])], deep_at=4)
            assert await queue.refresh(http) == 7.0 and queue.deep
            limiter = RateLimiter(
                store, LimitSettings(busy_queue_depth=4, busy_requests_per_minute=2), queue, clock=Clock()
            )
            admitted = {p.key_id or p.user: 0 for p in (KEY_A, BATCH, SESSION)}
            for _ in range(10):
                for principal in (KEY_A, BATCH, SESSION):
                    with contextlib.suppress(RateLimited):
                        await limiter.admit(principal, interactive=principal.key_id is None)
                        admitted[principal.key_id or principal.user] += 1
            assert admitted == {"k-a": 2, "k-batch": 2, "carol": 10}
            unknown = QueueDepth([ModelRouter("small", [plain])], deep_at=4)
            assert await unknown.refresh(http) == 0.0 and not unknown.deep
            llama = QueueDepth([ModelRouter("llama", [Replica("llama#0", urls["llama"])])], deep_at=3)
            assert await llama.refresh(http) == 3.0 and llama.deep

    asyncio.run(run())


def test_a_shallow_queue_holds_nobody_back(store: Store) -> None:
    """Positive control of the busy share: with nothing waiting, API keys are not limited at all."""
    queue = QueueDepth([], deep_at=4)
    limiter = RateLimiter(store, LimitSettings(busy_queue_depth=4, busy_requests_per_minute=2), queue)
    assert _admitted(limiter, BATCH, 10) == 10


def test_windows_of_past_minutes_are_pruned(store: Store) -> None:
    clock = Clock()
    limiter = RateLimiter(store, LimitSettings(rate_limit_per_minute=5, busy_queue_depth=0), clock=clock)
    _admitted(limiter, KEY_A, 1)
    clock.now += 120
    _admitted(limiter, KEY_A, 1)
    assert limiter.prune() == 1
    assert store.rate_used("key:k-a", int(clock.now // 60)) == (1, 0)


def test_an_unreachable_engine_does_not_make_the_queue_deep() -> None:
    """An engine that does not answer: its queue is unknown, which must not shed traffic."""

    async def run() -> float:
        replica = Replica("gone#0", "http://127.0.0.1:9/v1", outstanding=30)
        async with aiohttp.ClientSession() as http:
            return await QueueDepth([ModelRouter("gone", [replica])], deep_at=4).refresh(http, 0.5)

    assert asyncio.run(run()) == 0.0
