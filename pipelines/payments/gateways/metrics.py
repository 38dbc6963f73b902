"""Prometheus metrics of the gateway layer, registered once per process.

They live in one module because `simulated_http` also runs as `__main__`, and a second
import of a module that registers metrics would fail with a duplicate registration.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

CALLS = Counter(
    "tessera_gateway_calls_total",
    "Gateway calls by final outcome, after retries.",
    ["gateway", "operation", "outcome"],
)
RETRIES = Counter(
    "tessera_gateway_retries_total",
    "Gateway call attempts repeated after a retryable failure.",
    ["gateway", "operation"],
)
ERRORS = Counter(
    "tessera_gateway_errors_total",
    "Gateway errors by kind (timeout, connection, http_5xx, circuit_open, rejected, ...).",
    ["gateway", "operation", "kind"],
)
LATENCY = Histogram(
    "tessera_gateway_call_seconds",
    "Latency of one gateway attempt.",
    ["gateway", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BREAKER_STATE = Gauge(
    "tessera_gateway_breaker_state",
    "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
    ["gateway"],
)
IN_FLIGHT = Gauge(
    "tessera_gateway_in_flight",
    "Gateway calls holding a bulkhead slot.",
    ["gateway"],
)
SIM_FAULTS = Counter(
    "tessera_sim_gateway_faults_total",
    "Faults the simulated gateway injected on purpose.",
    ["kind"],
)


def record_error(
    log: logging.Logger,
    *,
    gateway: str,
    operation: str,
    kind: str,
    detail: str,
    level: int = logging.WARNING,
    **context: Any,
) -> None:
    """Count an error and log it with its context (never card data or credentials)."""
    ERRORS.labels(gateway, operation.lower(), kind).inc()
    ctx = " ".join(f"{k}={v}" for k, v in sorted(context.items()) if v is not None)
    log.log(
        level,
        "gateway %s %s failed: kind=%s detail=%s %s",
        gateway,
        operation.lower(),
        kind,
        detail,
        ctx,
        extra={"gateway": gateway, "operation": operation.lower(), "error_kind": kind, **context},
    )
