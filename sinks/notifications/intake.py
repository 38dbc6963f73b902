"""The Kafka side of the notification service: consume both topics, decode each record
into a Pending (or dead-letter it), pause while too much is buffered, commit each
partition up to its oldest unfinished record, hand revoked partitions back cleanly."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from schemas.base import SCHEMA_VERSION
from schemas.notifications import DECODER
from schemas.topics import NOTIFICATION_QUEUE, NOTIFICATION_RETRY
from tessera.config import Settings
from tessera.kafka_clients import poll_batch

from ..base import metrics as sink_metrics
from ..base.records import SourceRecord
from .outbox import SINK, Outbox
from .retry import ATTEMPT_HEADER, NOT_BEFORE_HEADER, OffsetTracker, Pending, header_int

logger = logging.getLogger(__name__)
Revoked = Callable[[set[tuple[str, int]]], None]


class Intake:
    def __init__(self, settings: Settings, outbox: Outbox, on_revoked: Revoked) -> None:
        self.outbox = outbox
        self.on_revoked = on_revoked
        self.offsets = OffsetTracker()
        self.paused = False
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "group.id": settings.topic("tessera-notifications"),
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 20,
                "log_level": 3,
            }
        )
        topics = [settings.topic(s.name) for s in (NOTIFICATION_QUEUE, NOTIFICATION_RETRY)]
        self.consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)

    def poll(self, timeout_s: float) -> list[tuple[int, Pending]]:
        """Decoded records with the time each is due (epoch ms; 0: now)."""
        received = []
        for message in poll_batch(self.consumer, 500, timeout_s):
            item = self._receive(message)
            if item is not None:
                received.append(item)
        return received

    def _receive(self, message: Message) -> tuple[int, Pending] | None:
        error = message.error()
        if error is not None:
            sink_metrics.ERRORS.labels(SINK, "consume").inc()
            logger.error("consume error", extra={"error": str(error)})
            if error.fatal():
                raise KafkaException(error)
            return None
        headers = list(message.headers() or ())
        source = SourceRecord(
            NOTIFICATION_QUEUE.name,  # dead letters of both topics go to notification-queue.dlq
            message.partition(),
            message.offset(),
            (message.key() or b"").decode(errors="replace"),
            message.value() or b"",
            headers,
        )
        topic = message.topic()
        self.offsets.started((topic, message.partition()), message.offset())
        try:
            request = DECODER.decode(source.value)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
            self.outbox.dead_letter(Pending(source, topic, None, 0), "UNDECODABLE", str(exc))
            return None
        if request.schema_version > SCHEMA_VERSION:
            reason = f"schema_version {request.schema_version} > supported {SCHEMA_VERSION}"
            self.outbox.dead_letter(Pending(source, topic, None, 0), "UNSUPPORTED_VERSION", reason)
            return None
        pending = Pending(source, topic, request, header_int(headers, ATTEMPT_HEADER, 1))
        return header_int(headers, NOT_BEFORE_HEADER, 0), pending

    def finished(self, pending: Pending) -> None:
        self.offsets.finished(
            (pending.broker_topic, pending.source.partition), pending.source.offset
        )

    def owns(self, pending: Pending) -> bool:
        return self.offsets.owns((pending.broker_topic, pending.source.partition))

    def flow_control(self, buffered: int, limit: int) -> None:
        if not self.paused and buffered >= limit:
            self.paused = True
            self.consumer.pause(self.consumer.assignment())
        elif self.paused and buffered < limit // 2:
            self.paused = False
            self.consumer.resume(self.consumer.assignment())

    def commit(self, only: set[tuple[str, int]] | None = None) -> None:
        moved = self.offsets.to_commit()
        positions = {tp: o for tp, o in moved.items() if only is None or tp in only}
        if not positions:
            return
        try:
            self.consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()],
                asynchronous=False,
            )
            self.offsets.committed(positions)
        except KafkaException as exc:
            sink_metrics.ERRORS.labels(SINK, "offset_commit").inc()
            logger.warning("offset commit failed; retrying", extra={"error": str(exc)})

    def close(self) -> None:
        self.consumer.close()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.paused and partitions:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self.outbox.flush()  # outcomes acknowledged, so their offsets are committable
        self.commit(revoked)
        self.on_revoked(revoked)
        for tp in revoked:
            self.offsets.forget(tp)
