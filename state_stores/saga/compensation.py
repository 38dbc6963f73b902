"""Unwinding: compensations registered before each action run one at a time, last first.

Each compensation is retried until it succeeds (retries.py); when the stack is empty the
saga reaches the outcome it was unwinding towards and tells the booking's owner.
"""

from __future__ import annotations

from msgspec.structs import replace

from schemas.base import BookingStatus, FailureReason
from schemas.booking_events import EVENT_FOR_STATUS, BookingRefunded

from .commands import send
from .events import record_step, set_status
from .state import Compensation, SagaState
from .turn import SagaTurn


def register(state: SagaState, compensation: Compensation) -> SagaState:
    """Push before the action it undoes is sent, so a crash in between still unwinds it."""
    return replace(state, compensations=(*state.compensations, compensation))


def exchange(state: SagaState, old: Compensation, new: Compensation) -> SagaState:
    """Swap a registered compensation in place (a capture turns 'void' into 'refund')."""
    swapped = tuple(new if step == old else step for step in state.compensations)
    return replace(state, compensations=swapped)


def drop(state: SagaState, turn: SagaTurn, compensation: Compensation, detail: str) -> SagaState:
    """Forget a compensation with nothing left to undo (the hold expired, the card declined)."""
    if compensation not in state.compensations:
        return state
    remaining = tuple(step for step in state.compensations if step != compensation)
    state = replace(state, compensations=remaining)
    return record_step(state, turn, compensation, "SKIPPED", detail)


def compensate(state: SagaState, turn: SagaTurn, status: BookingStatus, reason: str) -> SagaState:
    """Start unwinding towards `status` (reason). A cancel asked for earlier wins over a
    failure that happened meanwhile: the user's request came first."""
    if state.cancel_requested and status == BookingStatus.FAILED:
        status, reason = BookingStatus.CANCELLED, FailureReason.USER_CANCELLED.value
    state = replace(
        state,
        phase="COMPENSATING",
        outcome_status=status,
        outcome_reason=reason,
        # Invalidate any deadline or retry timer still set for the forward steps.
        deadline_version=state.deadline_version + 1,
        retry_pending=False,
        in_flight_id="",
    )
    return run_next(state, turn)


def run_next(state: SagaState, turn: SagaTurn) -> SagaState:
    if not state.compensations:
        return finish(state, turn)
    *rest, step = state.compensations
    state = replace(state, compensations=tuple(rest), compensating=step)
    return send(state, step, turn)


def on_compensated(state: SagaState, step: Compensation, turn: SagaTurn) -> SagaState:
    if state.phase != "COMPENSATING" or state.compensating != step:
        return state  # a duplicate or stale reply
    state = replace(state, compensating=None, retry_pending=False, in_flight_id="")
    state = record_step(state, turn, step, "SUCCEEDED")
    return run_next(state, turn)


def finish(state: SagaState, turn: SagaTurn) -> SagaState:
    status = state.outcome_status or BookingStatus.FAILED
    reason = state.outcome_reason
    phase = "CANCELLED" if status == BookingStatus.CANCELLED else "FAILED"
    state = replace(state, phase=phase, compensating=None, in_flight_id="")
    state = record_step(state, turn, "CANCEL_BOOKING", "SUCCEEDED", detail=reason)
    refunded = reason == FailureReason.REFUNDED
    kind = BookingRefunded if refunded else EVENT_FOR_STATUS[status]
    return set_status(state, turn, status, reason, kind)
