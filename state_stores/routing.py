"""Where each output of the state machines goes: its topic and its Kafka key.

The state machines return plain messages; the pipelines produce each one with `route`, so
the mapping from message type to topic lives in one place next to the code that emits them.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas import topics
from schemas.base import Envelope
from schemas.booking_events import BookingChange
from schemas.inventory_commands import (
    ConfirmReservation,
    ExpireHold,
    ReleaseReservation,
    ReserveInventory,
    SetCapacity,
)
from schemas.inventory_events import (
    CapacityRejected,
    HoldExpired,
    InventoryReserved,
    ItemSnapshot,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
)
from schemas.notifications import EmailRequested, PushRequested, SmsRequested, WebhookRequested
from schemas.payment_commands import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment
from schemas.saga_events import SagaStepChanged
from schemas.timers import ScheduleTimer, StepTimedOut, Tick, bucket_of

from .exceptions import UnroutableMessageError


class Route(NamedTuple):
    topic: str
    key: str


def route(message: Envelope) -> Route:
    match message:
        case (
            ReserveInventory()
            | ConfirmReservation()
            | ReleaseReservation()
            | ExpireHold()
            | SetCapacity()
        ):
            return Route(topics.INVENTORY_COMMANDS.name, message.item_id)
        case (
            InventoryReserved()
            | ReservationRejected()
            | ReservationConfirmed()
            | ReservationReleased()
            | HoldExpired()
        ):
            return Route(topics.INVENTORY_EVENTS.name, message.booking_id)
        case ItemSnapshot() | CapacityRejected():
            return Route(topics.INVENTORY_SNAPSHOTS.name, message.item_id)
        case AuthorizePayment() | CapturePayment() | VoidPayment() | RefundPayment():
            return Route(topics.PAYMENT_COMMANDS.name, message.booking_id)
        case BookingChange():
            return Route(topics.BOOKING_EVENTS.name, message.booking_id)
        case SagaStepChanged():
            return Route(topics.SAGA_EVENTS.name, message.booking_id)
        case EmailRequested() | SmsRequested() | WebhookRequested() | PushRequested():
            return Route(topics.NOTIFICATION_QUEUE.name, message.notification_id)
        case ScheduleTimer():
            return Route(topics.TIMERS.name, str(bucket_of(message.due_at)))
        case Tick():
            return Route(topics.TIMERS.name, str(message.bucket))
        case StepTimedOut():
            return Route(topics.SAGA_TIMEOUTS.name, message.booking_id)
    raise UnroutableMessageError(f"no route for {type(message).__name__}")
