"""Every Kafka record of one booking: a scan of the deployment's topics, filtered by key.

bookingId-keyed topics match on the key; the others (itemId, timer bucket, notificationId)
on a JSON string in the value that starts with the booking id (`"booking_id":"bk-1"`,
`"timer_id":"bk-1:3"`, `"notification_id":"bk-1:2:email"`). The scan starts at `since_ms`
(the booking's creation minus a margin, when the read model knows it) and ends at each
partition's high watermark as of the start.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, Message, TopicPartition

from schemas.topics import TICKER_CURSOR, declared_topics
from tessera.config import Settings
from tessera.telemetry import mask
from tessera.tracing import parse_traceparent

from .topology import pipeline_of

SUMMARY_FIELDS = ("status", "reason", "step", "action", "quantity", "payment_id", "detail")


def scan(
    settings: Settings, booking_id: str, since_ms: int = 0, timeout_s: float = 30.0
) -> Iterator[dict[str, Any]]:
    """Matching records as journey entries (dicts), in no particular order."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{settings.topic('tessera-ops-trace')}-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "log_level": 3,
        }
    )
    try:
        assignment, ends = _assignment(consumer, settings, since_ms)
        if assignment:
            yield from _matching(consumer, settings, booking_id, assignment, ends, timeout_s)
    finally:
        consumer.close()


def _assignment(consumer: Consumer, settings: Settings, since_ms: int) -> tuple[list, dict]:
    metadata = consumer.list_topics(timeout=10).topics
    wanted = [settings.topic(s.name) for s in declared_topics() if s is not TICKER_CURSOR]
    partitions = [
        TopicPartition(n, p, since_ms)
        for n in wanted
        if n in metadata
        for p in metadata[n].partitions
    ]
    starts = consumer.offsets_for_times(partitions, timeout=10) if since_ms else partitions
    assignment, ends = [], {}
    for tp in starts:
        low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), 10)
        if since_ms:  # offset -1: nothing at or after since_ms on this partition
            start = high if tp.offset < 0 else max(low, tp.offset)
        else:
            start = low
        if high > start:
            assignment.append(TopicPartition(tp.topic, tp.partition, start))
            ends[(tp.topic, tp.partition)] = high
    return assignment, ends


def _matching(
    consumer: Consumer,
    settings: Settings,
    booking_id: str,
    assignment: list,
    ends: dict,
    timeout_s: float,
) -> Iterator[dict[str, Any]]:
    key, needle = booking_id.encode(), b'"' + booking_id.encode()
    keyed = {settings.topic(s.name) for s in declared_topics() if s.key == "bookingId"}
    consumer.assign(assignment)
    deadline, idle_until = time.monotonic() + timeout_s, time.monotonic() + 3.0
    while ends and time.monotonic() < min(deadline, idle_until):
        for message in consumer.consume(1000, 0.2):
            position = (message.topic(), message.partition())
            if message.error() is not None or position not in ends:
                continue  # past the end of the scan (e.g. a new timer tick): not ours
            idle_until = time.monotonic() + 1.0
            if message.offset() >= ends[position] - 1:
                _done(consumer, ends, position)
            value = message.value() or b""
            if (message.key() == key) if message.topic() in keyed else (needle in value):
                yield entry(settings, message)
        # A read_committed consumer never sees the commit marker that may end a partition;
        # its position moves past it, so a partition is done once its position is the end.
        for tp in consumer.position([TopicPartition(t, p) for t, p in ends]):
            if tp.offset >= ends[(tp.topic, tp.partition)]:
                _done(consumer, ends, (tp.topic, tp.partition))


def _done(consumer: Consumer, ends: dict, position: tuple[str, int]) -> None:
    ends.pop(position, None)
    consumer.pause([TopicPartition(*position)])


def entry(settings: Settings, message: Message) -> dict[str, Any]:
    topic = message.topic()[len(settings.topic_prefix) :]
    headers = dict(message.headers() or ())
    try:
        body = json.loads(message.value() or b"{}")
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    span = parse_traceparent(headers.get("traceparent"))
    details = {k: body[k] for k in SUMMARY_FIELDS if body.get(k) not in (None, "")}
    if "x-dlq-reason" in headers:
        details["dlq_reason"] = headers["x-dlq-reason"].decode(errors="replace")
    return {
        "at": message.timestamp()[1],
        "source": "kafka",
        "where": f"{topic}[{message.partition()}]@{message.offset()}",
        "topic": topic,
        "what": str(body.get("type") or "?"),
        "pipeline": pipeline_of(topic),
        "key": (message.key() or b"").decode(errors="replace"),
        "detail": mask(", ".join(f"{k}={v}" for k, v in details.items())),
        "trace_id": f"{span.trace_id:032x}" if span.is_valid else "",
        "span_id": f"{span.span_id:016x}" if span.is_valid else "",
        "correlation_id": str(body.get("correlation_id") or ""),
    }
