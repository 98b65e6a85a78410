"""The engine call of an evaluation: the gateway's own in-process streaming call over the running engines.

`medvault evaluate` reaches the engines the supervisor started (their addresses and digests are in
`run/runtime.json`) through `ChatCompletions.generate`, the very call a workbench run makes, with its
reasoning split, usage accounting and error translation. One difference, on purpose: change control is
not asked, because evaluating weights is what comes before approving them; nothing evaluated reaches a
clinician (no run is stored, the gateway's own gate is untouched).

It lives in the CLI, which composes packages: the gateway depends on governance (its approval gate), so
governance must not depend on the gateway.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import aiohttp

from medvault.backends import ModelRouter, ModelSpec, Runtime
from medvault.config import LimitSettings, Settings
from medvault.gateway._auth import Authenticator
from medvault.gateway._calls import Call, CallLog
from medvault.gateway._chat import ChatCompletions
from medvault.gateway._metrics import Metrics
from medvault.governance import ApprovalGate
from medvault.governance.evaluation import Answer, EvaluationError
from medvault.store import AuditWriter, Store
from medvault.supervisor._netns import _in_netns

T = TypeVar("T")


def in_gateway_zone(runtime: Runtime, settings: Settings, work: Callable[[], T]) -> T:
    """Run `work` where the engines are reachable: under isolation only the gateway's zone reaches them,
    so from a thread that joined its network namespace (needs root, like every admin command)."""
    if runtime.isolation != "on":
        return work()
    return _in_netns(settings.isolation.zone_netns("dmz"), work)


class GatewayEngine:
    """One model's running replicas behind the gateway's chat call; use with `async with`."""

    def __init__(self, spec: ModelSpec, limits: LimitSettings, store: Store) -> None:
        self.router = ModelRouter(
            spec.id, spec.build_replicas(), reasoning_starts_inside=spec.reasoning_starts_inside
        )
        routers = {spec.id: self.router}
        # Nobody signs in and no call is audited one by one (the evaluation is audited as a whole), but
        # the chat handler is built from the same parts as in the gateway.
        calls = CallLog(AuditWriter(store), Metrics(routers.values()))
        auth = Authenticator(lambda _key: None, 1.0)
        ungated = ApprovalGate(lambda: [], {})  # see the module docstring
        self._chat = ChatCompletions(routers, auth, calls, limits, ungated)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[GatewayEngine]:
        # trust_env=False, as in the gateway: no proxy variable may send requests anywhere else.
        async with aiohttp.ClientSession(trust_env=False) as session:
            self._chat.session = session
            await self.router.check_health(session, 5.0)
            if not self.router.ready:
                problems = "; ".join(f"{r.name}: {r.last_error}" for r in self.router.replicas)
                raise EvaluationError(f"model {self.router.model_id}: no engine answers ({problems})")
            yield self

    async def complete(self, body: dict[str, Any]) -> Answer:
        call = Call(action="model.evaluate", request_id=uuid.uuid4().hex, client_kind="cli")
        parts = [delta.get("content") or "" async for delta in self._chat.generate(call, body)]
        return Answer("".join(parts), call.prompt_tokens, call.completion_tokens, call.model_digest)
