"""Prometheus metrics of one gateway process. Labels carry ids and statuses, never content."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
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


class Metrics:
    """The gateway's own registry (no process-global state)."""

    def __init__(self, routers: Iterable[ModelRouter]) -> None:
        self.registry = CollectorRegistry()
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
        )
        self.registry.register(_ReplicaCollector(routers))

    def render(self) -> bytes:
        return generate_latest(self.registry)
