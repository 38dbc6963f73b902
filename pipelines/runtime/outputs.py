"""Route each output message to its topic and key, as the registry in schemas/topics.py says.

Every message type belongs to exactly one topic's union, so the type alone decides where
it goes; the topic's key name decides which field becomes the Kafka key.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from schemas import codec
from schemas.timers import ScheduleTimer, Tick, bucket_of
from schemas.topics import ALL_TOPICS, TopicSpec

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Outbound:
    """One record to produce: registry topic name (unprefixed), key, encoded value."""

    topic: str
    key: str
    value: bytes
    headers: Headers = field(default_factory=list)


def _union_members(payload: Any) -> tuple[type, ...]:
    members = typing.get_args(payload)
    return members if members else (payload,)


_TOPIC_OF_TYPE: dict[type, TopicSpec] = {}
for _spec in ALL_TOPICS:
    if _spec.payload is None:
        continue
    for _member in _union_members(_spec.payload):
        # The first topic that lists a type owns it (notification-retry reuses the union).
        _TOPIC_OF_TYPE.setdefault(_member, _spec)


def topic_of(message: Any) -> TopicSpec:
    for klass in type(message).__mro__:
        if klass in _TOPIC_OF_TYPE:
            return _TOPIC_OF_TYPE[klass]
    raise LookupError(f"{type(message).__name__} belongs to no topic in the registry")


def key_of(message: Any, spec: TopicSpec) -> str:
    match spec.key:
        case "bookingId":
            return str(message.booking_id)
        case "itemId":
            return str(message.item_id)
        case "notificationId":
            return str(message.notification_id)
        case "bucket":
            if isinstance(message, ScheduleTimer):
                return str(bucket_of(message.due_at))
            if isinstance(message, Tick):
                return str(message.bucket)
    raise LookupError(f"no key rule for {type(message).__name__} on {spec.name}")


def route(message: Any, headers: Headers | None = None) -> Outbound:
    spec = topic_of(message)
    return Outbound(spec.name, key_of(message, spec), codec.encode(message), headers or [])
