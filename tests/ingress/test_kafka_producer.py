"""The command producer finds delivery reports at the next produce, not only on its timer,
and sets librdkafka's threads to the configured scheduling policy."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingress.config import BackendConfig, ThreadPolicy
from ingress.kafka_producer import CommandProducer
from schemas.topics import BOOKING_COMMANDS
from tessera.config import Settings

from ..sinks.support import lag_once_led

pytestmark = pytest.mark.anyio


def wait_until_stored(settings: Settings, group: str, timeout_s: float = 20) -> None:
    """Until booking-commands holds a record (a group that never committed lags by all)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if lag_once_led(settings, group, [BOOKING_COMMANDS]):  # None: no leader yet
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


def _client_thread_policies() -> dict[str, int]:
    policies = {}
    for task in Path("/proc/self/task").iterdir():
        name = (task / "comm").read_text().strip()
        if name.startswith("rdk:"):
            policies[f"{name}/{task.name}"] = os.sched_getscheduler(int(task.name))
    return policies


@pytest.mark.parametrize(
    ("policy", "expected"), [("batch", os.SCHED_BATCH), ("normal", os.SCHED_OTHER)]
)
async def test_librdkafka_threads_get_the_configured_policy(
    isolated_settings: Callable[..., Settings], policy: ThreadPolicy, expected: int
) -> None:
    settings = isolated_settings()
    topic = settings.topic(BOOKING_COMMANDS.name)
    before = set(_client_thread_policies())  # other tests' clients may still be around
    producer = CommandProducer(settings.kafka_bootstrap, BackendConfig(kafka_client_threads=policy))
    producer.start()
    try:
        assert await producer.ready(topic, timeout_s=10)
        await producer.send(topic, "k1", b"{}", [])
        ours = {k: v for k, v in _client_thread_policies().items() if k not in before}
        names = {k.split("/")[0] for k in ours}
        assert "rdk:main" in names and any(n.startswith("rdk:broker") for n in names), names
        assert set(ours.values()) == {expected}, ours
    finally:
        await producer.close()
