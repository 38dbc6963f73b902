"""Commands to Kafka, awaited until the broker acknowledged them (acks=all, idempotent).

confluent_kafka's produce() only queues; delivery reports arrive through poll(). The
event loop itself polls, without blocking (poll(0)): every `kafka_ack_poll_ms` while a
record awaits its ack, every `idle_poll_interval_s` otherwise (error callbacks). Reports
resolve the per-record futures right there, so the HTTP handler answers 202 only once
its record is durable. A polling thread would do the same with a GIL hand-over and a
loop wake-up per batch of reports, which costs the loop more than the timer does.

librdkafka's own threads run as SCHED_BATCH (client_threads.py) so that waking them does
not preempt the loop; threads started later (a broker named by metadata) get the policy
at `ready()` and on a timer tick every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

from confluent_kafka import KafkaError, KafkaException, Producer

from tessera.kafka_clients import PARTITIONER

from .client_threads import ClientThreads
from .config import BackendConfig
from .exceptions import BackendUnavailable
from .metrics import BACKEND_FAILURES, KAFKA_ACK

log = logging.getLogger(__name__)


class CommandProducer:
    idle_poll_interval_s = 0.2
    thread_check_interval_s = 5.0

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
        self.ack_poll_interval_s = config.kafka_ack_poll_ms / 1000
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight = 0
        self._tick: asyncio.TimerHandle | None = None
        self._tick_fast = False
        self.last_error: str | None = None
        self.threads = ClientThreads(config.kafka_client_threads)
        self._threads_checked_at = 0.0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._check_threads()
        self._schedule(fast=False)

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
                on_delivery=partial(_resolve, future),
            )
        except (BufferError, KafkaException) as exc:
            BACKEND_FAILURES.labels("kafka", "produce").inc()
            raise BackendUnavailable("kafka", f"cannot queue: {exc}") from exc
        self._in_flight += 1
        if not self._tick_fast:
            self._schedule(fast=True)
        elif self._in_flight > 1:
            self._serve_reports()  # under load acks are found here, not a timer tick later
        try:
            await future
        finally:
            self._in_flight -= 1
        KAFKA_ACK.observe(time.perf_counter() - started)

    def _schedule(self, *, fast: bool) -> None:
        if self._tick is not None:
            self._tick.cancel()
        self._tick_fast = fast
        interval = self.ack_poll_interval_s if fast else self.idle_poll_interval_s
        self._tick = self._loop.call_later(interval, self._poll)  # type: ignore[union-attr]

    def _poll(self) -> None:
        self._tick = None
        self._serve_reports()
        if time.monotonic() - self._threads_checked_at > self.thread_check_interval_s:
            self._check_threads()  # a listing of /proc/self/task every few seconds
        self._schedule(fast=self._in_flight > 0)

    def _check_threads(self) -> None:
        self._threads_checked_at = time.monotonic()
        changed = self.threads.apply()
        if changed:
            log.info("librdkafka threads set to SCHED_BATCH", extra={"threads": changed})

    def _serve_reports(self) -> None:
        try:
            self._producer.poll(0)  # delivery reports and error callbacks run here
        except Exception:  # a raising callback must not stop the polling
            log.exception("kafka producer poll failed")
            BACKEND_FAILURES.labels("kafka", "poll").inc()

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
                self._check_threads()  # the broker threads exist once metadata named them
                return True
            if time.monotonic() + 0.2 > deadline:
                return False
            await asyncio.sleep(0.2)

    async def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (its reports resolve the waiting requests), then stop."""
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        deadline = time.monotonic() + timeout_s
        while self._producer.flush(0) > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        self._producer.poll(0)

    def _on_error(self, error: KafkaError) -> None:
        self.last_error = str(error)
        log.warning("kafka producer error", extra={"error": str(error)})


def _resolve(future: asyncio.Future[None], error: KafkaError | None, _msg: object) -> None:
    if future.done():  # the request was cancelled (client went away)
        return
    if error is None:
        future.set_result(None)
    else:
        BACKEND_FAILURES.labels("kafka", "delivery").inc()
        future.set_exception(BackendUnavailable("kafka", f"not acknowledged: {error}"))
