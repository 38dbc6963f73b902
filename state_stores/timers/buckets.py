"""Durable timers: each bucket (one due-second, the Kafka key) keeps its timers in state.

Store layout under one bucket: "count" → how many were appended, "t:<i>" → the i-th timer,
"id:<timer_id>" → marks a pending timer (dedupe), "fired" → the bucket's tick has run.
Appending is O(1) in reads and writes however many thousands of timers share a second.

Guarantee: a timer fires at or after its due time, at least once. A schedule that arrives
after its bucket fired, or already past due, fires at once; dedupe by timer_id covers only
pending timers (the id markers go with the fire), so receivers stay idempotent: they ignore
a timer whose version is stale (ExpireHold by expiry, StepTimedOut by deadline_version).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from schemas.timers import ScheduleTimer, Tick

from ..base import KeyValueStore
from ..codec import decode_state, encode_state

COUNT_KEY = "count"
FIRED_KEY = "fired"


def timer_key(index: int) -> str:
    return f"t:{index}"


def id_key(timer_id: str) -> str:
    return f"id:{timer_id}"


@dataclass(frozen=True)
class FiredTimer:
    """Produce `payload` (already encoded for the topic) to `topic` under `key`."""

    topic: str
    key: str
    payload: bytes
    timer_id: str = ""
    traceparent: str = ""


class PendingTimer(msgspec.Struct, frozen=True, array_like=True):
    """What firing needs, stored compactly (array-like msgpack: no field names per timer)."""

    timer_id: str
    topic: str
    key: str
    payload: bytes
    due_at: int
    traceparent: str = ""

    def fire(self) -> FiredTimer:
        return FiredTimer(self.topic, self.key, self.payload, self.timer_id, self.traceparent)


def on_schedule(store: KeyValueStore, timer: ScheduleTimer, now_ms: int) -> list[FiredTimer]:
    """Keep the timer until its bucket's tick, or fire it now if that moment has passed."""
    pending = PendingTimer(
        timer.timer_id,
        timer.target_topic,
        timer.target_key,
        timer.payload,
        timer.due_at,
        timer.traceparent,
    )
    if store.get(FIRED_KEY) is not None or timer.due_at <= now_ms:
        return [pending.fire()]
    if timer.timer_id and store.get(id_key(timer.timer_id)) is not None:
        return []  # the same timer scheduled twice (a redelivered record)
    count = _count(store)
    store.set(timer_key(count), encode_state(pending))
    store.set(COUNT_KEY, encode_state(count + 1))
    if timer.timer_id:
        store.set(id_key(timer.timer_id), b"")
    return []


def on_tick(store: KeyValueStore, tick: Tick) -> list[FiredTimer]:
    """Fire the bucket's timers in the order they were scheduled, once: a repeated tick
    (the ticker resuming after a restart) finds the bucket marked and fires nothing."""
    if store.get(FIRED_KEY) is not None:
        return []
    fired: list[FiredTimer] = []
    for index in range(_count(store)):
        data = store.get(timer_key(index))
        if data is None:
            continue
        pending = decode_state(data, PendingTimer)
        fired.append(pending.fire())
        store.delete(timer_key(index))
        if pending.timer_id:
            store.delete(id_key(pending.timer_id))
    store.delete(COUNT_KEY)
    store.set(FIRED_KEY, encode_state(tick.bucket))
    return fired


def _count(store: KeyValueStore) -> int:
    data = store.get(COUNT_KEY)
    return 0 if data is None else decode_state(data, int)
