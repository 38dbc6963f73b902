"""Dead letters of the sinks: `<topic>.dlq` with the reason in headers (pipelines' format).

Produced with an idempotent producer and flushed before the batch's offsets are committed,
so a dead letter is never lost between "decided" and "committed".
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, Producer

from pipelines.runtime.dead_letters import dead_letter
from tessera.config import Settings
from tessera.kafka_clients import producer_config

from ..exceptions import DeadLetterError
from . import metrics
from .records import SourceRecord

logger = logging.getLogger(__name__)


class DeadLetters:
    def __init__(self, settings: Settings, sink: str) -> None:
        self.settings = settings
        self.sink = sink
        self._failures: list[KafkaError] = []
        self._producer = Producer(producer_config(settings.kafka_bootstrap, **{"linger.ms": 5}))

    def send(self, source: SourceRecord, reason: str, error: str) -> None:
        out = dead_letter(source.topic, source.key, source.value, reason, error, source.headers)
        self._producer.produce(
            self.settings.topic(out.topic),
            key=out.key.encode(),
            value=out.value,
            headers=out.headers,
            on_delivery=self._delivered,
        )
        metrics.RECORDS.labels(self.sink, source.topic, "dead_letter").inc()
        logger.warning(
            "dead-lettered record",
            extra={
                "sink": self.sink,
                "topic": source.topic,
                "partition": source.partition,
                "offset": source.offset,
                "key": source.key,
                "reason": reason,
                "error": error[:300],
            },
        )

    def _delivered(self, err: KafkaError | None, _msg: Any) -> None:
        if err is not None:
            self._failures.append(err)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every dead letter is acknowledged; raise if any was not."""
        remaining = self._producer.flush(timeout_s)
        failures, self._failures = self._failures, []
        if remaining or failures:
            metrics.ERRORS.labels(self.sink, "dead_letter").inc()
            raise DeadLetterError(
                f"{self.sink}: {remaining} dead letters unacknowledged, {len(failures)} failed"
                + (f" (first: {failures[0]})" if failures else "")
            )
