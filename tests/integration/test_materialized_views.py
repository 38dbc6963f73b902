"""A booking's journey lands in PostgreSQL and Redis: the sinks run with the pipelines."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
import redis

from load.system_harness import RunningSystem, start_system, stop_system, wait_until
from sinks.cache_contract import availability_key, booking_key
from tessera.config import Settings

from .test_booking_saga import book, new_item

ROLES = ("timers", "inventory", "saga", "payment", "sink-postgres", "sink-redis")


@pytest.fixture(scope="module")
def full_system(stack: Settings) -> Iterator[RunningSystem]:
    running = start_system(stack, roles=ROLES)
    yield running
    stop_system(running)


def row(settings: Settings, service: str, sql: str, *params: object) -> tuple | None:
    with psycopg.connect(settings.postgres_dsn(service)) as conn:
        return conn.execute(sql, params).fetchone()


def test_completed_booking_is_materialized_everywhere(full_system: RunningSystem) -> None:
    settings = full_system.settings
    item_id = new_item(full_system, capacity=4, price_minor=1250)
    booking_id = book(full_system, item_id, quantity=2)

    def booking_row() -> tuple | None:
        return row(
            settings,
            "booking",
            "SELECT status, amount_minor, version FROM bookings WHERE booking_id = %s",
            booking_id,
        )

    wait_until(lambda: (booking_row() or ("",))[0] == "COMPLETED", 60, "bookings row COMPLETED")
    status, amount, version = booking_row()
    assert (status, amount) == ("COMPLETED", 2500)
    history = row(
        settings,
        "booking",
        "SELECT array_agg(status ORDER BY version) FROM booking_history WHERE booking_id = %s",
        booking_id,
    )
    assert history == (["PENDING", "CONFIRMED", "COMPLETED"],)

    wait_until(
        lambda: (
            (
                row(settings, "inventory", "SELECT sold FROM inventory WHERE item_id = %s", item_id)
                or (0,)
            )[0]
            == 2
        ),
        60,
        "inventory row sold=2",
    )
    assert row(
        settings, "inventory", "SELECT capacity, held FROM inventory WHERE item_id = %s", item_id
    ) == (4, 0)
    wait_until(
        lambda: (
            (
                row(
                    settings,
                    "payment",
                    "SELECT status FROM payments WHERE booking_id = %s",
                    booking_id,
                )
                or ("",)
            )[0]
            == "CAPTURED"
        ),
        60,
        "payments row CAPTURED",
    )

    cache = redis.Redis.from_url(settings.redis_url)
    try:
        wait_until(
            lambda: cache.get(booking_key(settings.topic_prefix, booking_id)) is not None,
            30,
            "cached booking view",
        )
        view = json.loads(cache.get(booking_key(settings.topic_prefix, booking_id)))
        assert (view["status"], view["version"]) == ("COMPLETED", version)
        item = json.loads(cache.get(availability_key(settings.topic_prefix, item_id)))
        assert (item["available"], item["sold"]) == (2, 2)
    finally:
        cache.close()
