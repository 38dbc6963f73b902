"""Timers: the action deadline, and retries of capture and compensations after PaymentFailed.

Every timer names a deadline_version; setting a new one (or leaving the step) bumps the
version, so only the latest timer counts and stale ones fall through as no-ops.
"""

from __future__ import annotations

from msgspec.structs import replace

from schemas.base import BookingStatus, FailureReason
from schemas.payment_events import PaymentFailed
from schemas.timers import StepTimedOut

from .commands import send
from .compensation import compensate, exchange
from .events import record_step, schedule_timeout
from .forward import answers_in_flight
from .state import DEADLINE_PHASES, STEP_OF_PHASE, RetriedStep, SagaState
from .turn import SagaTurn

FAILED = BookingStatus.FAILED
# PaymentFailed.operation of a compensation → the compensation it failed.
RETRIED_COMPENSATIONS: dict[str, RetriedStep] = {"VOID": "VOID_PAYMENT", "REFUND": "REFUND_PAYMENT"}


def on_payment_failed(state: SagaState, reply: PaymentFailed, turn: SagaTurn) -> SagaState:
    if state.retry_pending or not answers_in_flight(state, reply):
        return state  # a duplicate of the failure already being retried, or a stale one
    detail = reply.detail or "gateway failure"
    match (state.phase, reply.operation):
        case ("AUTHORIZING", "AUTHORIZE"):
            # Ambiguous: the gateway may have authorized. VOID_PAYMENT stays registered and
            # carries the authorize key, so the worker can find and void it.
            state = record_step(state, turn, "AUTHORIZE_PAYMENT", "FAILED", detail)
            timed_out = reply.kind == "timeout"
            reason = FailureReason.TIMEOUT if timed_out else FailureReason.PAYMENT_FAILED
            return compensate(state, turn, FAILED, reason.value)
        case ("CAPTURING", "CAPTURE"):
            attempts = state.attempts.get("CAPTURE_PAYMENT", 0)
            if attempts < turn.policy.max_capture_attempts:
                return schedule_retry(state, turn, "CAPTURE_PAYMENT", detail)
            state = record_step(state, turn, "CAPTURE_PAYMENT", "FAILED", f"gave up: {detail}")
            # Not captured as far as we know; the worker refunds instead if it finds it was.
            state = exchange(state, "REFUND_PAYMENT", "VOID_PAYMENT")
            return compensate(state, turn, FAILED, FailureReason.PAYMENT_FAILED.value)
        case ("COMPENSATING", "VOID" | "REFUND"):
            step = RETRIED_COMPENSATIONS[reply.operation]
            if state.compensating == step:
                return schedule_retry(state, turn, step, detail)
    return state


def schedule_retry(state: SagaState, turn: SagaTurn, step: RetriedStep, detail: str) -> SagaState:
    """Resend the same command (same idempotency key) after a backoff."""
    attempt = state.attempts.get(step, 1)
    delay = turn.policy.retry_delay_ms(state.booking_id, attempt)
    state = replace(state, deadline_version=state.deadline_version + 1, retry_pending=True)
    state = record_step(state, turn, step, "RETRYING", f"{detail}; retry in {delay} ms")
    schedule_timeout(state, turn, step, turn.now_ms + delay)
    return state


def on_timer(state: SagaState, timeout: StepTimedOut, turn: SagaTurn) -> SagaState:
    if timeout.deadline_version != state.deadline_version:
        return state  # superseded by a later deadline or retry
    if state.phase in DEADLINE_PHASES:
        state = record_step(state, turn, STEP_OF_PHASE[state.phase], "FAILED", "deadline passed")
        return compensate(state, turn, FAILED, FailureReason.TIMEOUT.value)
    if not state.retry_pending:
        return state
    state = replace(state, retry_pending=False)
    if state.phase == "COMPENSATING" and state.compensating is not None:
        return send(state, state.compensating, turn)
    if state.phase == "CAPTURING":
        return send(state, "CAPTURE_PAYMENT", turn)
    return state
