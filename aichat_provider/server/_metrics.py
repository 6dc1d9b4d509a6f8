"""``GET /metrics`` in Prometheus' text format, through ``prometheus-client`` (server extra).

Each application has its own collector registry, so two servers in one process (tests, an app
that mounts this one) never count into each other. With ``--workers N``, ``aichat serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` to a private directory (prometheus-client's multiprocess mode):
each worker writes its numbers there and any worker's ``/metrics`` adds up all of them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: Upstream latency buckets, seconds: the service answers in one to tens of seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """Requests by route and status, requests in flight, upstream calls by outcome with their
    latency, and the provider's retries."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry: CollectorRegistry = CollectorRegistry()
        self.requests = Counter(
            "aichat_requests",
            "HTTP requests answered, by route and status.",
            ("route", "status"),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "aichat_requests_in_flight",
            "HTTP requests being answered.",
            registry=self.registry,
            multiprocess_mode="livesum",  # the workers alive now, added up
        )
        self.upstream = Histogram(
            "aichat_upstream_seconds",
            "Provider calls, by provider and outcome (ok or the exception's class), in seconds.",
            ("provider", "outcome"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.retries = Counter(
            "aichat_upstream_retries",
            "Requests the providers sent again after a failed attempt.",
            ("provider",),
            registry=self.registry,
        )

        self._children: dict[tuple[str, ...], Any] = {}

    def request_done(self, route: str, status: int) -> None:
        key = ("request", route, str(status))
        child = self._children.get(key)
        if child is None:  # the labelled child, looked up once (labels() takes a lock)
            child = self._children[key] = self.requests.labels(route, str(status))
        child.inc()

    def upstream_done(self, provider: str, outcome: str, seconds: float, attempts: int) -> None:
        key = ("upstream", provider, outcome)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.upstream.labels(provider, outcome)
        child.observe(seconds)
        if attempts > 1:
            self.retries.labels(provider).inc(attempts - 1)

    def render(self) -> tuple[bytes, bytes]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry = self.registry
        if os.environ.get(MULTIPROCESS_VARIABLE):
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST.encode()


def create_metrics() -> Metrics | None:
    """Metrics, or None when ``prometheus-client`` is not installed."""
    try:
        return Metrics()
    except ImportError:
        return None
