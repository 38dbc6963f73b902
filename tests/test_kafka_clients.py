"""Shared client helpers on the real broker: the batch poll answers as soon as one record is in."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, Producer

from tessera.config import Settings
from tessera.kafka_clients import poll_batch, producer_config


def test_poll_batch_returns_what_is_there_without_waiting_out_the_timeout(
    isolated_settings: Callable[..., Settings],
) -> None:
    settings = isolated_settings(partitions=1)
    topic = settings.topic("booking-commands")
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{settings.topic_prefix}poll-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    try:
        assert poll_batch(consumer, 500, 1.0) == []  # nothing there: the timeout passes
        producer = Producer(producer_config(settings.kafka_bootstrap))
        for n in range(3):
            producer.produce(topic, key=b"k", value=b"%d" % n)
        assert producer.flush(10) == 0
        received: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(received) < 3 and time.monotonic() < deadline:
            started = time.monotonic()
            batch = poll_batch(consumer, 500, 5.0)
            if batch:  # consume(500, 5.0) would have waited the 5 s for 500 records
                assert time.monotonic() - started < 4.0
            received += [m.value() for m in batch if m.error() is None]
        assert received == [b"0", b"1", b"2"]
    finally:
        consumer.close()
