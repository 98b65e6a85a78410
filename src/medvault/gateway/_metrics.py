"""Prometheus metrics of the gateway. Labels carry ids and statuses, never content.

With several gateway processes (`gateway.workers`), each writes its values to files in a directory the
supervisor empties at every start (prometheus_client's multi-process mode), and `/metrics`, whichever
process answers it, sums them all (`MultiProcessCollector`). Each process writes under its worker
number, not its pid: in the sandbox's PID namespace every gateway may have the same pid, and a
restarted worker carries on its predecessor's counters instead of leaving a dead process's file behind.
Replica health and requests in flight are this process's own live view and are reported as such.

Collectors that read state all processes share (the monitoring gauges, computed from the database) are
"live" too: whichever process answers `/metrics` collects them itself, so they appear exactly once and are
never summed over the workers (they write nothing to the multi-process files).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from medvault.backends import ModelRouter

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)


class _ReplicaCollector(Collector):
    def __init__(self, routers: Iterable[ModelRouter]) -> None:
        self._routers = list(routers)

    def collect(self) -> Iterable[Metric]:
        healthy = GaugeMetricFamily(
            "medvault_replica_healthy", "1 if the replica passes health checks", labels=["model", "replica"]
        )
        outstanding = GaugeMetricFamily(
            "medvault_replica_outstanding", "requests in flight", labels=["model", "replica"]
        )
        for router in self._routers:
            for replica in router.replicas:
                healthy.add_metric([router.model_id, replica.name], 1.0 if replica.healthy else 0.0)
                outstanding.add_metric([router.model_id, replica.name], replica.outstanding)
        yield healthy
        yield outstanding


_shared_dir: Path | None = None


def use_multiprocess(directory: Path, worker: int) -> None:
    """Write every metric created from now on to `directory`, as worker `worker`; call before `Metrics`."""
    global _shared_dir
    _shared_dir = directory
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # where prometheus_client's values look
    # The pid-free identifier: see the module docstring.
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: f"worker{worker}")


class Metrics:
    """The gateway's registry (no process-global state but the multi-process directory, if any)."""

    def __init__(self, routers: Iterable[ModelRouter]) -> None:
        self.registry = CollectorRegistry()
        self._shared_dir = _shared_dir
        self.requests = Counter(
            "medvault_requests", "API requests", ["route", "model", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "medvault_request_seconds",
            "request latency",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.overhead = Histogram(
            "medvault_gateway_overhead_seconds",
            "time spent in the gateway itself",
            buckets=_OVERHEAD_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "medvault_tokens", "tokens processed", ["model", "kind"], registry=self.registry
        )
        self.guard_flags = Counter(
            "medvault_guard_flags", "grounding-guard flags", ["template", "kind"], registry=self.registry
        )
        self.isolation_breached = Gauge(
            "medvault_isolation_breached",
            "1 after a detected breach, or while the isolation state is unreadable",
            registry=self.registry,
            multiprocess_mode="mostrecent",  # what the last process to look saw
        )
        self._live: list[Collector] = []
        self.register_live(_ReplicaCollector(routers))
        # Labelled children by label values, looked up once: `labels()` builds its key and takes a lock
        # on every call. Bounded: actions, configured models and statuses are few.
        self._per_call: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._per_model: dict[str, tuple[Counter, Counter]] = {}

    def count_call(
        self, action: str, model: str | None, status: int, elapsed_s: float, gateway_s: float,
        prompt_tokens: int | None, completion_tokens: int | None,
    ) -> None:  # fmt: skip
        """One finished API call: its count, latency, the gateway's own share of it and its tokens."""
        key = (action, model or "", status)
        per_call = self._per_call.get(key)
        if per_call is None:
            per_call = self._per_call[key] = (
                self.requests.labels(action, model or "", str(status)),
                self.latency.labels(action),
            )
        per_call[0].inc()
        per_call[1].observe(elapsed_s)
        self.overhead.observe(gateway_s)
        if model and (prompt_tokens or completion_tokens):
            tokens = self._per_model.get(model)
            if tokens is None:
                tokens = self._per_model[model] = (
                    self.tokens.labels(model, "prompt"),
                    self.tokens.labels(model, "completion"),
                )
            if prompt_tokens:
                tokens[0].inc(prompt_tokens)
            if completion_tokens:
                tokens[1].inc(completion_tokens)

    def register_live(self, collector: Collector) -> None:
        """Add a collector that this process collects at each scrape (see the module docstring)."""
        self.registry.register(collector)
        self._live.append(collector)

    def render(self) -> bytes:
        if self._shared_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(self._shared_dir))
        for collector in self._live:
            registry.register(collector)
        return generate_latest(registry)
