"""The booking saga end to end on the real stack: Kafka, every pipeline as its own process,
and the HTTP gateway simulator as the payment provider."""

from __future__ import annotations

import uuid

from load.system_harness import RunningSystem, create_booking, send, wait_until
from schemas import codec
from schemas.base import Money
from schemas.booking_commands import CancelBooking, CreateBooking
from schemas.inventory_commands import SetCapacity

TERMINAL = {"COMPLETED", "CANCELLED", "FAILED"}


def new_item(system: RunningSystem, capacity: int, price_minor: int = 1500) -> str:
    item_id = f"item-{uuid.uuid4().hex[:8]}"
    send(
        system.settings,
        system.producer,
        [SetCapacity(item_id=item_id, capacity=capacity, price=Money(price_minor, "USD"))],
    )
    wait_until(lambda: item_id in system.watcher.items, 60, f"{item_id} created")
    return item_id


def book(
    system: RunningSystem, item_id: str, payment_method: str = "pm_card_visa", quantity: int = 1
) -> str:
    command = create_booking(
        user_id=f"user-{uuid.uuid4().hex[:8]}",
        item_id=item_id,
        quantity=quantity,
        payment_method=payment_method,
    )
    send(system.settings, system.producer, [command])
    return command.booking_id


def test_happy_path_completes_and_captures_once(system: RunningSystem) -> None:
    item_id = new_item(system, capacity=5)
    booking_id = book(system, item_id, quantity=2)
    booking = system.watcher.wait_status(booking_id, TERMINAL)
    assert (str(booking.status), booking.reason) == ("COMPLETED", "")
    assert booking.amount is not None and booking.amount.amount_minor == 3000
    statuses = [str(e.status) for e in system.watcher.booking_history[booking_id]]
    assert statuses == ["PENDING", "CONFIRMED", "COMPLETED"]
    item = system.watcher.items[item_id]
    assert (item.held, item.sold, item.capacity) == (0, 2, 5)
    audit = system.gateway.audit()[booking_id]
    assert (audit["authorizations"], audit["captures"]) == (1, 1)


def test_sold_out_fails_without_touching_payment(system: RunningSystem) -> None:
    item_id = new_item(system, capacity=1)
    first = book(system, item_id)
    system.watcher.wait_status(first, TERMINAL)
    second = book(system, item_id)
    booking = system.watcher.wait_status(second, TERMINAL)
    assert (str(booking.status), booking.reason) == ("FAILED", "SOLD_OUT")
    assert second not in system.gateway.audit()


def test_decline_releases_the_hold(system: RunningSystem) -> None:
    item_id = new_item(system, capacity=3)
    booking_id = book(system, item_id, payment_method="pm_card_chargeDeclined")
    booking = system.watcher.wait_status(booking_id, TERMINAL)
    assert (str(booking.status), booking.reason) == ("FAILED", "PAYMENT_DECLINED")
    wait_until(lambda: system.watcher.items[item_id].held == 0, 30, "hold released")
    assert system.watcher.items[item_id].sold == 0


def test_gateway_timeout_voids_and_releases(system: RunningSystem) -> None:
    item_id = new_item(system, capacity=3)
    booking_id = book(system, item_id, payment_method="pm_card_timeout")
    booking = system.watcher.wait_status(booking_id, TERMINAL)
    assert str(booking.status) == "FAILED"
    assert booking.reason in {"TIMEOUT", "PAYMENT_FAILED"}
    wait_until(lambda: system.watcher.items[item_id].held == 0, 30, "hold released")
    audit = system.gateway.audit()[booking_id]
    # The timed-out call did authorize at the gateway; the compensation found and voided it.
    assert (audit["authorizations"], audit["voids"], audit["captures"]) == (1, 1, 0)


def test_a_payment_method_the_gateway_refuses_fails_and_releases(system: RunningSystem) -> None:
    item_id = new_item(system, capacity=1)
    booking_id = book(system, item_id, payment_method="pm_card_4242424242424242")
    booking = system.watcher.wait_status(booking_id, TERMINAL)
    assert (str(booking.status), booking.reason) == ("FAILED", "PAYMENT_FAILED")
    wait_until(lambda: system.watcher.items[item_id].held == 0, 30, "hold released")


def test_cancel_after_completion_refunds_and_releases(system: RunningSystem) -> None:
    item_id = new_item(system, capacity=2)
    booking_id = book(system, item_id)
    system.watcher.wait_status(booking_id, {"COMPLETED"})
    send(system.settings, system.producer, [CancelBooking(booking_id=booking_id)])
    booking = system.watcher.wait_status(booking_id, {"CANCELLED"})
    assert booking.reason == "USER_CANCELLED"
    wait_until(lambda: system.watcher.items[item_id].sold == 0, 30, "stock returned")
    audit = system.gateway.audit()[booking_id]
    assert (audit["captures"], audit["refunds"]) == (1, 1)


def test_poison_input_is_dead_lettered_and_processing_continues(system: RunningSystem) -> None:
    from confluent_kafka import Consumer

    topic = system.settings.topic("booking-commands")
    system.producer.produce(topic, key=b"junk", value=b"{not json")
    system.producer.produce(topic, key=b"bad", value=b'{"type":"CreateBooking","quantity":0}')
    chosen = CreateBooking(
        booking_id="i-chose-this",
        user_id="u",
        item_id="i",
        quantity=1,
        payment_method="pm_card_visa",
    )
    system.producer.produce(topic, key=b"chosen", value=codec.encode(chosen))
    system.producer.flush(10)
    item_id = new_item(system, capacity=1)
    booking_id = book(system, item_id)
    system.watcher.wait_status(booking_id, TERMINAL)

    consumer = Consumer(
        {
            "bootstrap.servers": system.settings.kafka_bootstrap,
            "group.id": f"{topic}.dlq-reader",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"{topic}.dlq"])
    reasons = {}
    wait_until(lambda: _collect(consumer, reasons) >= 3, 30, "three dead letters")
    consumer.close()
    assert reasons == {b"junk": b"UNDECODABLE", b"bad": b"INVALID", b"chosen": b"INVALID"}


def _collect(consumer, into: dict) -> int:
    for message in consumer.consume(10, 0.5):
        if message.error() is None:
            into[message.key()] = dict(message.headers())["x-dlq-reason"]
    return len(into)
