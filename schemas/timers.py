"""timers (key: due-time bucket) and saga-timeouts (key bookingId).

Kafka has no wall-clock timers, so a timer is a record keyed by the second it is due
in. The timer service keeps each bucket's timers in state; its ticker produces a Tick
for every elapsed bucket, and the bucket's timers fire: each sends its `payload` to
`target_topic` under `target_key`. Timers survive restarts because the buckets are
changelogged state, and they fire with no other traffic because ticks are produced
on wall-clock time. A receiver ignores a stale timer by comparing its version.
"""

from __future__ import annotations

import msgspec

from .base import Envelope

BUCKET_MS = 1000


def bucket_of(due_at_ms: int) -> int:
    """The bucket a timer due at `due_at_ms` fires in (the first tick at or after it)."""
    return -(-due_at_ms // BUCKET_MS)


class ScheduleTimer(Envelope, frozen=True, tag="ScheduleTimer"):
    timer_id: str
    due_at: int
    target_topic: str
    target_key: str
    payload: bytes
    # The trace the timer belongs to: the fired record continues it (W3C traceparent).
    traceparent: str = ""


class Tick(Envelope, frozen=True, tag="Tick"):
    bucket: int


TimerRecord = ScheduleTimer | Tick
DECODER: msgspec.json.Decoder[TimerRecord] = msgspec.json.Decoder(TimerRecord)


class StepTimedOut(Envelope, frozen=True, tag="StepTimedOut"):
    """A saga step's deadline passed; `deadline_version` says which deadline it was."""

    booking_id: str
    step: str
    deadline_version: int


SagaTimeout = StepTimedOut
TIMEOUT_DECODER: msgspec.json.Decoder[SagaTimeout] = msgspec.json.Decoder(SagaTimeout)
