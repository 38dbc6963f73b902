"""Where failed notifications go: notification-retry (attempt + 1, due after an exponential
backoff) or notification-queue.dlq (N attempts, or a permanent error). A record counts as
finished -- its offset may be committed -- only once the broker acknowledged that record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, Producer

from pipelines.runtime.dead_letters import dead_letter
from schemas.base import now_ms
from schemas.topics import NOTIFICATION_RETRY
from tessera.config import Settings

from ..base import metrics as sink_metrics
from ..base.config import Backoff
from .retry import ATTEMPT_HEADER, Pending, retry_headers

logger = logging.getLogger(__name__)
SINK = "notifications"  # the metrics label of this process
Finished = Callable[[Pending], None]


class Outbox:
    def __init__(self, settings: Settings, backoff: Backoff, finished: Finished) -> None:
        self.settings = settings
        self.backoff = backoff
        self.finished = finished
        self.failures: list[str] = []  # an unacknowledged outcome: the service must stop
        self.producer = Producer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "log_level": 3,
            }
        )

    def retry(self, pending: Pending, error: str) -> None:
        delay = self.backoff.delay(pending.attempt - 1, pending.request.notification_id)
        due = now_ms() + int(delay * 1000)
        headers = retry_headers(pending.source.headers, pending.attempt + 1, due, error)
        topic = self.settings.topic(NOTIFICATION_RETRY.name)
        self._produce(topic, pending, pending.source.value, headers)

    def dead_letter(self, pending: Pending, reason: str, error: str) -> None:
        source = pending.source
        out = dead_letter(source.topic, source.key, source.value, reason, error, source.headers)
        headers = [*out.headers, (ATTEMPT_HEADER, str(pending.attempt).encode())]
        sink_metrics.RECORDS.labels(SINK, source.topic, "dead_letter").inc()
        self._produce(self.settings.topic(out.topic), pending, out.value, headers)

    def _produce(self, topic: str, pending: Pending, value: bytes, headers: Any) -> None:
        def acknowledged(err: KafkaError | None, _msg: Any) -> None:
            if err is not None:  # the outcome is not durable: never commit past it
                sink_metrics.ERRORS.labels(SINK, "produce").inc()
                logger.error("produce failed", extra={"topic": topic, "error": str(err)})
                self.failures.append(f"produce to {topic} failed: {err}")
                return
            self.finished(pending)

        self.producer.produce(
            topic,
            key=pending.source.key.encode(),
            value=value,
            headers=headers,
            on_delivery=acknowledged,
        )

    def poll(self) -> None:
        self.producer.poll(0)

    def flush(self, timeout_s: float = 10.0) -> None:
        self.producer.flush(timeout_s)
