"""The batch consumer loop shared by every sink: at-least-once, idempotent writes.

Why not exactly-once: a sink's target (PostgreSQL, Redis) is outside Kafka's transaction,
so the guarantee comes from idempotent, version-guarded writes instead. Per batch:
1. Poll up to `max_records` records or `max_wait_s` (read_committed: the pipelines'
   producers are transactional, aborted records are never seen).
2. Decode with the topic's contract; an undecodable record goes to the topic's .dlq
   with the reason in headers (counted), and its offset is committed like the others.
3. Reduce to the newest version per target row, in memory (writer.reduce).
4. Write in one transaction (writer.write); a row the target refuses is dead-lettered.
5. Commit the target's transaction (inside writer.write), then flush the dead letters.
6. Only then commit the Kafka offsets, synchronously.
If the target is unavailable, step 4 raises TransientWriteError: the loop pauses every
assigned partition, backs off exponentially (still polling, so the group membership
stays alive), retries the same batch and resumes; nothing is committed before it is
written. A crash anywhere re-delivers the uncommitted records; rewriting them is a no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import msgspec
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from schemas.base import SCHEMA_VERSION
from schemas.topics import TopicSpec
from tessera.config import Settings

from ..exceptions import OffsetCommitError, TransientWriteError
from . import metrics
from .config import BatchConfig
from .dead_letters import DeadLetters
from .records import SourceRecord
from .writer import BatchWriter

logger = logging.getLogger(__name__)
_VALID_OFFSET = 0


class BatchSink:
    def __init__(
        self, settings: Settings, writer: BatchWriter, config: BatchConfig = BatchConfig()
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.config = config
        self.name = writer.name
        self.inputs: dict[str, TopicSpec] = {settings.topic(s.name): s for s in writer.inputs}
        self.dead_letters = DeadLetters(settings, self.name)
        self._carry: list[Message] = []  # records polled while paused, kept for the next batch
        self._paused = False
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "group.id": settings.topic(f"tessera-sink-{self.name}"),
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "session.timeout.ms": config.session_timeout_ms,
                "max.poll.interval.ms": config.max_poll_interval_ms,
                "fetch.wait.max.ms": 20,
                "log_level": 3,
            }
        )

    def run(self, stop: threading.Event) -> None:
        self.consumer.subscribe(
            list(self.inputs), on_assign=self._on_assign, on_revoke=self._on_revoke
        )
        try:
            while not stop.is_set():
                # 1. Poll a batch.
                polled = self.consumer.consume(self.config.max_records, self.config.max_wait_s)
                messages, self._carry = self._carry + polled, []
                if messages:
                    self.process(messages, stop)
        finally:
            self.consumer.close()
            self.writer.close()

    def process(self, messages: list[Message], stop: threading.Event) -> None:
        started = time.perf_counter()
        records: list[Message] = []
        rows: list[Any] = []
        for message in messages:
            if message.error() is not None:
                self._consume_error(message)
                continue
            records.append(message)
            # 2. Decode (dead-letter what does not decode) and project to rows.
            rows.extend(self._rows_of(message))
        # 3. Reduce to the newest version per row.
        batch = self.writer.reduce(rows)
        # 4-5. Write and commit the target's transaction, retrying while it is unavailable.
        if not self._write(batch, stop):
            return  # stopping before the batch was written: commit nothing
        self.dead_letters.flush()
        # 6. Only now commit the offsets.
        self._commit(records)
        metrics.BATCH_RECORDS.labels(self.name).observe(len(records))
        metrics.BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - started)

    def _rows_of(self, message: Message) -> list[Any]:
        spec = self.inputs[message.topic()]
        source = SourceRecord(
            spec.name,
            message.partition(),
            message.offset(),
            (message.key() or b"").decode(errors="replace"),
            message.value() or b"",
            list(message.headers() or ()),
        )
        if message.value() is None:  # a tombstone on a compacted topic: nothing to write
            metrics.RECORDS.labels(self.name, spec.name, "ignored").inc()
            return []
        decoded = self._decode(spec, source)
        if decoded is None:
            return []
        try:
            rows = list(self.writer.project(spec, decoded, source))
        except (ValueError, TypeError, KeyError) as exc:
            self.dead_letters.send(source, "UNMAPPABLE", f"{type(exc).__name__}: {exc}")
            return []
        metrics.RECORDS.labels(self.name, spec.name, "written" if rows else "ignored").inc()
        return rows

    def _decode(self, spec: TopicSpec, source: SourceRecord) -> Any | None:
        assert spec.decoder is not None  # noqa: S101 - sinks only subscribe to input topics
        try:
            message = spec.decoder.decode(source.value)
        except msgspec.ValidationError as exc:
            self.dead_letters.send(source, "INVALID", str(exc))
            return None
        except msgspec.DecodeError as exc:
            self.dead_letters.send(source, "UNDECODABLE", str(exc))
            return None
        if message.schema_version > SCHEMA_VERSION:
            reason = f"schema_version {message.schema_version} > supported {SCHEMA_VERSION}"
            self.dead_letters.send(source, "UNSUPPORTED_VERSION", reason)
            return None
        return message

    def _write(self, batch: Any, stop: threading.Event) -> bool:
        attempt = 0
        while True:
            try:
                rejected = self.writer.write(batch)
                break
            except TransientWriteError as exc:
                metrics.ERRORS.labels(self.name, "target_unavailable").inc()
                delay = self.config.backoff.delay(attempt, self.name)
                logger.warning(
                    "target unavailable; partitions paused, retrying the batch",
                    extra={"sink": self.name, "attempt": attempt + 1, "retry_in_s": delay,
                           "error": str(exc)[:300]},
                )
                self._pause()
                attempt += 1
                if not self._idle(delay, stop):
                    return False
        for item in rejected:
            self.dead_letters.send(item.source, item.reason, item.error)
        self._resume(attempt)
        return True

    def _idle(self, seconds: float, stop: threading.Event) -> bool:
        """Keep polling (heartbeats, rebalances) while paused; keep whatever arrives."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            message = self.consumer.poll(min(remaining, 0.2))
            if message is not None:
                self._carry.append(message)
        return False

    def _pause(self) -> None:
        if not self._paused:
            self._paused = True
            metrics.PAUSED.labels(self.name).set(1)
            self.consumer.pause(self.consumer.assignment())

    def _resume(self, attempts: int) -> None:
        if self._paused:
            self._paused = False
            metrics.PAUSED.labels(self.name).set(0)
            self.consumer.resume(self.consumer.assignment())
            logger.info("target back; resumed", extra={"sink": self.name, "attempts": attempts})

    def _commit(self, records: list[Message]) -> None:
        positions: dict[tuple[str, int], int] = {}
        for message in records:
            tp = (message.topic(), message.partition())
            positions[tp] = max(positions.get(tp, 0), message.offset() + 1)
        carried = {(m.topic(), m.partition()) for m in self._carry}
        assigned = self.consumer.assignment()
        # The consumer position also skips transaction markers after the last record, so a
        # fully consumed partition shows no lag; not where records are carried over.
        for tp in self.consumer.position(assigned) if assigned else ():
            key = (tp.topic, tp.partition)
            if tp.offset >= _VALID_OFFSET and key not in carried and key in positions:
                positions[key] = max(positions[key], tp.offset)
        owned = {(tp.topic, tp.partition) for tp in assigned}
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items() if (t, p) in owned]
        if not offsets:
            return
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            metrics.ERRORS.labels(self.name, "offset_commit").inc()
            error = OffsetCommitError(f"{self.name}: offset commit failed: {exc}")
            logger.warning("%s; rows are written, a redelivery is a no-op", error)

    def _consume_error(self, message: Message) -> None:
        error = message.error()
        metrics.ERRORS.labels(self.name, "consume").inc()
        logger.error("consume error", extra={"sink": self.name, "error": str(error)})
        if error is not None and error.fatal():
            raise KafkaException(error)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._paused and partitions:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        # The new owner reads these from the last committed offset; drop our copies.
        self._carry = [m for m in self._carry if (m.topic(), m.partition()) not in revoked]
