"""Drives one saga through the pure handler and answers its commands by hand."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from schemas.base import Envelope, Money, caused_by
from schemas.booking_commands import CancelBooking, CreateBooking, RefundBooking
from schemas.inventory_commands import ConfirmReservation, ReleaseReservation, ReserveInventory
from schemas.inventory_events import (
    HoldExpired,
    InventoryReserved,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
)
from schemas.payment_commands import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment
from schemas.payment_events import (
    FailureKind,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)
from schemas.saga_events import SagaStepChanged
from schemas.timers import ScheduleTimer, StepTimedOut
from state_stores.base import InMemoryStore
from state_stores.saga import SagaInput, SagaPolicy, SagaState, handle_saga_message
from state_stores.saga.state import load_saga

BOOKING = "bk-1"
ITEM = "item-1"
NOW = 1_700_000_000_000
UNIT_PRICE = 2_500
PAYMENT_ID = "pi_123"

M = TypeVar("M", bound=Envelope)


# The step-by-step examples pin the ledger-confirmed order (CONFIRMED after the ledger
# confirms); test_early_confirmation.py and the world properties run the default policy.
LEDGER_CONFIRMED = SagaPolicy(early_confirm_margin_ms=10**12)


class SagaDriver:
    def __init__(self, policy: SagaPolicy | None = None) -> None:
        self.store = InMemoryStore()
        self.policy = policy or LEDGER_CONFIRMED
        self.now = NOW
        self.sent: list[Envelope] = []  # everything the saga produced, in order

    # -- feeding the saga

    def send(self, message: SagaInput, advance_ms: int = 0) -> list[Envelope]:
        self.now += advance_ms
        outputs = handle_saga_message(self.store, message, self.now, self.policy)
        self.sent.extend(outputs)
        return outputs

    def create(self, **overrides: Any) -> list[Envelope]:
        fields: dict[str, Any] = {
            "booking_id": BOOKING,
            "user_id": "user-1",
            "item_id": ITEM,
            "quantity": 2,
            "payment_method": "pm_card_visa",
            "contact_email": "ada@example.com",
        }
        fields.update(overrides)
        return self.send(CreateBooking(**fields))

    def cancel(self) -> list[Envelope]:
        return self.send(CancelBooking(booking_id=BOOKING))

    def refund(self) -> list[Envelope]:
        return self.send(RefundBooking(booking_id=BOOKING))

    # -- what the saga did

    @property
    def state(self) -> SagaState:
        state = load_saga(self.store)
        assert state is not None
        return state

    def last(self, kind: type[M]) -> M:
        for message in reversed(self.sent):
            if isinstance(message, kind):
                return message
        raise AssertionError(f"the saga never sent a {kind.__name__}")

    def all(self, kind: type[M]) -> list[M]:
        return [message for message in self.sent if isinstance(message, kind)]

    def steps(self) -> list[tuple[str, str, str]]:
        return [(e.step, e.action, e.status) for e in self.all(SagaStepChanged)]

    # -- answering its commands

    def reserved(self) -> list[Envelope]:
        command = self.last(ReserveInventory)
        return self.send(
            InventoryReserved(
                **caused_by(command),
                item_id=command.item_id,
                booking_id=command.booking_id,
                quantity=command.quantity,
                amount=Money(UNIT_PRICE * command.quantity),
                hold_expires_at=command.hold_expires_at,
            )
        )

    def reserve_rejected(self, reason: str = "SOLD_OUT") -> list[Envelope]:
        command = self.last(ReserveInventory)
        return self.send(
            ReservationRejected(
                **caused_by(command), item_id=ITEM, booking_id=BOOKING, reason=reason
            )
        )

    def authorized(self) -> list[Envelope]:
        command = self.last(AuthorizePayment)
        return self.send(
            PaymentAuthorized(
                **caused_by(command),
                booking_id=BOOKING,
                payment_id=PAYMENT_ID,
                amount=command.amount,
            )
        )

    def declined(self) -> list[Envelope]:
        command = self.last(AuthorizePayment)
        return self.send(
            PaymentDeclined(**caused_by(command), booking_id=BOOKING, decline_code="card_declined")
        )

    def payment_failed(
        self, command: Envelope, operation: str, detail: str = "", kind: FailureKind = "error"
    ) -> list[Envelope]:
        return self.send(
            PaymentFailed(
                **caused_by(command),
                booking_id=BOOKING,
                operation=operation,
                detail=detail,
                kind=kind,
            )
        )

    def confirmed(self) -> list[Envelope]:
        command = self.last(ConfirmReservation)
        return self.send(
            ReservationConfirmed(**caused_by(command), item_id=ITEM, booking_id=BOOKING, quantity=2)
        )

    def confirm_rejected(self, reason: str = "HOLD_EXPIRED") -> list[Envelope]:
        command = self.last(ConfirmReservation)
        return self.send(
            ReservationRejected(
                **caused_by(command), item_id=ITEM, booking_id=BOOKING, reason=reason
            )
        )

    def hold_expired(self) -> list[Envelope]:
        return self.send(HoldExpired(item_id=ITEM, booking_id=BOOKING, quantity=2))

    def captured(self) -> list[Envelope]:
        command = self.last(CapturePayment)
        return self.send(
            PaymentCaptured(
                **caused_by(command),
                booking_id=BOOKING,
                payment_id=PAYMENT_ID,
                amount=command.amount,
            )
        )

    def released(self) -> list[Envelope]:
        command = self.last(ReleaseReservation)
        return self.send(
            ReservationReleased(**caused_by(command), item_id=ITEM, booking_id=BOOKING, quantity=2)
        )

    def voided(self) -> list[Envelope]:
        command = self.last(VoidPayment)
        return self.send(
            PaymentVoided(**caused_by(command), booking_id=BOOKING, payment_id=PAYMENT_ID)
        )

    def refunded(self) -> list[Envelope]:
        command = self.last(RefundPayment)
        return self.send(
            PaymentRefunded(
                **caused_by(command),
                booking_id=BOOKING,
                payment_id=PAYMENT_ID,
                amount=command.amount,
            )
        )

    def fire(self, timer: ScheduleTimer) -> list[Envelope]:
        """Deliver a timer's payload when it is due."""
        timeout = msgspec.json.decode(timer.payload, type=StepTimedOut)
        return self.send(timeout, advance_ms=max(timer.due_at - self.now, 0))

    def fire_last_timer(self) -> list[Envelope]:
        return self.fire(self.last(ScheduleTimer))

    # -- shortcuts

    def to_confirmed(self) -> None:
        self.create()
        self.reserved()
        self.authorized()
        self.confirmed()

    def to_completed(self) -> None:
        self.to_confirmed()
        self.captured()


def types(outputs: list[Envelope]) -> list[str]:
    return [type(message).__name__ for message in outputs]


def one(outputs: list[Envelope], kind: type[M]) -> M:
    found = [message for message in outputs if isinstance(message, kind)]
    assert len(found) == 1, f"expected one {kind.__name__} in {types(outputs)}"
    return found[0]


def commands(outputs: list[Envelope]) -> list[str]:
    """The commands among outputs (to inventory or payment), by type."""
    kinds = (
        ReserveInventory,
        ConfirmReservation,
        ReleaseReservation,
        AuthorizePayment,
        CapturePayment,
        VoidPayment,
        RefundPayment,
    )
    return [type(m).__name__ for m in outputs if isinstance(m, kinds)]
