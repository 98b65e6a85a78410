"""A client that goes away cancels its request's work, streamed or not, so the engine stops generating.

Both helpers run the work in the request's own task and add one watcher task that waits for
`http.disconnect`; Starlette's `StreamingResponse` would spawn a task group per stream for the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from medvault.errors import ClientClosed


@contextlib.asynccontextmanager
async def cancelled_on_disconnect(receive: Receive) -> AsyncIterator[None]:
    """Cancel the block when the client disconnects, and raise `ClientClosed` out of it then."""
    current = asyncio.current_task()
    assert current is not None, "called outside a task"
    gone = False

    async def watch() -> None:
        nonlocal gone
        while (await receive())["type"] != "http.disconnect":
            pass
        gone = True
        current.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        yield
    except asyncio.CancelledError:
        if not gone:
            raise  # cancelled from outside (a shutdown), not by the client
        current.uncancel()
        raise ClientClosed("client disconnected") from None
    finally:
        watcher.cancel()


class EventStream(Response):
    """A `text/event-stream` answer relayed from an async iterator of bytes, in the request's task."""

    media_type = "text/event-stream"

    def __init__(self, chunks: AsyncIterator[bytes], headers: Mapping[str, str] | None = None) -> None:
        self.chunks = chunks
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(ClientClosed):  # the stream's own code audits it as 499
            async with cancelled_on_disconnect(receive):
                await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
                async for chunk in self.chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
