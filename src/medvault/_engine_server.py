"""The embedded engine's entry point: llama-cpp-python's OpenAI server, plus the queue metrics it lacks.

llama-cpp-python's server generates one request at a time (behind `llama_outer_lock`/`llama_inner_lock`),
so requests wait inside the engine, but unlike llama.cpp's own server it has no `/metrics`. Run as
`python -m medvault._engine_server` with the arguments of `python -m llama_cpp.server`, this builds the
same app, behind `QueueMetrics`, which counts the generation requests in flight and serves them under
llama.cpp server's metric names. The gateway's reader (`medvault.backends.QueueDepth`) then needs nothing
engine-specific, and every gateway worker and host reads the one count the engine keeps.

It sits outside `medvault.backends` on purpose: importing that package loads the configuration, the
store and the directory client (about a thousand modules), none of which the engine process needs.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The endpoints that take the model's lock to generate (llama-cpp-python's routes, its Copilot alias too).
GENERATION_PATHS = frozenset(
    {"/v1/chat/completions", "/v1/completions", "/v1/engines/copilot-codex/completions", "/v1/embeddings"}
)
METRICS_PATH = "/metrics"


class QueueMetrics:
    """ASGI middleware: counts requests in flight on `paths` and serves `GET /metrics` (Prometheus text).

    A request counts from its arrival until its last body chunk is sent, the client disconnects, or the
    app gives up on it (an error), whichever comes first; a streamed answer counts while it streams. The
    engine generates one at a time, so one of them is processing and the rest are deferred, exactly
    what llama.cpp's server reports as `llamacpp:requests_processing` and `llamacpp:requests_deferred`.
    """

    def __init__(self, app: ASGIApp, paths: frozenset[str] = GENERATION_PATHS) -> None:
        self.app = app
        self.paths = paths
        self.in_flight = 0
        # Its own registry and a collector that computes at scrape time: no process collectors, and no
        # stored values that PROMETHEUS_MULTIPROC_DIR (if set in the environment) would divert to files.
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def collect(self) -> Iterator[Metric]:
        """The two gauges, as llama.cpp's server names them."""
        yield GaugeMetricFamily(
            "llamacpp:requests_processing", "Number of requests processing.", value=min(self.in_flight, 1)
        )
        yield GaugeMetricFamily(
            "llamacpp:requests_deferred", "Number of requests deferred.", value=max(self.in_flight - 1, 0)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] == METRICS_PATH and scope["method"] == "GET":
            await self._serve_metrics(send)
        elif scope["path"] in self.paths:
            await self._counted(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.in_flight += 1
        counted = True

        def done() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.in_flight -= 1

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                done()
            return message

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                done()

        try:
            await self.app(scope, receiving, sending)
        finally:
            done()

    async def _serve_metrics(self, send: Send) -> None:
        body = generate_latest(self.registry)
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _NoMetricsAccessLines(logging.Filter):
    """Drops uvicorn's access line of each `/metrics` read: every gateway worker reads it every
    `limits.queue_poll_s` (a second by default), which would bury the engine log's other lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args  # uvicorn's access record: (client, method, path, http version, status)
        return not (isinstance(args, tuple) and len(args) > 2 and args[2] == METRICS_PATH)


def parse_settings(argv: Sequence[str] | None = None) -> tuple[Any, Any]:
    """llama-cpp-python's server and model settings from its command-line arguments, parsed as its
    `__main__` parses them (MedVault passes no `--config_file`)."""
    # Imported here: importing llama_cpp loads its native library, which only the engine process needs.
    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(description="llama-cpp-python's server with queue metrics")
    add_args_from_model(parser, Settings)
    args = parser.parse_args(argv)
    return parse_model_from_args(ServerSettings, args), parse_model_from_args(ModelSettings, args)


def main(argv: Sequence[str] | None = None) -> None:
    """Build llama-cpp-python's app as its `__main__` does and serve it behind `QueueMetrics`."""
    from llama_cpp.server.app import create_app

    server, model = parse_settings(argv)
    app = create_app(server_settings=server, model_settings=[model])
    logging.getLogger("uvicorn.access").addFilter(_NoMetricsAccessLines())
    uvicorn.run(
        QueueMetrics(app),
        host=server.host,
        port=server.port,
        ssl_keyfile=server.ssl_keyfile,
        ssl_certfile=server.ssl_certfile,
    )


if __name__ == "__main__":
    main()
