"""The notification pipeline: notification-queue + notification-retry in, deliveries out.

Per record: decode (undecodable -> notification-queue.dlq) -> wait in the delay queue until
its `x-not-before` -> deliver on a worker thread through the ledger (dedupe by id) ->
DELIVERED / DUPLICATE: done; FAILED: produce it to notification-retry with attempt + 1 and
an exponential `not_before`; DEAD (N attempts, or a permanent error): produce it to
notification-queue.dlq with the reason. A record's offset is finished only when that
outcome is durable (the broker acknowledged the retry or dead letter), and each partition
commits up to its oldest unfinished record. Deliveries run concurrently (bounded), so one
slow or failing recipient never blocks the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from schemas.base import now_ms
from tessera.config import Settings

from ..base.config import Backoff
from ..exceptions import DeadLetterError, TransientWriteError
from . import metrics
from .channels.base import Channel, ChannelName, describe
from .config import NotificationConfig
from .intake import Intake
from .ledger import NotificationLedger, Outcome
from .outbox import Outbox
from .retry import DelayQueue, Pending

logger = logging.getLogger(__name__)
_LEDGER_BACKOFF = Backoff(initial_s=0.5, max_s=10.0)
_IN_PROGRESS_DELAY_MS = 1000


class NotificationService:
    def __init__(
        self,
        settings: Settings,
        config: NotificationConfig,
        channels: Mapping[ChannelName, Channel],
        ledger: NotificationLedger,
    ) -> None:
        self.config, self.channels, self.ledger = config, channels, ledger
        self.queue = DelayQueue()
        self.in_flight: dict[Future[Outcome], Pending] = {}
        self.executor = ThreadPoolExecutor(config.concurrency, thread_name_prefix="notify")
        self._ledger_failures = 0
        self.outbox = Outbox(settings, config.retry_backoff, self._finished)
        self.intake = Intake(settings, self.outbox, self.queue.drop_partitions)

    def run(self, stop: threading.Event) -> None:
        last_commit = time.monotonic()
        try:
            while not stop.is_set():
                if self.outbox.failures:
                    raise DeadLetterError(f"notifications: {self.outbox.failures[0]}")
                for due_ms, pending in self.intake.poll(self._poll_timeout()):
                    self.queue.push(due_ms, pending)
                self._dispatch_due()
                self._collect_done()
                self.outbox.poll()
                buffered = len(self.queue) + len(self.in_flight)
                metrics.BUFFERED.set(buffered)
                self.intake.flow_control(buffered, self.config.max_buffered)
                if time.monotonic() - last_commit >= self.config.commit_interval_s:
                    self.intake.commit()
                    last_commit = time.monotonic()
        finally:
            self._drain()
            self.intake.close()
            self.executor.shutdown(wait=True)
            self.ledger.close()

    def _poll_timeout(self) -> float:
        if self.in_flight:
            return 0.01
        due = self.queue.next_due_ms()
        if due is None:
            return 0.1
        return min(0.1, max(0.0, (due - now_ms()) / 1000))

    def _dispatch_due(self) -> None:
        capacity = self.config.concurrency - len(self.in_flight)
        for pending in self.queue.pop_due(now_ms(), capacity):
            self.in_flight[self.executor.submit(self._attempt, pending)] = pending

    def _attempt(self, pending: Pending) -> Outcome:
        """On a worker thread: one delivery attempt through the ledger."""
        channel = self.channels[describe(pending.request).channel]
        return self.ledger.attempt(
            pending.request, pending.attempt, self.config.max_attempts, channel
        )

    def _collect_done(self) -> None:
        for future in [f for f in self.in_flight if f.done()]:
            pending = self.in_flight.pop(future)
            try:
                outcome = future.result()
            except TransientWriteError as exc:
                self._ledger_down(pending, exc)
                continue
            self._ledger_failures = 0
            self._handle(pending, outcome)

    def _handle(self, pending: Pending, outcome: Outcome) -> None:
        described = describe(pending.request)
        metrics.ATTEMPTS.labels(described.channel, outcome.kind).inc()
        context = {
            "notification_id": pending.request.notification_id,
            "channel": described.channel,
            "recipient": described.recipient_masked,
            "attempt": pending.attempt,
            "outcome": outcome.kind,
            "detail": outcome.detail[:300],
        }
        if outcome.kind in ("DELIVERED", "DUPLICATE"):
            logger.info("notification handled", extra=context)
            self._finished(pending)
        elif outcome.kind == "IN_PROGRESS":  # another worker holds this id right now
            self.queue.push(now_ms() + _IN_PROGRESS_DELAY_MS, pending)
        elif not self.intake.owns(pending):
            logger.info("partition revoked; its new owner retries", extra=context)
        elif outcome.kind == "FAILED":
            logger.warning("notification delivery failed; retrying later", extra=context)
            self.outbox.retry(pending, outcome.detail)
        else:
            logger.error("notification dead-lettered", extra=context)
            reason = "MAX_ATTEMPTS" if pending.attempt >= self.config.max_attempts else "REJECTED"
            self.outbox.dead_letter(pending, reason, outcome.detail)

    def _ledger_down(self, pending: Pending, exc: TransientWriteError) -> None:
        """Nothing was sent: keep the record here and try the same attempt again later."""
        metrics.ATTEMPTS.labels(describe(pending.request).channel, "LEDGER_DOWN").inc()
        delay = _LEDGER_BACKOFF.delay(self._ledger_failures, "ledger")
        self._ledger_failures += 1
        logger.warning(
            "ledger unavailable; delivery postponed",
            extra={
                "notification_id": pending.request.notification_id,
                "retry_in_s": round(delay, 3),
                "error": str(exc),
            },
        )
        self.queue.push(now_ms() + int(delay * 1000), pending)

    def _finished(self, pending: Pending) -> None:
        self.intake.finished(pending)

    def _drain(self, timeout_s: float = 15.0) -> None:
        """On stop: finish the attempts in flight, make their outcomes durable, commit."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
            self._collect_done()
        self.outbox.flush()
        if not self.outbox.failures:
            self.intake.commit()
