"""The PostgreSQL sink process: one batch loop (and consumer group) per service database.

Entry point for the supervisor: `sinks.postgres.app:main`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pipelines.runtime import metrics as pipeline_metrics
from tessera.config import Settings

from ..base.config import DEFAULT_BATCH, BatchConfig
from ..base.loop import BatchSink
from ..base.runner import run_loops, stop_on_signals
from . import bookings, inventory, payments, sagas
from .connection import PostgresConfig
from .upsert import Strategy
from .writer import PostgresWriter, TableGroup

GROUPS: dict[str, TableGroup] = {
    g.SERVICE: g  # type: ignore[misc]
    for g in (bookings, inventory, payments, sagas)
}
DEFAULT_STRATEGY: Strategy = "staged_copy"  # the faster one in load/bench_sinks.py


def build_sink(
    settings: Settings,
    service: str,
    batch: BatchConfig = DEFAULT_BATCH,
    strategy: Strategy = DEFAULT_STRATEGY,
) -> BatchSink:
    config = PostgresConfig(dsn=settings.postgres_dsn(service), strategy=strategy)
    return BatchSink(settings, PostgresWriter(GROUPS[service], config), batch)


def main(
    settings: Settings,
    metrics_port: int | None = None,
    services: Sequence[str] = tuple(GROUPS),
    stop: threading.Event | None = None,
) -> None:
    if metrics_port is not None:
        pipeline_metrics.serve(metrics_port)
    stop = stop or threading.Event()
    stop_on_signals(stop)
    sinks = [build_sink(settings, service) for service in services]
    run_loops([(sink.name, sink.run) for sink in sinks], stop)
