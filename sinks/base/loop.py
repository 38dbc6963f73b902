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
6. Only then commit the Kafka offsets of this batch, synchronously.
Steps 4-5 of batch N run on a writer thread while steps 1-3 of batch N+1 run here (two
cores: Python decodes while PostgreSQL merges), and step 6 of batch N runs here while the
writer starts on N+1. Offsets are committed in batch order, each only after its batch's
database transaction committed, so nothing is ever committed unwritten.
If the target is unavailable, step 4 raises TransientWriteError: the loop pauses every
assigned partition, backs off exponentially (still polling, so the group membership
stays alive), retries the same batch and resumes. A crash anywhere re-delivers the
uncommitted records; rewriting them is a no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from tessera.config import Settings

from ..exceptions import TransientWriteError
from . import metrics
from .config import DEFAULT_BATCH, BatchConfig
from .consumer import Offsets, SinkConsumer
from .dead_letters import DeadLetters
from .decode import RecordDecoder
from .writer import BatchWriter

logger = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A batch after steps 1-3, and the offsets its commit (step 6) will store."""

    batch: Any
    offsets: Offsets
    records: int
    started: float


class BatchSink:
    def __init__(
        self, settings: Settings, writer: BatchWriter, config: BatchConfig = DEFAULT_BATCH
    ) -> None:
        self.writer = writer
        self.config = config
        self.name = writer.name
        self.dead_letters = DeadLetters(settings, self.name)
        inputs = {settings.topic(s.name): s for s in writer.inputs}
        self.decoder = RecordDecoder(inputs, writer, self.dead_letters)
        group = settings.topic(f"tessera-sink-{self.name}")
        self.kafka = SinkConsumer(self.name, settings.kafka_bootstrap, group, config)
        self.kafka.subscribe(list(inputs))
        self._target_down = threading.Event()
        self._halt = threading.Event()  # set when run() exits: the writer stops retrying
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-writer")

    def run(self, stop: threading.Event) -> None:
        in_flight: tuple[Future[bool], Prepared] | None = None
        try:
            while not stop.is_set():
                prepared = self._prepare(self.kafka.poll_batch())  # 1-3, overlapping the write
                written = None
                if in_flight is not None:
                    if not self._wait(in_flight[0]):
                        return  # stopped before the batch was written: commit nothing
                    written, in_flight = in_flight[1], None
                if prepared is not None:
                    in_flight = (self._executor.submit(self._write, prepared, stop), prepared)
                if written is not None:
                    self._complete(written)  # 6, while the writer starts on the next batch
            if in_flight is not None and self._wait(in_flight[0]):
                self._complete(in_flight[1])
        finally:
            self._halt.set()
            self._executor.shutdown(wait=True)
            self.kafka.close()
            self.writer.close()

    def _prepare(self, messages: list[Message]) -> Prepared | None:
        if not messages:
            return None
        started = time.perf_counter()
        offsets: Offsets = {}
        rows: list[Any] = []
        for message in messages:
            if message.error() is not None:
                self.kafka.consume_error(message)
                continue
            # In offset order per partition, so the last one wins.
            offsets[(message.topic(), message.partition())] = message.offset() + 1
            rows += self.decoder.rows_of(message)  # 2. decode, dead-letter, project
        offsets = self.kafka.positions(offsets)
        batch = self.writer.reduce(rows)  # 3. newest version per row
        self.decoder.count_batch()
        return Prepared(batch, offsets, len(messages), started)

    def _write(self, prepared: Prepared, stop: threading.Event) -> bool:
        """Steps 4-5 on the writer thread: write (retried while the target is unavailable),
        then dead-letter what the target refused; False if stopped before it was written."""
        attempt = 0
        while True:
            try:
                rejected = self.writer.write(prepared.batch)  # 4-5
                break
            except TransientWriteError as exc:
                self._target_down.set()
                metrics.ERRORS.labels(self.name, "target_unavailable").inc()
                delay = self.config.backoff.delay(attempt, self.name)
                logger.warning(
                    "target unavailable; partitions paused, retrying the batch",
                    extra={
                        "sink": self.name,
                        "attempt": attempt + 1,
                        "retry_in_s": round(delay, 3),
                        "error": str(exc)[:300],
                    },
                )
                attempt += 1
                if self._sleep(delay, stop):
                    return False  # stopping: nothing of this batch is committed
        for item in rejected:
            self.dead_letters.send(item.source, item.reason, item.error)
        self.dead_letters.flush()  # durable before the offsets are committed
        self._target_down.clear()
        return True

    def _sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Back off; True as soon as the sink is stopping."""
        deadline = time.monotonic() + seconds
        while not (stop.is_set() or self._halt.is_set()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._halt.wait(min(remaining, 0.1))
        return True

    def _wait(self, future: Future[bool]) -> bool:
        """Until the writer is done with a batch; pause and keep polling while it retries."""
        while True:
            try:
                return future.result(timeout=0.2)
            except FutureTimeout:
                if self._target_down.is_set():
                    self.kafka.pause()
                if self.kafka.paused:
                    self.kafka.keep_alive()

    def _complete(self, prepared: Prepared) -> None:
        """Step 6 for a written batch: commit its offsets, resume if paused."""
        self.kafka.commit(prepared.offsets)
        self.kafka.resume()
        metrics.BATCH_RECORDS.labels(self.name).observe(prepared.records)
        metrics.BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - prepared.started)
