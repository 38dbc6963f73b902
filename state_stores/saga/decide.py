"""The saga's one entry point: (state, message, now, policy) → (new state, messages to send).

Pure and deterministic: no I/O, no clock, output ids derived from the input. A message
that does not fit the saga's phase (duplicate, stale, reordered, unknown booking) returns
the state unchanged, the very same object, and no output.
"""

from __future__ import annotations

from typing import assert_never

from schemas.base import Envelope
from schemas.booking_commands import BookingCommand, CancelBooking, CreateBooking, RefundBooking
from schemas.inventory_events import (
    HoldExpired,
    InventoryEvent,
    InventoryReserved,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
)
from schemas.payment_events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)
from schemas.timers import StepTimedOut

from ..exceptions import MisroutedMessageError
from . import forward, requests, retries
from .compensation import on_compensated
from .policy import SagaPolicy
from .state import FINAL_PHASES, SagaState
from .turn import SagaTurn

SagaInput = BookingCommand | InventoryEvent | PaymentEvent | StepTimedOut


def decide(
    state: SagaState | None, message: SagaInput, now_ms: int, policy: SagaPolicy
) -> tuple[SagaState | None, list[Envelope]]:
    turn = SagaTurn(message, now_ms, policy)
    if isinstance(message, CreateBooking):
        if state is not None:
            return state, []  # a redelivered or repeated create: the saga already runs
        return forward.start(message, turn), turn.messages
    if state is None or state.phase in FINAL_PHASES:
        return state, []
    if message.booking_id != state.booking_id:
        raise MisroutedMessageError(f"{message.booking_id} reached saga {state.booking_id}")
    return _dispatch(state, message, turn), turn.messages


def _dispatch(
    state: SagaState,
    message: CancelBooking | RefundBooking | InventoryEvent | PaymentEvent | StepTimedOut,
    turn: SagaTurn,
) -> SagaState:
    match message:
        case CancelBooking():
            return requests.on_cancel(state, turn)
        case RefundBooking():
            return requests.on_refund(state, turn)
        case InventoryReserved():
            return forward.on_reserved(state, message, turn)
        case ReservationRejected():
            return forward.on_rejected(state, message, turn)
        case ReservationConfirmed():
            return forward.on_confirmed(state, message, turn)
        case HoldExpired():
            return forward.on_hold_expired(state, message, turn)
        case ReservationReleased():
            return on_compensated(state, "RELEASE_INVENTORY", turn)
        case PaymentAuthorized():
            return forward.on_authorized(state, message, turn)
        case PaymentDeclined():
            return forward.on_declined(state, message, turn)
        case PaymentCaptured():
            return forward.on_captured(state, message, turn)
        case PaymentVoided():
            return on_compensated(state, "VOID_PAYMENT", turn)
        case PaymentRefunded():
            # A void can come back as a refund: the worker refunds a payment it finds
            # captured (a capture that succeeded though every reply said it failed).
            if state.compensating == "VOID_PAYMENT":
                return on_compensated(state, "VOID_PAYMENT", turn)
            return on_compensated(state, "REFUND_PAYMENT", turn)
        case PaymentFailed():
            return retries.on_payment_failed(state, message, turn)
        case StepTimedOut():
            return retries.on_timer(state, message, turn)
        case _:
            assert_never(message)
