"""A little world around real sagas: the real inventory ledger, a simulated gateway, timers,
and a delivery queue the test may reorder, duplicate or hold back.

Every command a saga emits is answered: inventory commands by the ledger (in order, as one
partition would), payment commands by the gateway with a fate the test picks. Replies,
timeouts, cancels and refunds wait in `pending` until the test delivers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from schemas.base import BookingStatus, Envelope, Money
from schemas.booking_commands import CancelBooking, CreateBooking, RefundBooking
from schemas.inventory_commands import (
    ConfirmReservation,
    ExpireHold,
    ReleaseReservation,
    ReserveInventory,
    SetCapacity,
)
from schemas.inventory_events import (
    HoldExpired,
    InventoryReserved,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
)
from schemas.payment_commands import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment
from schemas.timers import ScheduleTimer, StepTimedOut
from state_stores.base import InMemoryStore
from state_stores.inventory import handle_inventory_command
from state_stores.saga import SagaInput, SagaPolicy, SagaState, handle_saga_message
from state_stores.saga.state import load_saga

from .gateway import Fate, Gateway

ITEM = "item-1"
NOW = 1_700_000_000_000
# Two capture attempts, so hypothesis reaches "gave up" (and a capture that took effect
# though both replies failed) within a short run.
POLICY = SagaPolicy(max_capture_attempts=2)
FINAL_PHASES = ("COMPLETED", "CANCELLED", "FAILED")


@dataclass
class Booking:
    booking_id: str
    quantity: int
    store: InMemoryStore = field(default_factory=InMemoryStore)
    outputs: list[Envelope] = field(default_factory=list)

    @property
    def state(self) -> SagaState | None:
        return load_saga(self.store)


class World:
    def __init__(self, quantities: list[int], capacity: int, fate: Callable[[str], Fate]) -> None:
        self.now = NOW
        self.fate = fate
        self.gateway = Gateway()
        self.violations = self.gateway.violations
        self.inventory = InMemoryStore()
        handle_inventory_command(
            self.inventory, SetCapacity(item_id=ITEM, capacity=capacity, price=Money(1_000)), NOW
        )
        self.bookings = {
            f"b{index}": Booking(f"b{index}", quantity) for index, quantity in enumerate(quantities)
        }
        self.pending: list[SagaInput] = [
            CreateBooking(
                booking_id=booking.booking_id,
                user_id="u",
                item_id=ITEM,
                quantity=booking.quantity,
                payment_method="pm_card",
                contact_email="someone@example.com",
            )
            for booking in self.bookings.values()
        ]
        self.delivered: list[SagaInput] = []
        # (booking, request type, the saga's phase when it arrived) for cancels and refunds.
        self.requests: list[tuple[str, str, str]] = []
        self.timers: list[ScheduleTimer] = []

    # -- moving the world

    def deliver(self, message: SagaInput) -> None:
        booking = self.bookings[message.booking_id]
        if isinstance(message, CancelBooking | RefundBooking):
            before = booking.state
            phase = "NONE" if before is None else before.phase
            self.requests.append((booking.booking_id, type(message).__name__, phase))
        outputs = handle_saga_message(booking.store, message, self.now, POLICY)
        self.delivered.append(message)
        booking.outputs.extend(outputs)
        state = booking.state
        for output in outputs:
            self._dispatch(output, state)

    def fire(self, index: int) -> None:
        timer = self.timers.pop(index)
        self.now = max(self.now, timer.due_at)
        if timer.target_topic == "saga-timeouts":
            self.pending.append(msgspec.json.decode(timer.payload, type=StepTimedOut))
        else:
            self._to_inventory(msgspec.json.decode(timer.payload, type=ExpireHold))

    def fire_earliest(self) -> None:
        self.fire(min(range(len(self.timers)), key=lambda i: self.timers[i].due_at))

    def all_final(self) -> bool:
        states = [booking.state for booking in self.bookings.values()]
        return all(state is not None and state.phase in FINAL_PHASES for state in states)

    # -- answering what the sagas send

    def _dispatch(self, output: Envelope, state: SagaState | None) -> None:
        match output:
            case ReserveInventory() | ConfirmReservation() | ReleaseReservation():
                self._to_inventory(output)
            case AuthorizePayment() | CapturePayment() | VoidPayment() | RefundPayment():
                if isinstance(output, CapturePayment):
                    self._check_capture(output, state)
                operation = type(output).__name__.removesuffix("Payment").upper()
                self.pending.append(self.gateway.handle(output, self.fate(operation)))
            case ScheduleTimer():
                self.timers.append(output)

    def _to_inventory(
        self, command: ReserveInventory | ConfirmReservation | ReleaseReservation | ExpireHold
    ) -> None:
        for output in handle_inventory_command(self.inventory, command, self.now):
            match output:
                case ScheduleTimer():
                    self.timers.append(output)
                case (
                    InventoryReserved()
                    | ReservationRejected()
                    | ReservationConfirmed()
                    | ReservationReleased()
                    | HoldExpired()
                ):
                    self.pending.append(output)

    def _check_capture(self, capture: CapturePayment, state: SagaState | None) -> None:
        if state is None or state.status != BookingStatus.CONFIRMED:
            self.violations.append(f"capture for {capture.booking_id} while not confirmed")
        if capture.idempotency_key != f"tessera:{capture.booking_id}:CAPTURE":
            self.violations.append(f"capture with a new key {capture.idempotency_key}")
