"""The payment worker: payment-commands in, payment-events out, gateway calls concurrent.

Guarantee: at-least-once input with idempotent effects. quixstreams is synchronous, so a
slow gateway call inside it would stall every partition the process owns; this worker
instead runs calls concurrently on asyncio (bounded by the gateway's bulkhead and by
`max_in_flight` records) and serializes calls per booking. Per record:
1. Record the intent (idempotency key) in the local ledger, unless a result is there.
2. Call the gateway with the command's idempotency key (timeouts/retries/breaker inside).
3. Record the result, then produce the event (idempotent producer, acks=all).
4. When the broker acknowledges the event, mark the offset finished.
5. Every `commit_interval_s`, commit per partition the lowest unfinished offset.
A crash anywhere re-delivers the record: step 1 finds the result (re-emit it) or the
intent (call again with the same key: the gateway answers the original outcome). The
saga ignores a duplicate event, so nothing is charged or counted twice.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from schemas import codec
from schemas.payment_commands import PaymentCommand
from schemas.topics import PAYMENT_COMMANDS, PAYMENT_EVENTS
from tessera import telemetry, tracing
from tessera.config import Settings
from tessera.kafka_clients import poll_batch, producer_config
from tessera.metrics import bound

from ..runtime import metrics
from ..runtime.application import (
    PROPAGATED_HEADERS,
    consumer_membership,
    decode_or_dead_letter,
)
from .call import call_gateway
from .gateways.base import PaymentGateway
from .intents import IntentLedger
from .offsets import OffsetTracker
from .outcomes import event_for

logger = logging.getLogger(__name__)
ROLE = "payment"


class PaymentWorker:
    def __init__(
        self, settings: Settings, gateway: PaymentGateway, max_in_flight: int = 1000
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.max_in_flight = max_in_flight
        self.source = settings.topic(PAYMENT_COMMANDS.name)
        self.offsets = OffsetTracker()
        self.ledger = IntentLedger(settings.state_dir(ROLE))
        self._key_chains: dict[str, asyncio.Future[None]] = {}
        self._stopping = asyncio.Event()
        tracing.setup(ROLE)
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "group.id": settings.topic(f"tessera-{ROLE}"),
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 20,
                "log_level": 3,
            }
            | consumer_membership(settings, ROLE)
        )
        self.producer = Producer(producer_config(settings.kafka_bootstrap))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        self.consumer.subscribe([self.source], on_revoke=self._on_revoke)
        committer = asyncio.create_task(self._commit_periodically())
        try:
            while not self._stopping.is_set():
                if self.offsets.in_flight >= self.max_in_flight:
                    await asyncio.sleep(0.005)
                    self.producer.poll(0)
                    continue
                batch = await loop.run_in_executor(None, poll_batch, self.consumer, 200, 0.05)
                for message in batch:
                    self._dispatch(message)
                self.producer.poll(0)
        finally:
            await self._drain()
            committer.cancel()
            self._commit()
            self.consumer.close()
            self.ledger.close()
            await self.gateway.close()

    def _dispatch(self, message: Message) -> None:
        if message.error() is not None:
            metrics.ERRORS.labels(ROLE, "consume").inc()
            logger.error("consume error: %s", message.error())
            return
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        self.offsets.started(topic, partition, offset)
        key = (message.key() or b"").decode()
        headers = [(k, v) for k, v in (message.headers() or ()) if k in PROPAGATED_HEADERS]
        command, rejected = decode_or_dead_letter(PAYMENT_COMMANDS, key, message.value(), headers)
        if rejected is not None:
            metrics.DEAD_LETTERS.labels(ROLE, PAYMENT_COMMANDS.name, "INVALID").inc()
            self._produce(
                self.settings.topic(rejected.topic),
                key,
                rejected.value,
                rejected.headers,
                (topic, partition, offset),
            )
            return
        previous = self._key_chains.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._key_chains[key] = done
        asyncio.create_task(
            self._traced(command, key, headers, (topic, partition, offset), previous, done)
        )

    async def _traced(self, command: PaymentCommand, key: str, headers: Any, *rest: Any) -> None:
        """The record's span (child of its traceparent) and log fields, in this task's context."""
        telemetry.bind(booking_id=key, correlation_id=command.correlation_id)
        with tracing.start_span_from_headers(f"{ROLE} {type(command).__name__}", headers):
            await self._handle(command, key, headers, *rest)

    async def _handle(
        self,
        command: PaymentCommand,
        key: str,
        headers: list[tuple[str, bytes]],
        position: tuple[str, int, int],
        previous: asyncio.Future[None] | None,
        done: asyncio.Future[None],
    ) -> None:
        try:
            if previous is not None:
                await previous  # one call at a time per booking, in offset order
            recorded = self.ledger.result_of(command.idempotency_key)
            if recorded is None:
                self.ledger.record_intent(command.idempotency_key)
                started = time.perf_counter()
                result = await call_gateway(self.gateway, command)
                event = codec.encode(event_for(command, result))
                self.ledger.record_result(command.idempotency_key, event)
                elapsed = time.perf_counter() - started
                bound(metrics.PROCESSING_SECONDS, ROLE).observe(elapsed)
            else:
                event = recorded
            bound(metrics.PROCESSED, ROLE, PAYMENT_COMMANDS.name, type(command).__name__).inc()
            headers = tracing.inject(list(headers))  # the event carries this hop's span
            self._produce(self.settings.topic(PAYMENT_EVENTS.name), key, event, headers, position)
        except Exception:
            metrics.ERRORS.labels(ROLE, "handle").inc()
            tracing.mark_error(tracing.current_span(), "payment command failed")
            logger.exception(
                "payment command failed; stopping so it is redelivered", extra={"booking_id": key}
            )
            self._stopping.set()
        finally:
            done.set_result(None)
            if self._key_chains.get(key) is done:
                del self._key_chains[key]

    def _produce(
        self, topic: str, key: str, value: bytes, headers: Any, position: tuple[str, int, int]
    ) -> None:
        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                metrics.ERRORS.labels(ROLE, "produce").inc()
                logger.error("event not delivered (%s); stopping for redelivery", err)
                self._stopping.set()
                return
            self.offsets.finished(*position)

        self.producer.produce(
            topic, key=key.encode(), value=value, headers=headers, on_delivery=delivered
        )

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.commit_interval_s)
            self.producer.poll(0)
            self._commit()

    def _commit(self) -> None:
        positions = self.offsets.to_commit()
        if not positions:
            return
        try:
            started = time.perf_counter()
            self.consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()],
                asynchronous=False,
            )
            metrics.COMMIT_SECONDS.labels(ROLE, "interval").observe(time.perf_counter() - started)
            self.offsets.committed(positions)
        except Exception:
            metrics.ERRORS.labels(ROLE, "commit").inc()
            logger.exception("offset commit failed; will retry next interval")

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.producer.flush(10)
        self._commit()
        for tp in partitions:
            self.offsets.forget(tp.topic, tp.partition)

    async def _drain(self, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self._key_chains and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            self.producer.poll(0)
        self.producer.flush(10)
