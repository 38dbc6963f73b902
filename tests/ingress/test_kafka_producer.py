"""The command producer finds delivery reports at the next produce, not only on its timer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition

from ingress.config import BackendConfig
from ingress.kafka_producer import CommandProducer
from schemas.topics import BOOKING_COMMANDS
from tessera.config import Settings

pytestmark = pytest.mark.anyio


def wait_until_stored(settings: Settings, topic: str, timeout_s: float = 20) -> None:
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": topic})
    try:
        partitions = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                stored = sum(
                    consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                    for p in partitions
                )
            except KafkaException:  # a new topic's partition may still be electing a leader
                stored = 0
            if stored:
                return
            time.sleep(0.05)
        raise AssertionError(f"nothing reached {topic} in {timeout_s} s")
    finally:
        consumer.close()


async def test_an_ack_is_served_by_the_next_produce(
    isolated_settings: Callable[..., Settings],
) -> None:
    settings = isolated_settings()
    topic = settings.topic(BOOKING_COMMANDS.name)
    # a timer this slow never serves the reports while the test runs: the produce must
    producer = CommandProducer(settings.kafka_bootstrap, BackendConfig(kafka_ack_poll_ms=30_000))
    producer.start()
    second: asyncio.Future[None] | None = None
    try:
        assert await producer.ready(topic, timeout_s=10)
        first = asyncio.ensure_future(producer.send(topic, "k1", b"{}", []))
        await asyncio.to_thread(wait_until_stored, settings, topic)  # acked; nobody polled
        assert not first.done()
        started = time.monotonic()
        second = asyncio.ensure_future(producer.send(topic, "k2", b"{}", []))
        await asyncio.wait_for(first, timeout=2)
        assert time.monotonic() - started < 1
        assert not second.done()  # its own ack is the timer's (or a later produce's) to find
    finally:
        await producer.close()  # delivers what is queued: the second send completes too
        if second is not None:
            await asyncio.wait_for(second, timeout=5)
