"""The Kafka side of a batch sink: polling with carry-over, pause/resume while the target
is down, batch positions and synchronous offset commits, rebalance callbacks."""

from __future__ import annotations

import logging
import time

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from tessera.kafka_clients import poll_batch

from . import metrics
from .config import BatchConfig

logger = logging.getLogger(__name__)
Offsets = dict[tuple[str, int], int]


class SinkConsumer:
    def __init__(self, name: str, bootstrap: str, group: str, config: BatchConfig) -> None:
        self.name = name
        self.config = config
        self.paused = False
        self._carry: list[Message] = []  # polled while waiting for a write, kept for later
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # The pipelines' producers are transactional: never see aborted records.
                "isolation.level": "read_committed",
                "session.timeout.ms": config.session_timeout_ms,
                "max.poll.interval.ms": config.max_poll_interval_ms,
                "fetch.wait.max.ms": 20,
                "log_level": 3,
            }
        )

    def subscribe(self, topics: list[str]) -> None:
        self.consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)

    def poll_batch(self) -> list[Message]:
        """Up to max_records records or max_wait_s, after whatever was carried over."""
        polled = poll_batch(self.consumer, self.config.max_records, self.config.max_wait_s)
        messages, self._carry = self._carry + polled, []
        return messages

    def positions(self, offsets: Offsets) -> Offsets:
        """The batch's commit offsets, advanced to the consumer position where that skips
        only transaction markers (so a fully consumed partition shows no lag). Call right
        after poll_batch: later polls belong to later batches."""
        assigned = self.consumer.assignment()
        for tp in self.consumer.position(assigned) if assigned else ():
            key = (tp.topic, tp.partition)
            if key in offsets and tp.offset > offsets[key]:
                offsets[key] = tp.offset
        return offsets

    def keep_alive(self) -> None:
        """Poll while paused: group membership and rebalances; keep whatever arrives."""
        message = self.consumer.poll(0.05)
        if message is not None:
            self._carry.append(message)

    def pause(self) -> None:
        if not self.paused:
            self.paused = True
            metrics.PAUSED.labels(self.name).set(1)
            self.consumer.pause(self.consumer.assignment())

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            metrics.PAUSED.labels(self.name).set(0)
            self.consumer.resume(self.consumer.assignment())
            logger.info("target available again; partitions resumed", extra={"sink": self.name})

    def commit(self, offsets: Offsets) -> None:
        """Synchronously, for the partitions still ours. A failure is logged and counted:
        the rows are written, so the redelivery it causes is a no-op."""
        owned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        commit = [TopicPartition(t, p, o) for (t, p), o in offsets.items() if (t, p) in owned]
        if not commit:
            return
        try:
            started = time.perf_counter()
            self.consumer.commit(offsets=commit, asynchronous=False)
            metrics.COMMIT_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        except KafkaException as exc:
            metrics.ERRORS.labels(self.name, "offset_commit").inc()
            logger.warning(
                "offset commit failed; the rows are written, so a redelivery is a no-op",
                extra={"sink": self.name, "error": str(exc)},
            )

    def consume_error(self, message: Message) -> None:
        error = message.error()
        metrics.ERRORS.labels(self.name, "consume").inc()
        logger.error("consume error", extra={"sink": self.name, "error": str(error)})
        if error is not None and error.fatal():
            raise KafkaException(error)

    def close(self) -> None:
        self.consumer.close()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.paused and partitions:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        # The new owner reads these from the last committed offset; drop our copies.
        self._carry = [m for m in self._carry if (m.topic(), m.partition()) not in revoked]
