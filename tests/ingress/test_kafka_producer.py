"""The command producer finds delivery reports at the next produce, not only on its timer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest
from confluent_kafka import KafkaException

from ingress.config import BackendConfig
from ingress.kafka_producer import CommandProducer
from schemas.topics import BOOKING_COMMANDS
from tessera.config import Settings

from ..sinks.support import lag

pytestmark = pytest.mark.anyio


def wait_until_stored(settings: Settings, group: str, timeout_s: float = 20) -> None:
    """Until booking-commands holds a record (a group that never committed lags by all)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(KafkaException):  # a new partition may still lack a leader
            if lag(settings, group, [BOOKING_COMMANDS]):
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing reached booking-commands in {timeout_s} s")


async def test_an_ack_is_served_by_the_next_produce(
    isolated_settings: Callable[..., Settings], group_id: str
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
        await asyncio.to_thread(wait_until_stored, settings, group_id)  # acked; nobody polled
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
