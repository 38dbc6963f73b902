"""What the ops process keeps: the lag exporter and its history, the latest business
snapshot, the database pools, the dead-letter browser, the ADMIN gate; and the poller
thread that refreshes the snapshots (errors are logged with context and counted)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from typing import Any

from tessera.config import Settings

from . import business
from .auth import AdminGate
from .config import OpsConfig
from .db import Databases
from .dead_letters import DeadLetterBrowser
from .exceptions import BackendUnavailable
from .lag import LagExporter
from .metrics import ERRORS, POLL_SECONDS, SnapshotCollector, register

logger = logging.getLogger(__name__)


class OpsState:
    def __init__(self, settings: Settings, config: OpsConfig) -> None:
        self.settings = settings
        self.config = config
        self.db = Databases(settings, config.pg_timeout_s)
        self.lag = LagExporter(settings, config)
        self.browser = DeadLetterBrowser(settings, config.kafka_timeout_s)
        self.gate = AdminGate(settings)
        self.business: dict[str, Any] | None = None
        self.errors: dict[str, str] = {}  # source -> last error, shown on the page
        register(SnapshotCollector(lambda: self.lag.latest, lambda: self.business))

    def funnel(self) -> dict[str, Any]:
        return business.funnel(self.db)

    def stuck(self, threshold_s: float) -> dict[str, Any]:
        return business.stuck(self.db, threshold_s)

    def dead_letter_depth(self) -> dict[str, int]:
        latest = self.lag.latest
        cut = len(self.settings.topic_prefix)
        return {t[cut:]: n for t, n in (latest.dead_letters if latest else {}).items()}

    def lag_json(self, since: float) -> dict[str, Any]:
        latest = self.lag.latest
        cut = len(self.settings.topic_prefix)
        rows = [
            {**asdict(r), "group": r.group[cut:], "topic": r.topic[cut:]}
            for r in (latest.rows if latest else [])
        ]
        return {
            "at": latest.at if latest else None,
            "interval_s": self.config.lag_interval_s,
            "window_s": self.config.lag_window_s,
            "snapshots": self.lag.history.to_json(since, self.settings.topic_prefix),
            "latest": rows,
            "dead_letters": self.dead_letter_depth(),
            "errors": self.errors,
        }

    def _refresh(self, source: str, action: Any) -> None:
        started = time.perf_counter()
        try:
            action()
            self.errors.pop(source, None)
        except BackendUnavailable as exc:
            self.errors[source] = str(exc)[:300]
            ERRORS.labels(source).inc()
            logger.warning("poll failed", extra={"source": source, "error": str(exc)[:300]})
        except Exception as exc:  # a bug: keep polling, but say so loudly
            self.errors[source] = f"{type(exc).__name__}: {exc}"[:300]
            ERRORS.labels(f"{source}_bug").inc()
            logger.exception("poll crashed", extra={"source": source})
        POLL_SECONDS.labels(source).observe(time.perf_counter() - started)

    def refresh_business(self) -> None:
        threshold = self.config.stuck_after_s
        self.business = {"funnel": self.funnel(), "stuck": self.stuck(threshold)}

    def poll_forever(self, stop: threading.Event) -> None:
        next_business = 0.0
        while not stop.is_set():
            started = time.monotonic()
            self._refresh("kafka", self.lag.poll)
            if started >= next_business:
                self._refresh("postgres", self.refresh_business)
                next_business = started + self.config.business_interval_s
            stop.wait(max(0.0, self.config.lag_interval_s - (time.monotonic() - started)))

    def close(self) -> None:
        self.gate.close()
        self.db.close()
