"""Redis cache sink: versioned write-through, push on status change, open holds, TTL,
explicit invalidation, and a short explicit retry policy when Redis is unreachable."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from schemas.base import BookingStatus, Money
from schemas.booking_events import BookingCompleted, BookingConfirmed, BookingCreated
from schemas.inventory_events import ItemSnapshot, ReservationView
from schemas.topics import BOOKING_EVENTS, INVENTORY_SNAPSHOTS
from sinks.cache_contract import availability_key, booking_key, open_holds_key, push_channel
from sinks.exceptions import TransientWriteError
from sinks.redis_cache import app
from sinks.redis_cache.client import RedisConfig
from sinks.redis_cache.invalidation import invalidate_item
from sinks.redis_cache.writer import RedisCacheWriter
from tessera.config import Settings

from .factories import booking_event
from .support import produce, running, wait_caught_up

GROUP = "tessera-sink-redis-cache"


@pytest.fixture
def cache(stack: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.redis_url)
    yield client
    client.close()


@pytest.fixture
def settings(isolated_settings: Callable[..., Settings], cache: redis.Redis) -> Iterator[Settings]:
    """Isolated settings; the Redis keys under their prefix are deleted afterwards."""
    isolated = isolated_settings(partitions=1)
    yield isolated
    for key in cache.scan_iter(match=f"{isolated.topic_prefix}tessera:*", count=1000):
        cache.delete(key)


def run_until_caught_up(settings: Settings) -> None:
    def run(stop: threading.Event) -> None:
        app.main(settings, stop=stop)

    with running(run) as loop:
        wait_caught_up(
            settings, settings.topic(GROUP), [BOOKING_EVENTS, INVENTORY_SNAPSHOTS], alive=loop.check
        )


def snapshot(version: int, capacity: int = 10, held: int = 0, sold: int = 0) -> ItemSnapshot:
    changed = ReservationView("bk-1", 1, "HELD", 0) if held else None
    return ItemSnapshot(
        item_id="item-1",
        capacity=capacity,
        held=held,
        sold=sold,
        price=Money(1500, "EUR"),
        version=version,
        changed=changed,
    )


def test_booking_views_push_and_open_holds(settings: Settings, cache: redis.Redis) -> None:
    prefix = settings.topic_prefix
    holds = open_holds_key(prefix, "user-1")
    cache.zadd(holds, {"bk-1": 1, "bk-2": 2})
    pubsub = cache.pubsub()
    pubsub.subscribe(push_channel(prefix, "bk-1"))
    pubsub.get_message(timeout=5)  # the subscribe confirmation
    common = {"user_id": "user-1", "amount": Money(1500, "EUR")}
    events = [
        booking_event(BookingCreated, "bk-1", 1, BookingStatus.PENDING, **common),
        booking_event(BookingConfirmed, "bk-1", 2, BookingStatus.CONFIRMED, **common),
        booking_event(BookingCompleted, "bk-1", 3, BookingStatus.COMPLETED, **common),
        booking_event(BookingCreated, "bk-2", 1, BookingStatus.PENDING, **common),
    ]
    produce(settings, events)
    run_until_caught_up(settings)

    view = json.loads(cache.get(booking_key(prefix, "bk-1")))
    assert view == {
        "booking_id": "bk-1",
        "user_id": "user-1",
        "item_id": "item-1",
        "quantity": 1,
        "status": "COMPLETED",
        "reason": None,
        "amount_minor": 1500,
        "currency": "EUR",
        "payment_id": None,
        "version": 3,
        "created_at": events[2].created_at,
        "updated_at": events[2].occurred_at,
    }
    assert 0 < cache.ttl(booking_key(prefix, "bk-1")) <= 300
    assert cache.zrange(holds, 0, -1) == [b"bk-2"]
    pushed = []
    deadline = time.monotonic() + 5
    while len(pushed) < 3 and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1)
        if message and message["type"] == "message":
            pushed.append(json.loads(message["data"]))
    assert [(p["version"], p["status"]) for p in pushed] == [
        (1, "PENDING"),
        (2, "CONFIRMED"),
        (3, "COMPLETED"),
    ]

    # A redelivered older version changes nothing and pushes nothing.
    produce(settings, [events[1]])
    run_until_caught_up(settings)
    assert json.loads(cache.get(booking_key(prefix, "bk-1")))["version"] == 3
    assert pubsub.get_message(timeout=1) is None
    pubsub.close()


def test_availability_write_through_admin_change_and_invalidation(
    settings: Settings, cache: redis.Redis
) -> None:
    key = availability_key(settings.topic_prefix, "item-1")
    produce(settings, [snapshot(1), snapshot(3, held=2), snapshot(2, held=1)])
    run_until_caught_up(settings)
    assert json.loads(cache.get(key)) == {
        "item_id": "item-1",
        "capacity": 10,
        "held": 2,
        "sold": 0,
        "available": 8,
        "price_minor": 1500,
        "currency": "EUR",
        "version": 3,
    }
    # An admin SetCapacity: the ledger's next snapshot replaces the entry.
    produce(settings, [snapshot(4, capacity=50, held=2)])
    run_until_caught_up(settings)
    assert json.loads(cache.get(key))["available"] == 48
    assert 0 < cache.ttl(key) <= 300
    assert invalidate_item(cache, settings.topic_prefix, "item-1") is True
    assert cache.get(key) is None
    assert invalidate_item(cache, settings.topic_prefix, "item-1") is False


def test_unreachable_redis_fails_fast_as_transient() -> None:
    writer = RedisCacheWriter(RedisConfig(url="redis://127.0.0.1:1/0"), "t-unreachable.")
    batch = writer.reduce(writer.project(INVENTORY_SNAPSHOTS, snapshot(1), None))  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(TransientWriteError):
        writer.write(batch)
    assert time.monotonic() - started < 2, "the retry policy must give up quickly"
    writer.close()
