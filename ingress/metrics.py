"""Prometheus metrics of the ingress: RED per route plus the edges it depends on.

What every request updates (RED, idempotency outcomes, the Kafka ack time) are loop
metrics (`loop_metrics`): updated from the event-loop thread without a lock. The rest
are prometheus_client's own.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge
from prometheus_client.exposition import generate_latest

from .loop_metrics import CounterChild, LoopCounter, LoopHistogram

REQUESTS = LoopCounter(
    "tessera_ingress_requests_total",
    "HTTP requests by route and status",
    ["route", "method", "status"],
)
DURATION = LoopHistogram(
    "tessera_ingress_request_duration_seconds",
    "HTTP request latency by route",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = LoopCounter(
    "tessera_ingress_errors_total", "Error answers by route and code", ["route", "code"]
)
IN_FLIGHT = Gauge("tessera_ingress_requests_in_flight", "Requests being handled")
SSE_STREAMS = Gauge("tessera_ingress_sse_streams", "Open server-sent-event streams")
AUTH_FAILURES = Counter("tessera_ingress_auth_failures_total", "Rejected tokens", ["reason"])
JWKS_RELOADS = Counter("tessera_ingress_jwks_reloads_total", "JWKS reloads", ["outcome"])
RATE_LIMITED = Counter("tessera_ingress_rate_limited_total", "429 answers", ["limit"])
SOLD_OUT_AT_ADMISSION = LoopCounter(  # a flash sale's losing creates: most of its requests
    "tessera_ingress_sold_out_total", "Creates refused at admission: the cache shows no stock"
).labels()
IDEMPOTENCY = LoopCounter(
    "tessera_ingress_idempotency_total", "Idempotency-key outcomes", ["outcome"]
)
# bound once: a labels() lookup per request costs as much as the increment
IDEMPOTENCY_OUTCOMES = {
    outcome: IDEMPOTENCY.labels(outcome)
    for outcome in ("claimed", "stored", "released", "replayed", "mismatch", "in_flight",
                    "finish_failed")
}  # fmt: skip
BACKEND_FAILURES = Counter(
    "tessera_ingress_backend_failures_total", "Failed calls to a backend", ["backend", "operation"]
)
KAFKA_ACK = LoopHistogram(
    "tessera_ingress_kafka_ack_seconds",
    "Time from produce to broker acknowledgement",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10),
).labels()


class RouteMetrics:
    """Pre-bound label children for one route, so the hot path avoids label lookups."""

    __slots__ = ("name", "method", "duration", "_requests", "_errors")

    def __init__(self, name: str, method: str) -> None:
        self.name, self.method = name, method
        self.duration = DURATION.labels(name, method)
        self._requests: dict[int, CounterChild] = {}
        self._errors: dict[str, CounterChild] = {}

    def observe(self, status: int, seconds: float, code: str | None) -> None:
        counter = self._requests.get(status)
        if counter is None:
            counter = self._requests[status] = REQUESTS.labels(self.name, self.method, str(status))
        counter.inc()
        self.duration.observe(seconds)
        if code is not None:
            errors = self._errors.get(code)
            if errors is None:
                errors = self._errors[code] = ERRORS.labels(self.name, code)
            errors.inc()


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
