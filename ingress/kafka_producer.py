"""Commands to Kafka, awaited until the broker acknowledged them (acks=all, idempotent).

confluent_kafka's produce() only queues; delivery reports arrive through poll(). A
dedicated thread polls and hands each batch of reports to the event loop with one
call_soon_threadsafe, which resolves the per-record futures: the loop never blocks and
the HTTP handler answers 202 only once its record is durable.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from tessera.kafka_clients import PARTITIONER

from .config import BackendConfig
from .exceptions import BackendUnavailable
from .metrics import BACKEND_FAILURES, KAFKA_ACK

log = logging.getLogger(__name__)


class CommandProducer:
    def __init__(self, bootstrap: str, config: BackendConfig) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "partitioner": PARTITIONER,
                "client.id": "tessera-ingress",
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": config.kafka_linger_ms,
                "message.timeout.ms": config.kafka_delivery_timeout_ms,
                "error_cb": self._on_error,
                "log_level": 3,
            }
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reports: list[tuple[asyncio.Future[None], KafkaError | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll_loop, name="kafka-poll", daemon=True)
        self.last_error: str | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    async def send(
        self, topic: str, key: str, value: bytes, headers: list[tuple[str, str]]
    ) -> None:
        """Return once the broker acknowledged the record; BackendUnavailable otherwise."""
        if self._loop is None:
            raise RuntimeError("CommandProducer.start() was not called")
        future: asyncio.Future[None] = self._loop.create_future()
        started = time.perf_counter()
        try:
            self._producer.produce(
                topic,
                value,
                key,
                headers=headers,
                on_delivery=lambda err, _msg: self._reports.append((future, err)),
            )
        except (BufferError, KafkaException) as exc:
            BACKEND_FAILURES.labels("kafka", "produce").inc()
            raise BackendUnavailable("kafka", f"cannot queue: {exc}") from exc
        await future
        KAFKA_ACK.observe(time.perf_counter() - started)

    async def ready(self, topic: str, timeout_s: float = 3.0) -> bool:
        """The broker answers metadata for `topic` and it has a leader (a topic created a
        moment ago may not have one yet: asked again until the timeout)."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                metadata = await asyncio.to_thread(
                    self._producer.list_topics, topic, max(remaining, 0.1)
                )
            except KafkaException:
                metadata = None
            found = metadata.topics.get(topic) if metadata is not None else None
            if found is not None and found.error is None:
                return True
            if time.monotonic() + 0.2 > deadline:
                return False
            await asyncio.sleep(0.2)

    async def close(self, timeout_s: float = 5.0) -> None:
        """Stop polling after flushing what is queued (the poll thread flushes)."""
        self._stop.set()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, timeout_s + 1)
        else:
            await asyncio.to_thread(self._producer.flush, timeout_s)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)
            self._dispatch()
        self._producer.flush(5.0)
        self._dispatch()

    def _dispatch(self) -> None:
        if not self._reports:
            return
        batch, self._reports = self._reports, []
        try:
            self._loop.call_soon_threadsafe(_resolve, batch)  # type: ignore[union-attr]
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _on_error(self, error: KafkaError) -> None:
        self.last_error = str(error)
        log.warning("kafka producer error", extra={"error": str(error)})


def _resolve(batch: list[tuple[asyncio.Future[None], Any]]) -> None:
    for future, error in batch:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            BACKEND_FAILURES.labels("kafka", "delivery").inc()
            future.set_exception(BackendUnavailable("kafka", f"not acknowledged: {error}"))
