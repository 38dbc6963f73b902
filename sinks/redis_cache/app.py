"""The Redis cache sink process. Entry point for the supervisor: `sinks.redis_cache.app:main`."""

from __future__ import annotations

import threading

from pipelines.runtime import metrics as pipeline_metrics
from tessera.config import Settings

from ..base.config import DEFAULT_BATCH, BatchConfig
from ..base.loop import BatchSink
from ..base.runner import run_loops, stop_on_signals
from .client import RedisConfig
from .writer import RedisCacheWriter


def build_sink(settings: Settings, batch: BatchConfig = DEFAULT_BATCH) -> BatchSink:
    writer = RedisCacheWriter(RedisConfig(url=settings.redis_url), settings.topic_prefix)
    return BatchSink(settings, writer, batch)


def main(
    settings: Settings, metrics_port: int | None = None, stop: threading.Event | None = None
) -> None:
    if metrics_port is not None:
        pipeline_metrics.serve(metrics_port)
    stop = stop or threading.Event()
    stop_on_signals(stop)
    sink = build_sink(settings)
    run_loops([(sink.name, sink.run)], stop)
