"""The timer service process: bucket state (exactly-once) plus the wall-clock ticker."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from schemas.timers import ScheduleTimer, Tick
from schemas.topics import TIMERS
from state_stores.base import KeyValueStore
from state_stores.timers import on_schedule, on_tick
from tessera.config import Settings

from ..runtime import metrics
from ..runtime.application import run_processor
from ..runtime.outputs import Outbound
from .ticker import Ticker

ROLE = "timers"


def handle(store: KeyValueStore, message: Any, now_ms: int) -> Iterable[Outbound]:
    match message:
        case ScheduleTimer():
            fired = on_schedule(store, message, now_ms)
        case Tick():
            fired = on_tick(store, message)
        case _:
            return []
    return [
        Outbound(f.topic, f.key, f.payload, [("traceparent", f.traceparent.encode())])
        if f.traceparent
        else Outbound(f.topic, f.key, f.payload)
        for f in fired
    ]


def main(settings: Settings, metrics_port: int | None = None) -> None:
    if metrics_port is not None:
        metrics.serve(metrics_port, ROLE)
    ticker = Ticker(settings)
    thread = threading.Thread(target=ticker.run, name="ticker", daemon=True)
    thread.start()
    try:
        run_processor(settings, ROLE, [TIMERS], handle)
    finally:
        ticker.stop()
        thread.join(timeout=5)
