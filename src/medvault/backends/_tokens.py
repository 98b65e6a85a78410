"""Count a chat prompt in a model's own tokens, and know the model's context window.

The count comes from the engine's tokenizer where the engine has one: llama-cpp-python's server (the
embedded engine) answers `POST /extras/tokenize/count`, vLLM `POST /tokenize` (which also applies the chat
template). Where there is none (`kind = "openai"`), or the engine does not answer within
`TOKENIZE_TIMEOUT_S` (llama-cpp-python tokenizes under the model's lock, so it waits while it generates),
the count is a stated, conservative estimate: one token per `ESTIMATE_BYTES_PER_TOKEN` UTF-8 bytes, which
over-counts German and English clinical prose (about 2.3 and 3.7 bytes per token with the bundled model).
Digit runs can take a token per digit; an estimate that is still too low meets the engine's own refusal,
which the workbench reports as `context_exceeded`.

The window is the model's `context_tokens` setting, else the smallest `n_ctx` (embedded) or
`max_model_len` (vllm) among its replicas, else `DEFAULT_CONTEXT_TOKENS`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import structlog

from medvault.backends._router import ModelRouter
from medvault.backends._runtime import replica_name
from medvault.backends._upstream import Replica
from medvault.config import ModelSettings, ReplicaSettings, Settings

log = structlog.get_logger("medvault.backends")

DEFAULT_CONTEXT_TOKENS = 4096
ESTIMATE_BYTES_PER_TOKEN = 2
# What a chat template adds around each message (role markers, separators) and to open the answer: the
# plain-text tokenizers count the contents only, so this is added per message (ChatML takes about 5).
MESSAGE_OVERHEAD_TOKENS = 8
TOKENIZE_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class TokenCount:
    """A prompt's size in tokens; `exact` when the engine's tokenizer counted it."""

    tokens: int
    exact: bool


def estimate_text(text: str) -> int:
    """The conservative estimate of a text's tokens (see the module docstring)."""
    return math.ceil(len(text.encode()) / ESTIMATE_BYTES_PER_TOKEN)


def estimate(messages: Sequence[Mapping[str, Any]]) -> int:
    """The conservative estimate of a chat prompt's tokens, with each message's template overhead."""
    contents = [str(m.get("content") or "") for m in messages]
    return sum(estimate_text(c) + MESSAGE_OVERHEAD_TOKENS for c in contents)


def _window(model: ModelSettings) -> int:
    if model.context_tokens is not None:
        return model.context_tokens
    sizes = [r.n_ctx if r.kind == "embedded" else r.max_model_len for r in model.replicas]
    known = [size for size in sizes if size is not None]
    return min(known) if known else DEFAULT_CONTEXT_TOKENS


class TokenCounter:
    """The token counts and context windows of every configured model."""

    def __init__(self, settings: Settings, routers: Mapping[str, ModelRouter]) -> None:
        self._routers = routers
        self._windows = {model.id: _window(model) for model in settings.models}
        self._kinds: dict[str, ReplicaSettings] = {
            replica_name(model.id, index): replica
            for model in settings.models
            for index, replica in enumerate(model.replicas)
        }

    def window(self, model_id: str) -> int:
        """The model's context window in tokens (prompt and answer together)."""
        return self._windows.get(model_id, DEFAULT_CONTEXT_TOKENS)

    async def count(
        self, session: aiohttp.ClientSession | None, model_id: str, messages: Sequence[Mapping[str, Any]]
    ) -> TokenCount:
        """A chat prompt's tokens, from the engine's tokenizer if it has one and answers in time."""
        return await self._count(session, model_id, list(messages), None)

    async def count_text(self, session: aiohttp.ClientSession | None, model_id: str, text: str) -> TokenCount:
        """A plain text's tokens (no chat template around it), counted like `count`."""
        return await self._count(session, model_id, None, text)

    async def _count(
        self,
        session: aiohttp.ClientSession | None,
        model_id: str,
        messages: list[Mapping[str, Any]] | None,
        text: str | None,
    ) -> TokenCount:
        router = self._routers.get(model_id)
        replicas = [r for r in router.replicas if r.healthy] if router else []
        if session is not None and replicas:
            replica = replicas[0]
            settings = self._kinds.get(replica.name)
            kind = settings.kind if settings else "openai"
            try:
                async with asyncio.timeout(TOKENIZE_TIMEOUT_S):
                    counted = await _ask(session, replica, kind, messages, text)
            except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
                log.warning("tokenize_failed", replica=replica.name, error=type(exc).__name__)
                counted = None
            if counted is not None:
                return TokenCount(counted, exact=True)
        guess = estimate(messages) if messages is not None else estimate_text(text or "")
        return TokenCount(guess, exact=False)


async def _ask(
    session: aiohttp.ClientSession,
    replica: Replica,
    kind: str,
    messages: list[Mapping[str, Any]] | None,
    text: str | None,
) -> int | None:
    """The engine's own count, or None for an engine without a tokenizer endpoint we know."""
    root = replica.url.removesuffix("/v1")
    named = {"model": replica.upstream_model} if replica.upstream_model else {}
    if kind == "embedded":
        plain = text if messages is None else "\n".join(str(m.get("content") or "") for m in messages)
        answer = await _post(session, replica, root + "/extras/tokenize/count", {"input": plain, **named})
        overhead = 0 if messages is None else MESSAGE_OVERHEAD_TOKENS * len(messages)
        return int(answer["count"]) + overhead
    if kind in ("vllm", "command"):  # vLLM's and SGLang's tokenize endpoint applies the chat template
        if messages is None:
            body: dict[str, Any] = {"prompt": text, "add_special_tokens": False, **named}
        else:
            body = {"messages": messages, "add_generation_prompt": True, **named}
        return int((await _post(session, replica, root + "/tokenize", body))["count"])
    return None


async def _post(session: aiohttp.ClientSession, replica: Replica, url: str, body: dict[str, Any]) -> Any:
    # An engine's redirect is never followed: it would carry the prompt to a host of the engine's choice.
    async with session.post(
        url, data=orjson.dumps(body), headers=replica.headers(), allow_redirects=False
    ) as response:
        payload = await response.read()
        if response.status != 200:
            # The body may echo the prompt: only the status is kept.
            raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
        return orjson.loads(payload)
