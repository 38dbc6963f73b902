"""Duplicates, stale and reordered replies, unknown bookings: no output, no change."""

from __future__ import annotations

import pytest

from schemas.base import Envelope, Money
from schemas.booking_commands import CreateBooking
from schemas.inventory_events import (
    HoldExpired,
    InventoryReserved,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
)
from schemas.payment_events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)
from schemas.timers import StepTimedOut
from state_stores.base import InMemoryStore
from state_stores.exceptions import InvalidPolicyError, MisroutedMessageError
from state_stores.saga import SagaInput, SagaPolicy, handle_saga_message

from .driver import BOOKING, ITEM, NOW, SagaDriver

AMOUNT = Money(5_000)


def every_reply(booking: str = BOOKING) -> list[SagaInput]:
    return [
        InventoryReserved(
            item_id=ITEM, booking_id=booking, quantity=2, amount=AMOUNT, hold_expires_at=NOW
        ),
        ReservationRejected(item_id=ITEM, booking_id=booking, reason="SOLD_OUT"),
        ReservationConfirmed(item_id=ITEM, booking_id=booking, quantity=2),
        ReservationReleased(item_id=ITEM, booking_id=booking, quantity=2),
        HoldExpired(item_id=ITEM, booking_id=booking, quantity=2),
        PaymentAuthorized(booking_id=booking, payment_id="pi", amount=AMOUNT),
        PaymentDeclined(booking_id=booking, decline_code="x"),
        PaymentCaptured(booking_id=booking, payment_id="pi", amount=AMOUNT),
        PaymentVoided(booking_id=booking, payment_id="pi"),
        PaymentRefunded(booking_id=booking, payment_id="pi", amount=AMOUNT),
        PaymentFailed(booking_id=booking, operation="CAPTURE"),
        StepTimedOut(booking_id=booking, step="X", deadline_version=99),
    ]


def test_a_duplicate_create_is_a_no_op() -> None:
    saga = SagaDriver()
    saga.create()
    stored = saga.store.get("saga")
    assert saga.create() == []
    assert saga.create(quantity=5) == []
    assert saga.store.get("saga") == stored


def test_replies_for_a_booking_without_a_saga_produce_nothing() -> None:
    store = InMemoryStore()
    for reply in every_reply():
        assert handle_saga_message(store, reply, NOW) == []
    assert len(store) == 0


@pytest.mark.parametrize(
    "reached", ["RESERVING", "AUTHORIZING", "CONFIRMING", "CAPTURING", "COMPLETED"]
)
def test_replies_out_of_phase_change_nothing(reached: str) -> None:
    saga = SagaDriver()
    saga.create()
    path = [saga.reserved, saga.authorized, saga.confirmed, saga.captured]
    phases = ["RESERVING", "AUTHORIZING", "CONFIRMING", "CAPTURING", "COMPLETED"]
    for answer in path[: phases.index(reached)]:
        answer()
    assert saga.state.phase == reached
    expected_in_phase: dict[str, set[type[Envelope]]] = {
        "RESERVING": {InventoryReserved, ReservationRejected, HoldExpired},
        "AUTHORIZING": {PaymentAuthorized, PaymentDeclined, HoldExpired},
        "CONFIRMING": {ReservationConfirmed, ReservationRejected, HoldExpired},
        "CAPTURING": {PaymentCaptured, PaymentDeclined, PaymentFailed},
        "COMPLETED": set(),
    }
    for reply in every_reply():
        if type(reply) in expected_in_phase[reached]:
            continue
        stored = saga.store.get("saga")
        assert saga.send(reply) == [], type(reply).__name__
        assert saga.store.get("saga") == stored


def test_each_reply_delivered_twice_acts_once() -> None:
    saga = SagaDriver()
    saga.create()
    for answer in (saga.reserved, saga.authorized, saga.confirmed, saga.captured):
        assert answer() != []
        stored = saga.store.get("saga")
        assert answer() == []
        assert saga.store.get("saga") == stored
    assert saga.state.phase == "COMPLETED"


def test_nothing_moves_a_final_saga() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserve_rejected()
    stored = saga.store.get("saga")
    for message in [*every_reply(), *[saga.sent[0]]]:
        if isinstance(message, CreateBooking):
            continue
        assert saga.send(message) == []
    assert saga.cancel() == []
    assert saga.refund() == []
    assert saga.store.get("saga") == stored


def test_a_message_for_another_booking_is_a_routing_error() -> None:
    saga = SagaDriver()
    saga.create()
    with pytest.raises(MisroutedMessageError):
        saga.send(every_reply(booking="someone-else")[0])


@pytest.mark.parametrize(
    "bad",
    [
        {"hold_ttl_ms": 0},
        {"action_deadline_ms": -1},
        {"max_capture_attempts": 0},
        {"retry_backoff_base_ms": 10, "retry_backoff_max_ms": 5},
    ],
)
def test_a_policy_that_cannot_work_is_refused(bad: dict[str, int]) -> None:
    with pytest.raises(InvalidPolicyError):
        SagaPolicy(**bad)
