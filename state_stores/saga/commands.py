"""The commands the saga sends, one per step, and sending one (first try or retry alike).

A step's command is rebuilt from state on every attempt, so a retry carries the same
idempotency key as the first try and the gateway can never act twice.
"""

from __future__ import annotations

from msgspec.structs import replace

from schemas.base import Envelope, Money
from schemas.inventory_commands import ConfirmReservation, ReleaseReservation, ReserveInventory
from schemas.payment_commands import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment

from .events import record_step
from .state import Compensation, ForwardStep, SagaState
from .turn import SagaTurn


def idempotency_key(booking_id: str, operation: str) -> str:
    return f"tessera:{booking_id}:{operation}"


def send(state: SagaState, step: ForwardStep | Compensation, turn: SagaTurn) -> SagaState:
    """Emit the step's command and remember it as the one whose reply is awaited."""
    command = command_for(state, step, turn)
    turn.emit(command)
    attempts = {**state.attempts, step: state.attempts.get(step, 0) + 1}
    state = replace(state, attempts=attempts, in_flight_id=command.message_id)
    return record_step(state, turn, step, "STARTED")


def command_for(state: SagaState, step: ForwardStep | Compensation, turn: SagaTurn) -> Envelope:
    booking_id, item_id = state.booking_id, state.item_id
    amount = state.amount or Money(0, turn.policy.currency)
    match step:
        case "RESERVE_INVENTORY":
            return ReserveInventory(
                **turn.envelope(),
                item_id=item_id,
                booking_id=booking_id,
                quantity=state.quantity,
                hold_expires_at=state.hold_expires_at,
            )
        case "AUTHORIZE_PAYMENT":
            return AuthorizePayment(
                **turn.envelope(),
                booking_id=booking_id,
                amount=amount,
                payment_method=state.payment_method,
                idempotency_key=idempotency_key(booking_id, "AUTHORIZE"),
            )
        case "CONFIRM_BOOKING":
            return ConfirmReservation(**turn.envelope(), item_id=item_id, booking_id=booking_id)
        case "CAPTURE_PAYMENT":
            return CapturePayment(
                **turn.envelope(),
                booking_id=booking_id,
                payment_id=state.payment_id,
                amount=amount,
                idempotency_key=idempotency_key(booking_id, "CAPTURE"),
            )
        case "RELEASE_INVENTORY":
            return ReleaseReservation(
                **turn.envelope(),
                item_id=item_id,
                booking_id=booking_id,
                reason=state.outcome_reason,
            )
        case "VOID_PAYMENT":
            # Always carry what the worker needs to find an authorization whose outcome it
            # never learned (payment_id empty): it replays the authorize key, then voids.
            return VoidPayment(
                **turn.envelope(),
                booking_id=booking_id,
                payment_id=state.payment_id,
                idempotency_key=idempotency_key(booking_id, "VOID"),
                authorize_idempotency_key=idempotency_key(booking_id, "AUTHORIZE"),
                amount=amount,
                payment_method=state.payment_method,
            )
        case "REFUND_PAYMENT":
            return RefundPayment(
                **turn.envelope(),
                booking_id=booking_id,
                payment_id=state.payment_id,
                amount=amount,
                idempotency_key=idempotency_key(booking_id, "REFUND"),
            )
