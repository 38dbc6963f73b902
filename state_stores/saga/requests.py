"""Cancel and refund requests: honoured at the next safe point, never mid-step."""

from __future__ import annotations

from msgspec.structs import replace

from schemas.base import BookingStatus, FailureReason

from .compensation import compensate
from .events import record_step
from .state import SagaState
from .turn import SagaTurn

CANCELLED = BookingStatus.CANCELLED


def on_cancel(state: SagaState, turn: SagaTurn) -> SagaState:
    match state.phase:
        case "COMPLETED":
            return compensate(state, turn, CANCELLED, FailureReason.USER_CANCELLED.value)
        case "RESERVING" | "AUTHORIZING" | "CONFIRMING" | "CAPTURING" if not state.cancel_requested:
            # A step is in flight (or retrying): unwinding now could miss what it does, e.g.
            # a hold placed after our release. Its reply starts the compensation instead.
            state = replace(state, cancel_requested=True)
            detail = "requested; waits for the step in flight"
            return record_step(state, turn, "CANCEL_BOOKING", "STARTED", detail)
    return state  # already unwinding, already asked, or final


def on_refund(state: SagaState, turn: SagaTurn) -> SagaState:
    if state.phase != "COMPLETED":
        return state
    return compensate(state, turn, CANCELLED, FailureReason.REFUNDED.value)
