"""What the ops process exports on /metrics: RED metrics of its own endpoints, its errors,
consumer lag and dead-letter depth (from the lag exporter's latest snapshot), and the
business gauges (from the latest business snapshot). Snapshot-backed gauges are custom
collectors, so a group or partition that disappears stops being reported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "tessera_ops_http_requests_total",
    "Requests to the ops endpoints, by route, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "tessera_ops_http_request_seconds",
    "Time to answer one request to the ops endpoints.",
    ["route"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter(
    "tessera_ops_errors_total",
    "Errors the ops process survived (logged with context), by kind.",
    ["kind"],
)
POLL_SECONDS = Histogram(
    "tessera_ops_poll_seconds",
    "Time of one poll of the broker (lag) or the databases (business).",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REPLAYS = Counter(
    "tessera_ops_dead_letter_replays_total", "Dead letters replayed, by source topic.", ["topic"]
)


def _gauge(
    name: str, doc: str, labels: list[str], values: dict[tuple[str, ...], float]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


class SnapshotCollector(Collector):
    """Gauges read from `lag()` and `business()` (latest snapshots; None until the first)."""

    def __init__(self, lag: Callable[[], Any], business: Callable[[], Any]) -> None:
        self.lag = lag
        self.business = business

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag, business = self.lag(), self.business()
        rows = lag.rows if lag else []
        yield _gauge(
            "tessera_consumer_lag",
            "Records not yet committed by a consumer group (high watermark - committed).",
            ["group", "topic", "partition"],
            {(r.group, r.topic, str(r.partition)): r.lag for r in rows},
        )
        yield _gauge(
            "tessera_dead_letter_depth",
            "Records in each dead-letter topic.",
            ["topic"],
            {(t,): n for t, n in (lag.dead_letters if lag else {}).items()},
        )
        funnel = (business or {}).get("funnel", {})
        stuck = (business or {}).get("stuck", {})
        yield _gauge(
            "tessera_bookings",
            "Bookings by status (booking read model).",
            ["status"],
            {(s,): n for s, n in funnel.get("by_status", {}).items()},
        )
        yield _gauge(
            "tessera_saga_funnel",
            "Bookings that reached each saga stage.",
            ["stage"],
            {(s["stage"],): s["count"] for s in funnel.get("stages", [])},
        )
        yield _gauge(
            "tessera_saga_compensations",
            "Compensation steps that succeeded, by step.",
            ["step"],
            {(s,): n for s, n in funnel.get("compensations", {}).items()},
        )
        conversion = funnel.get("conversion", {})
        yield _gauge(
            "tessera_payment_conversion_ratio",
            "authorized/attempted and captured/authorized payments.",
            ["ratio"],
            {(k,): v for k, v in conversion.items() if v is not None},
        )
        yield _gauge(
            "tessera_oldest_pending_booking_age_seconds",
            "Age of the oldest PENDING booking (0 when there is none).",
            [],
            {(): stuck.get("oldest_pending_age_s", 0.0)} if stuck else {},
        )
        yield _gauge(
            "tessera_stuck_bookings",
            "Non-terminal bookings untouched for longer than the threshold, by status.",
            ["status"],
            {(s,): stuck["count"].get(s, 0) for s in ("PENDING", "CONFIRMED")} if stuck else {},
        )


def register(collector: SnapshotCollector) -> None:
    REGISTRY.register(collector)
