"""The delivery ledger in the notification database: dedupe by notification id.

One transaction per attempt, holding a per-id advisory lock so two workers (a redelivered
original and its retry, or two instances during a rebalance) never send the same id at
once: lock -> already DELIVERED? skip -> send -> record the outcome (notifications upsert +
one notification_log row per attempt) -> commit. Only a masked recipient is stored.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

import psycopg

from schemas.notifications import NotificationRequest
from tessera.telemetry import mask

from ..base import metrics
from ..exceptions import DeliveryError, TransientWriteError
from .channels.base import Channel, describe
from .outbox import SINK

logger = logging.getLogger(__name__)
OutcomeKind = Literal["DELIVERED", "DUPLICATE", "IN_PROGRESS", "FAILED", "DEAD"]

_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"
_STATUS = "SELECT status FROM notifications WHERE notification_id = %s"
_UPSERT = """
INSERT INTO notifications AS t (notification_id, booking_id, channel, recipient_masked,
    template, status, attempts, version, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (notification_id) DO UPDATE SET status = EXCLUDED.status,
    attempts = GREATEST(t.attempts, EXCLUDED.attempts),
    version = GREATEST(t.version, EXCLUDED.version), updated_at = EXCLUDED.updated_at
WHERE t.status <> 'DELIVERED'
"""
_LOG = """
INSERT INTO notification_log (notification_id, attempt, outcome, detail, occurred_at)
VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    detail: str = ""


class NotificationLedger:
    def __init__(self, dsn: str, connect_timeout_s: int = 5) -> None:
        self.dsn = dsn
        self.connect_timeout_s = connect_timeout_s
        self._local = threading.local()  # one connection per delivery thread
        self._opened: list[psycopg.Connection] = []  # all of them, to close at the end
        self._lock = threading.Lock()

    def attempt(
        self, request: NotificationRequest, attempt: int, max_attempts: int, channel: Channel
    ) -> Outcome:
        """Deliver `request` unless it was delivered already. TransientWriteError when the
        ledger is unavailable: nothing was sent, try again later."""
        nid = request.notification_id
        try:
            conn = self._connection()
            with conn.transaction():
                if not conn.execute(_LOCK, (nid,)).fetchone()[0]:  # type: ignore[index]
                    return Outcome("IN_PROGRESS")
                row = conn.execute(_STATUS, (nid,)).fetchone()
                if row is not None and row[0] == "DELIVERED":
                    return Outcome("DUPLICATE")
                outcome = self._deliver(channel, request, attempt, max_attempts)
                described = describe(request)
                status = "DELIVERED" if outcome.kind == "DELIVERED" else outcome.kind
                conn.execute(
                    _UPSERT,
                    (
                        nid,
                        request.booking_id,
                        described.channel,
                        described.recipient_masked,
                        described.template,
                        status,
                        attempt,
                        attempt,
                    ),
                )
                conn.execute(_LOG, (nid, attempt, outcome.kind, outcome.detail[:1000]))
            return outcome
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._reset()
            metrics.ERRORS.labels(SINK, "ledger_unavailable").inc()
            raise TransientWriteError(f"notification ledger: {type(exc).__name__}") from exc

    def _deliver(
        self, channel: Channel, request: NotificationRequest, attempt: int, max_attempts: int
    ) -> Outcome:
        try:
            return Outcome("DELIVERED", channel.deliver(request))
        except DeliveryError as exc:
            detail = mask(str(exc))
            retryable = exc.retryable
        except Exception as exc:  # a bug in an adapter: logged, counted, retried, then DLQ
            metrics.ERRORS.labels(SINK, "channel_bug").inc()
            logger.exception(
                "notification channel raised unexpectedly",
                extra={"notification_id": request.notification_id, "channel": channel.name},
            )
            detail, retryable = mask(f"{type(exc).__name__}: {exc}"), True
        kind: OutcomeKind = "FAILED" if retryable and attempt < max_attempts else "DEAD"
        return Outcome(kind, detail)

    def _connection(self) -> psycopg.Connection:
        conn: psycopg.Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=self.connect_timeout_s,
                application_name="tessera-notifications",
            )
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def _reset(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            self._close(conn)

    def _close(self, conn: psycopg.Connection) -> None:
        with self._lock:
            if conn in self._opened:
                self._opened.remove(conn)
        try:
            conn.close()
        except psycopg.Error:
            logger.debug("closing a broken ledger connection failed", exc_info=True)

    def close(self) -> None:
        """Close every thread's connection (call when the delivery threads are done)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            self._close(conn)
