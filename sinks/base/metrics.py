"""Prometheus metrics of every sink process (served by pipelines.runtime.metrics.serve)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter(
    "tessera_sink_records_total",
    "Records consumed by a sink, by topic and outcome (written, ignored, dead_letter).",
    ["sink", "topic", "outcome"],
)
ROWS = Counter(
    "tessera_sink_rows_total",
    "Rows (or keys) sent to the target after in-memory reduction, by table.",
    ["sink", "table"],
)
ERRORS = Counter(
    "tessera_sink_errors_total",
    "Errors a sink survived (logged with context), by kind.",
    ["sink", "kind"],
)
PAUSED = Gauge(
    "tessera_sink_paused",
    "1 while the sink is paused because its target is unavailable.",
    ["sink"],
)
BATCH_SECONDS = Histogram(
    "tessera_sink_batch_seconds",
    "Time to write one batch to the target and commit it.",
    ["sink"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH_RECORDS = Histogram(
    "tessera_sink_batch_records",
    "Records per batch.",
    ["sink"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
COMMIT_SECONDS = Histogram(
    "tessera_sink_commit_seconds",
    "Time to commit one batch's Kafka offsets (after its rows are written).",
    ["sink"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
