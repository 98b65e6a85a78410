"""CPU of the streamed relay's own code, in-process: parse one stream's events and relay them.

    .venv/bin/python bench/gateway_relay.py                      # this tree
    PYTHONPATH=/tmp/base/src .venv/bin/python bench/gateway_relay.py   # another version, to compare

Feeds the fake engine's usual 16-chunk stream (19 events with usage, as one network read) through
`backends._upstream._events` and `ChatCompletions._relay`, with no network, server or audit, and reports
the least CPU time per stream over 15 runs of 2 000 (the least is the run others disturbed least). A
microbenchmark of private code: it follows `_relay`'s signature and must change with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakes

from tests.fakes.engine import FakeEngine

from medvault.backends._upstream import Replica, _events
from medvault.gateway import _chat
from medvault.gateway._calls import Call

RAW = b"".join(FakeEngine("fake-model", 16)._events("", {"stream_options": {"include_usage": True}}, 16))
REPLICA = Replica("bench", "http://127.0.0.1:9/v1")


class _NoAudit:
    async def finish(self, call: Call, status: int) -> None:
        """The relay awaits the audit commit before [DONE]; measured elsewhere."""


async def _batches() -> AsyncIterator[list[dict[str, Any]]]:
    batch, _ = _events(REPLICA, RAW.split(b"\n"))
    yield batch


async def _one(relay: _chat.ChatCompletions, splitter: Any) -> int:
    call = Call("chat.completions", "bench", "api", model_id="fake")
    sent = 0
    async for chunk in relay._relay(call, _batches(), splitter(), True, contextlib.AsyncExitStack()):
        sent += len(chunk)
    return sent


async def _main() -> None:
    relay = _chat.ChatCompletions.__new__(_chat.ChatCompletions)
    relay._calls = _NoAudit()  # type: ignore[assignment]
    # The splitter the relay takes: the per-stream wrapper where it exists, the bare splitter before it.
    wrapper = getattr(_chat, "_Reasoning", None)
    splitter = (lambda: wrapper(starts_inside=False)) if wrapper else (lambda: _chat.ThinkSplitter())
    for _ in range(2000):
        await _one(relay, splitter)
    runs = []
    for _ in range(15):
        started = time.process_time()
        for _ in range(2000):
            await _one(relay, splitter)
        runs.append((time.process_time() - started) / 2000 * 1e6)
    print(f"{_chat.__file__}: parse + relay of one 19-event stream: {min(runs):.1f} µs CPU (least of 15)")


if __name__ == "__main__":
    asyncio.run(_main())
