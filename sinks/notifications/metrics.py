"""Prometheus metrics of the notification pipeline."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ATTEMPTS = Counter(
    "tessera_notification_attempts_total",
    "Notification delivery attempts by channel and outcome (DELIVERED, DUPLICATE, FAILED, "
    "DEAD, IN_PROGRESS, LEDGER_DOWN).",
    ["channel", "outcome"],
)
BUFFERED = Gauge(
    "tessera_notification_buffered",
    "Notifications held by the process: waiting for their retry time or being delivered.",
)
