from __future__ import annotations

from typing import NamedTuple

import pytest

from pipelines.runtime.outputs import route
from schemas.base import BookingStatus, Envelope, Money
from schemas.booking_events import BookingCompleted
from schemas.inventory_commands import ReserveInventory
from schemas.inventory_events import CapacityRejected, HoldExpired, ItemSnapshot
from schemas.notifications import PushRequested
from schemas.payment_commands import CapturePayment
from schemas.saga_events import SagaStepChanged
from schemas.timers import ScheduleTimer, StepTimedOut, Tick


class Route(NamedTuple):
    topic: str
    key: str


USD = Money(100)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            ReserveInventory(item_id="i", booking_id="b", quantity=1, hold_expires_at=5),
            Route("inventory-commands", "i"),
        ),
        (HoldExpired(item_id="i", booking_id="b", quantity=1), Route("inventory-events", "b")),
        (
            ItemSnapshot(item_id="i", capacity=1, held=0, sold=0, price=USD, version=1),
            Route("inventory-snapshots", "i"),
        ),
        (
            CapacityRejected(item_id="i", requested_capacity=1, reason="X", sold=0, held=0),
            Route("inventory-snapshots", "i"),
        ),
        (
            CapturePayment(booking_id="b", payment_id="p", amount=USD, idempotency_key="k"),
            Route("payment-commands", "b"),
        ),
        (
            BookingCompleted(
                booking_id="b",
                user_id="u",
                item_id="i",
                quantity=1,
                status=BookingStatus.COMPLETED,
                version=4,
                created_at=0,
            ),
            Route("booking-events", "b"),
        ),
        (
            SagaStepChanged(
                booking_id="b",
                saga_state="RESERVING",
                step="RESERVE_INVENTORY",
                action="ACTION",
                status="STARTED",
                attempt=1,
                version=1,
            ),
            Route("saga-events", "b"),
        ),
        (
            PushRequested(notification_id="b:2:push", booking_id="b", user_id="u", status="X"),
            Route("notification-queue", "b:2:push"),
        ),
        (
            ScheduleTimer(
                timer_id="t", due_at=1_500, target_topic="x", target_key="k", payload=b"{}"
            ),
            Route("timers", "2"),
        ),
        (Tick(bucket=7), Route("timers", "7")),
        (StepTimedOut(booking_id="b", step="X", deadline_version=1), Route("saga-timeouts", "b")),
    ],
)
def test_each_output_goes_to_its_topic_under_its_key(message: Envelope, expected: Route) -> None:
    outbound = route(message)
    assert Route(outbound.topic, outbound.key) == expected
    assert outbound.value.startswith(b'{"type":')


def test_a_message_without_a_route_is_an_error() -> None:
    with pytest.raises(LookupError):
        route(Envelope())
