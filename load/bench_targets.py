"""What a benchmark step sends bookings to, and how it learns each booking's outcome.

- `TesseraHttp`: POST /api/v1/bookings on the ingress (202), outcome from booking-events.
- `TesseraKafka`: CreateBooking straight to booking-commands (the partner path).
- `Baseline`: POST /api/v1/bookings on the baseline, which answers the final status.

Every request of a step is one row of a `Recorder`: when it was due, when it was answered,
the HTTP status, the booking id; then (`resolve`) when it was CONFIRMED, COMPLETED and
terminal. Tessera's times come from the harness Watcher: the moment the event was committed
to booking-events and visible to a read_committed consumer, on the same monotonic clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from confluent_kafka import Producer

from load.loadgen import HttpError, HttpPool
from load.system_harness import Watcher
from schemas.booking_commands import CreateBooking
from schemas.codec import encode
from schemas.command_ids import booking_id_for, command_id
from schemas.topics import BOOKING_COMMANDS
from tessera.config import Settings
from tessera.kafka_clients import producer_config

TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
ERROR = -1  # no HTTP answer (connection error, timeout)
DROPPED = -2  # still queued in the generator when an overloaded step was cut short


class Answer(msgspec.Struct, rename="camel"):
    booking_id: str
    status: str
    reason: str | None = None


_ANSWER = msgspec.json.Decoder(Answer)


class Problem(msgspec.Struct):
    code: str = ""


_PROBLEM = msgspec.json.Decoder(Problem)


class Recorder:
    """One row per request of a step (parallel lists: cheap to fill at thousands per second)."""

    def __init__(self, size: int, tag: str) -> None:
        self.tag = tag
        self.due = [0.0] * size
        self.answered = [0.0] * size
        self.http = [0] * size
        self.booking: list[str | None] = [None] * size
        self.status: list[str | None] = [None] * size
        self.reason: list[str | None] = [None] * size
        self.confirmed = [0.0] * size
        self.completed = [0.0] * size
        self.terminal = [0.0] * size
        self.fired = 0

    def accepted(self, i: int) -> bool:
        return 200 <= self.http[i] < 300

    def refused(self, i: int) -> bool:
        """Decided at the door: 409 SOLD_OUT (Tessera's admission gate) is a final answer
        like the baseline's synchronous FAILED, not an error."""
        return self.http[i] == 409 and self.reason[i] == "SOLD_OUT"


def booking_body(item: str) -> bytes:
    return b'{"itemId":"%s","quantity":1,"paymentMethod":"pm_card_visa"}' % item.encode()


class HttpBookings:
    """POST /api/v1/bookings, one user token per request (round robin over the users)."""

    name = "http"

    def __init__(self, port: int, tokens: list[str], run_id: str, connections: int) -> None:
        self.pool = HttpPool("127.0.0.1", port, connections)
        self.run_id = run_id
        host = f"127.0.0.1:{port}"
        self.heads = [
            (
                f"POST /api/v1/bookings HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                "Idempotency-Key: "
            ).encode()
            for token in tokens
        ]
        self.timeout_s = 30.0

    async def fire(self, rec: Recorder, i: int, item: str, body: bytes) -> None:
        key = f"{self.run_id}-{rec.tag}-{i}".encode()
        raw = b"%s%s\r\nContent-Length: %d\r\n\r\n%s" % (
            self.heads[i % len(self.heads)],
            key,
            len(body),
            body,
        )
        try:
            status, payload = await self.pool.request(raw, self.timeout_s)
        except (HttpError, TimeoutError, OSError, RuntimeError):
            rec.answered[i], rec.http[i] = time.monotonic(), ERROR
            return
        rec.answered[i], rec.http[i] = time.monotonic(), status
        if 200 <= status < 300:
            answer = _ANSWER.decode(payload)
            rec.booking[i], rec.status[i], rec.reason[i] = (
                answer.booking_id,
                answer.status,
                answer.reason,
            )
        elif status == 409 and _PROBLEM.decode(payload).code == "SOLD_OUT":
            rec.status[i], rec.reason[i] = "FAILED", "SOLD_OUT"

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.pool.close()


class Baseline(HttpBookings):
    """The baseline answers the final status: confirmed = completed = terminal = answered."""

    name = "baseline"

    def settled(self, rec: Recorder, i: int) -> bool:
        return rec.answered[i] != 0.0

    def resolve(self, rec: Recorder) -> None:
        for i in range(rec.fired):
            if not rec.accepted(i):
                continue
            status = rec.status[i]
            if status == "COMPLETED":
                rec.confirmed[i] = rec.completed[i] = rec.answered[i]
            if status in TERMINAL:
                rec.terminal[i] = rec.answered[i]


class _WatchedOutcomes:
    """Tessera's outcomes: the first time each status was committed to booking-events."""

    watcher: Watcher

    def settled(self, rec: Recorder, i: int) -> bool:
        if rec.answered[i] == 0.0:
            return False
        if not rec.accepted(i):
            return True
        booking = self.watcher.bookings.get(rec.booking[i])  # type: ignore[arg-type]
        return booking is not None and str(booking.status) in TERMINAL

    def resolve(self, rec: Recorder) -> None:
        seen = self.watcher.first_seen
        bookings = self.watcher.bookings
        for i in range(rec.fired):
            if rec.refused(i):
                rec.terminal[i] = rec.answered[i]
                continue
            booking_id = rec.booking[i]
            if booking_id is None or not rec.accepted(i):
                continue
            rec.confirmed[i] = seen.get((booking_id, "CONFIRMED"), 0.0)
            rec.completed[i] = seen.get((booking_id, "COMPLETED"), 0.0)
            ends = [seen.get((booking_id, s), 0.0) for s in TERMINAL]
            rec.terminal[i] = min((t for t in ends if t), default=0.0)
            event = bookings.get(booking_id)
            if event is not None:
                rec.status[i] = str(event.status)
                rec.reason[i] = event.reason or None


class TesseraHttp(_WatchedOutcomes, HttpBookings):
    name = "tessera-http"

    def __init__(
        self, port: int, tokens: list[str], run_id: str, connections: int, watcher: Watcher
    ) -> None:
        super().__init__(port, tokens, run_id, connections)
        self.watcher = watcher


class TesseraKafka(_WatchedOutcomes):
    """The partner path: CreateBooking produced to booking-commands (acks=all, idempotent,
    the shared murmur2 partitioner); 'answered' is the broker's acknowledgement."""

    name = "tessera-kafka"

    def __init__(self, settings: Settings, users: list[str], run_id: str, watcher: Watcher) -> None:
        self.watcher = watcher
        self.settings = settings
        self.users = users
        self.run_id = run_id
        self.partner = f"bench-partner-{run_id}"
        self.topic = settings.topic(BOOKING_COMMANDS.name)
        self.producer = Producer(
            producer_config(settings.kafka_bootstrap, **{"client.id": self.partner})
        )
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            self.producer.poll(0)
            await asyncio.sleep(0.002)

    async def fire(self, rec: Recorder, i: int, item: str, body: bytes) -> None:
        message_id = command_id(self.partner, f"{self.run_id}-{rec.tag}-{i}")
        booking_id = booking_id_for(message_id)
        command = CreateBooking(
            message_id=message_id,
            correlation_id=message_id,
            booking_id=booking_id,
            user_id=self.users[i % len(self.users)],
            item_id=item,
            quantity=1,
            payment_method="pm_card_visa",
            channel="PARTNER_KAFKA",
            requested_by=self.partner,
        )

        def delivered(err: Any, _msg: Any) -> None:
            rec.answered[i] = time.monotonic()
            rec.http[i] = ERROR if err is not None else 202
            rec.booking[i] = booking_id

        while True:
            try:
                self.producer.produce(
                    self.topic, encode(command), booking_id.encode(), on_delivery=delivered
                )
                return
            except BufferError:
                await asyncio.sleep(0.005)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        self.producer.flush(10)


Target = TesseraHttp | TesseraKafka | Baseline
