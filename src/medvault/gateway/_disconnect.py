"""A client that goes away cancels its request's work, streamed or not, so the engine stops generating.

Both helpers run the work in the request's own task and add one watcher task that waits for
`http.disconnect`; Starlette's `StreamingResponse` would spawn a task group per stream for the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from medvault.errors import ClientClosed


class CancelOnDisconnect:
    """Cancel the block when the client disconnects, and raise `ClientClosed` out of it then.

    A class rather than `contextlib.asynccontextmanager`: it runs once per request on the hot path.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._gone = False
        self._task: asyncio.Task[Any] | None = None
        self._watcher: asyncio.Future[None] | None = None

    async def __aenter__(self) -> None:
        self._task = asyncio.current_task()
        assert self._task is not None, "called outside a task"
        self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._gone = True
        assert self._task is not None
        self._task.cancel()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        assert self._watcher is not None and self._task is not None
        self._watcher.cancel()
        if kind is asyncio.CancelledError and self._gone:
            self._task.uncancel()
            raise ClientClosed("client disconnected") from None
        # Cancelled from outside (a shutdown), or no cancellation: let it pass as it is.


class EventStream(Response):
    """A `text/event-stream` answer relayed from an async iterator of bytes, in the request's task."""

    media_type = "text/event-stream"

    def __init__(self, chunks: AsyncGenerator[bytes], headers: Mapping[str, str] | None = None) -> None:
        self.chunks = chunks
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            with contextlib.suppress(ClientClosed):  # the stream's own code audits it as 499
                async with CancelOnDisconnect(receive):
                    await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
                    async for chunk in self.chunks:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            # Cancelled inside `send`, the generator was left at a `yield`: close it here and now, so
            # that its engine request ends and its audit event is written, not left to the collector.
            await self.chunks.aclose()
