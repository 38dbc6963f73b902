"""The dead-letter browser: the newest records of the `.dlq` topics, and replay of one record
to the topic it came from (the original key and bytes, with its trace context).

Browsing masks the payload (contact data, card numbers, tokens) like the logs do; a
replay reads the record again from Kafka by (topic, partition, offset), so what goes back
is exactly what was dead-lettered, never something a client sent.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from pipelines.runtime.application import PROPAGATED_HEADERS
from pipelines.runtime.dead_letters import REASON_HEADER, SOURCE_HEADER
from schemas.topics import BY_NAME, dead_letter_topics
from tessera.config import Settings
from tessera.kafka_clients import producer_config
from tessera.telemetry import mask

from .exceptions import BadRequest, NotFound, ReplayError
from .metrics import REPLAYS

logger = logging.getLogger(__name__)
DLQ_NAMES = tuple(spec.name for spec in dead_letter_topics())


class DeadLetterBrowser:
    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "group.id": f"{self.settings.topic('tessera-ops-browser')}-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "log_level": 3,
            }
        )

    def _check(self, name: str) -> str:
        if name not in DLQ_NAMES:
            raise BadRequest(f"{name!r} is not a dead-letter topic ({', '.join(DLQ_NAMES)})")
        return self.settings.topic(name)

    def browse(self, name: str | None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest `limit` records of one .dlq topic (or of all), newest first."""
        topics = [self._check(name)] if name else [self.settings.topic(n) for n in DLQ_NAMES]
        consumer = self._consumer()
        try:
            metadata = consumer.list_topics(timeout=self.timeout_s).topics
            assignment, ends = [], {}
            for topic in (t for t in topics if t in metadata):
                for p in metadata[topic].partitions:
                    low, high = consumer.get_watermark_offsets(
                        TopicPartition(topic, p), timeout=self.timeout_s
                    )
                    if high > low:
                        assignment.append(TopicPartition(topic, p, max(low, high - limit)))
                        ends[(topic, p)] = high
            records = self._read(consumer, assignment, ends) if assignment else []
        finally:
            consumer.close()
        records.sort(key=lambda r: (r["timestamp"], r["offset"]), reverse=True)
        return records[:limit]

    def _read(self, consumer: Consumer, assignment: list, ends: dict) -> list[dict[str, Any]]:
        consumer.assign(assignment)
        out: list[dict[str, Any]] = []
        deadline, idle_until = time.monotonic() + self.timeout_s, time.monotonic() + 1.5
        while ends and time.monotonic() < min(deadline, idle_until):
            for message in consumer.consume(500, 0.2):
                if message.error() is not None:
                    continue
                idle_until = time.monotonic() + 0.5
                out.append(self.describe(message))
                key = (message.topic(), message.partition())
                if message.offset() >= ends.get(key, 0) - 1:
                    ends.pop(key, None)
        return out

    def describe(self, message: Message) -> dict[str, Any]:
        headers = {k: (v or b"").decode(errors="replace") for k, v in message.headers() or ()}
        cut = len(self.settings.topic_prefix)
        return {
            "topic": message.topic()[cut:],
            "partition": message.partition(),
            "offset": message.offset(),
            "timestamp": message.timestamp()[1],
            "key": mask((message.key() or b"").decode(errors="replace")),
            "reason": headers.get(REASON_HEADER, ""),
            "source_topic": headers.get(SOURCE_HEADER, message.topic()[cut:].removesuffix(".dlq")),
            "headers": {k: mask(v) for k, v in headers.items()},
            "value": mask((message.value() or b"").decode(errors="replace"))[:2000],
        }

    def fetch(self, name: str, partition: int, offset: int) -> Message:
        consumer = self._consumer()
        try:
            consumer.assign([TopicPartition(self._check(name), partition, offset)])
            deadline = time.monotonic() + self.timeout_s
            while time.monotonic() < deadline:
                for message in consumer.consume(1, 0.2):
                    if message.error() is None and message.offset() == offset:
                        return message
                    raise NotFound(f"no record at {name}/{partition}@{offset}")
            raise NotFound(f"no record at {name}/{partition}@{offset}")
        finally:
            consumer.close()

    def replay(self, name: str, partition: int, offset: int, actor: str) -> dict[str, Any]:
        """Produce the dead letter's key and value to its source topic; where it landed."""
        message = self.fetch(name, partition, offset)
        headers = dict(message.headers() or ())
        source = (headers.get(SOURCE_HEADER) or name.removesuffix(".dlq").encode()).decode()
        if source not in BY_NAME:
            raise ReplayError(f"source topic {source!r} is not in the registry")
        carried = [(k, v) for k, v in message.headers() or () if k in PROPAGATED_HEADERS]
        carried += [
            ("x-replayed-from", f"{name}/{partition}@{offset}".encode()),
            ("x-replayed-by", actor.encode()),
        ]
        delivered: list[Any] = []
        producer = Producer(producer_config(self.settings.kafka_bootstrap))
        producer.produce(
            self.settings.topic(source),
            key=message.key(),
            value=message.value(),
            headers=carried,
            on_delivery=lambda err, msg: delivered.append((err, msg)),
        )
        if producer.flush(self.timeout_s) or not delivered or delivered[0][0] is not None:
            raise ReplayError(f"{source} did not acknowledge the replay: {delivered}")
        landed = delivered[0][1]
        REPLAYS.labels(source).inc()
        logger.info(
            "dead letter replayed",
            extra={"from": f"{name}/{partition}@{offset}", "to": source, "by": actor},
        )
        return {"topic": source, "partition": landed.partition(), "offset": landed.offset()}
