"""Prometheus metrics every pipeline process exposes on its metrics port."""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram, Info, start_http_server

PROCESSED = Counter(
    "tessera_pipeline_messages_total",
    "Input records processed, by pipeline, topic and message type.",
    ["pipeline", "topic", "type"],
)
DEAD_LETTERS = Counter(
    "tessera_pipeline_dead_letters_total",
    "Input records sent to a dead-letter topic, by reason.",
    ["pipeline", "topic", "reason"],
)
ERRORS = Counter(
    "tessera_pipeline_errors_total",
    "Errors a pipeline survived (logged with context), by kind.",
    ["pipeline", "kind"],
)
PROCESSING_SECONDS = Histogram(
    "tessera_pipeline_processing_seconds",
    "Time to handle one input record (decode, decide, route).",
    ["pipeline"],
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25),
)

COMMIT_SECONDS = Histogram(
    "tessera_pipeline_commit_seconds",
    "Time to commit one checkpoint (Kafka transaction or offset commit), by trigger.",
    ["pipeline", "trigger"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


PROCESS = Info("tessera_process", "Which Tessera process serves these metrics.")


def serve(port: int, role: str = "") -> None:
    """Serve /metrics; the port answering with our pid is the process's liveness signal."""
    PROCESS.info({"pid": str(os.getpid()), "role": role})
    start_http_server(port, addr="127.0.0.1")
