"""PostgreSQL sink: what it cannot write goes to the topic's .dlq with a reason, and the
rest of the batch still lands; invariant constraints hold in the schema."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from confluent_kafka import Consumer

from schemas.base import BookingStatus, Money
from schemas.booking_events import BookingCreated
from schemas.inventory_events import ItemSnapshot
from schemas.payment_events import PaymentCaptured
from schemas.topics import BOOKING_EVENTS, INVENTORY_SNAPSHOTS, PAYMENT_EVENTS, TopicSpec
from sinks.postgres import app
from tessera.config import Settings

from .factories import booking_event
from .support import (
    DatabaseFactory,
    produce,
    produce_raw,
    running,
    use_databases,
    wait_caught_up,
)


def dead_letters(settings: Settings, spec: TopicSpec, expected: int) -> list[dict[str, str]]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": settings.topic("dlq-reader"),
            "auto.offset.reset": "earliest",
            "log_level": 3,
        }
    )
    consumer.subscribe([settings.topic(spec.dead_letter)])
    found = []
    try:
        for _ in range(100):
            for message in consumer.consume(100, 0.2):
                assert message.error() is None
                headers = {k: v.decode() for k, v in message.headers() or ()}
                found.append({**headers, "key": message.key().decode()})
            if len(found) >= expected:
                break
    finally:
        consumer.close()
    return found


def run_sinks(settings: Settings, services: tuple[str, ...]) -> None:
    with running(lambda stop: app.main(settings, services=services, stop=stop)) as loop:
        for service in services:
            group = settings.topic(f"tessera-sink-pg-{service}")
            wait_caught_up(settings, group, app.GROUPS[service].INPUTS, alive=loop.check)


def test_undecodable_and_refused_records_are_dead_lettered_and_the_rest_lands(
    isolated_settings: Callable[..., Settings],
    databases: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = isolated_settings(partitions=1)
    dsns = databases()
    use_databases(monkeypatch, dsns)
    produce_raw(settings, BOOKING_EVENTS.name, b"bk-bad", b"{not json")
    produce_raw(settings, BOOKING_EVENTS.name, b"bk-bad2", b'{"type":"BookingCreated"}')
    good = booking_event(BookingCreated, "bk-good", 1, BookingStatus.PENDING)
    produce(settings, [good])
    oversold = ItemSnapshot(
        item_id="item-x", capacity=5, held=3, sold=3, price=Money(100), version=1
    )
    fine = ItemSnapshot(item_id="item-y", capacity=5, held=2, sold=3, price=Money(100), version=1)
    produce(settings, [oversold, fine])
    capture = {"booking_id": "bk-pay", "payment_id": "pi_1", "amount": Money(100)}
    first = PaymentCaptured(**capture, causation_id="cmd-1")
    second = PaymentCaptured(**capture, causation_id="cmd-2")  # a second successful capture
    produce(settings, [first, second])
    run_sinks(settings, ("booking", "inventory", "payment"))

    booking_dlq = dead_letters(settings, BOOKING_EVENTS, 2)
    assert sorted((d["key"], d["x-dlq-reason"]) for d in booking_dlq) == [
        ("bk-bad", "UNDECODABLE"),
        ("bk-bad2", "INVALID"),
    ]
    inventory_dlq = dead_letters(settings, INVENTORY_SNAPSHOTS, 1)
    assert [(d["key"], d["x-dlq-reason"]) for d in inventory_dlq] == [
        ("item-x", "REFUSED_BY_DATABASE")
    ]
    assert "inventory_no_oversell" in inventory_dlq[0]["x-dlq-error"]
    payment_dlq = dead_letters(settings, PAYMENT_EVENTS, 1)
    assert [(d["key"], d["x-dlq-reason"]) for d in payment_dlq] == [("bk-pay", "CONSTRAINT")]

    with psycopg.connect(dsns["booking"]) as conn:
        assert conn.execute("SELECT booking_id FROM bookings").fetchall() == [("bk-good",)]
    with psycopg.connect(dsns["inventory"]) as conn:
        assert conn.execute("SELECT item_id FROM inventory").fetchall() == [("item-y",)]
    with psycopg.connect(dsns["payment"]) as conn:
        rows = conn.execute("SELECT transaction_id, outcome FROM payment_transactions").fetchall()
        assert rows == [("cmd-1", "SUCCEEDED")]
        payment = conn.execute("SELECT status, captured_count FROM payments").fetchall()
        assert payment == [("CAPTURED", 1)]
