"""The happy path: reserve → authorize → confirm → capture, and each step's failure replies.

A reply counts only in the phase that awaits it; anything else is a duplicate or stale
and changes nothing. Failure replies must also answer the command in flight (causation),
so a late failure of an earlier attempt cannot fail the current one.
"""

from __future__ import annotations

from msgspec.structs import replace

from schemas.base import BookingStatus, Envelope, FailureReason, Money
from schemas.booking_commands import CreateBooking
from schemas.booking_events import BookingCreated
from schemas.inventory_events import (
    HoldExpired,
    InventoryReserved,
    ReservationConfirmed,
    ReservationRejected,
)
from schemas.payment_events import PaymentAuthorized, PaymentCaptured, PaymentDeclined

from .commands import send
from .compensation import compensate, drop, exchange, register
from .events import booking_event, record_step, schedule_timeout, set_status
from .state import DEADLINE_PHASES, STEP_OF_PHASE, Phase, SagaState
from .turn import SagaTurn

FAILED = BookingStatus.FAILED
CANCELLED = BookingStatus.CANCELLED
USER_CANCELLED = FailureReason.USER_CANCELLED.value


def answers_in_flight(state: SagaState, reply: Envelope) -> bool:
    return not reply.causation_id or reply.causation_id == state.in_flight_id


def start(create: CreateBooking, turn: SagaTurn) -> SagaState:
    policy, now = turn.policy, turn.now_ms
    state = SagaState(
        booking_id=create.booking_id,
        user_id=create.user_id,
        item_id=create.item_id,
        quantity=create.quantity,
        payment_method=create.payment_method,
        contact_email=create.contact_email,
        contact_phone=create.contact_phone,
        webhook_url=create.webhook_url,
        created_at=now,
        hold_expires_at=now + policy.hold_ttl_ms,
        deadline_version=1,
    )
    turn.emit(booking_event(state, turn, BookingCreated))
    state = send(register(state, "RELEASE_INVENTORY"), "RESERVE_INVENTORY", turn)
    schedule_timeout(state, turn, "RESERVE_INVENTORY", now + policy.action_deadline_ms)
    return state


def advance(state: SagaState, phase: Phase, turn: SagaTurn) -> SagaState:
    return send(replace(state, phase=phase), STEP_OF_PHASE[phase], turn)


def on_reserved(state: SagaState, reply: InventoryReserved, turn: SagaTurn) -> SagaState:
    if state.phase != "RESERVING":
        return state
    amount = reply.amount
    if not amount.currency:
        amount = Money(amount.amount_minor, turn.policy.currency)
    state = replace(state, amount=amount, hold_expires_at=reply.hold_expires_at)
    state = record_step(state, turn, "RESERVE_INVENTORY", "SUCCEEDED")
    if state.cancel_requested:
        return compensate(state, turn, CANCELLED, USER_CANCELLED)
    return advance(register(state, "VOID_PAYMENT"), "AUTHORIZING", turn)


def on_rejected(state: SagaState, reply: ReservationRejected, turn: SagaTurn) -> SagaState:
    if state.phase not in ("RESERVING", "CONFIRMING") or not answers_in_flight(state, reply):
        return state
    step = STEP_OF_PHASE[state.phase]
    state = record_step(state, turn, step, "FAILED", reply.reason)
    state = drop(state, turn, "RELEASE_INVENTORY", f"nothing held: {reply.reason}")
    # Refused at reserve: the ledger's reason. Refused at confirm: the hold is gone.
    reason = reply.reason if step == "RESERVE_INVENTORY" else FailureReason.HOLD_EXPIRED.value
    return compensate(state, turn, FAILED, reason)


def on_hold_expired(state: SagaState, event: HoldExpired, turn: SagaTurn) -> SagaState:
    if state.phase not in DEADLINE_PHASES:
        return state  # confirmed holds never expire; while unwinding the release just acks 0
    state = record_step(state, turn, STEP_OF_PHASE[state.phase], "FAILED", "hold expired")
    state = drop(state, turn, "RELEASE_INVENTORY", "hold expired")
    return compensate(state, turn, FAILED, FailureReason.HOLD_EXPIRED.value)


def on_authorized(state: SagaState, reply: PaymentAuthorized, turn: SagaTurn) -> SagaState:
    if state.phase != "AUTHORIZING":
        return state
    state = replace(state, payment_id=reply.payment_id)
    state = record_step(state, turn, "AUTHORIZE_PAYMENT", "SUCCEEDED")
    if state.cancel_requested:
        return compensate(state, turn, CANCELLED, USER_CANCELLED)
    if state.hold_expires_at - turn.now_ms > turn.policy.early_confirm_margin_ms:
        # Paid for and held with time to spare: the ledger cannot refuse the confirmation
        # that is on its way, so the client hears CONFIRMED two hops (two commits) sooner.
        # Should it refuse anyway, the booking fails and is voided, as a failed capture is.
        state = set_status(state, turn, BookingStatus.CONFIRMED)
    return advance(state, "CONFIRMING", turn)


def on_declined(state: SagaState, reply: PaymentDeclined, turn: SagaTurn) -> SagaState:
    in_step = state.phase in ("AUTHORIZING", "CAPTURING") and not state.retry_pending
    if not in_step or not answers_in_flight(state, reply):
        return state
    state = record_step(state, turn, STEP_OF_PHASE[state.phase], "FAILED", reply.decline_code)
    if state.phase == "AUTHORIZING":
        state = drop(state, turn, "VOID_PAYMENT", "declined: nothing authorized")
    else:
        state = exchange(state, "REFUND_PAYMENT", "VOID_PAYMENT")  # nothing was captured
    return compensate(state, turn, FAILED, FailureReason.PAYMENT_DECLINED.value)


def on_confirmed(state: SagaState, reply: ReservationConfirmed, turn: SagaTurn) -> SagaState:
    if state.phase != "CONFIRMING":
        return state
    state = record_step(state, turn, "CONFIRM_BOOKING", "SUCCEEDED")
    # Confirmed: the action deadline no longer applies.
    state = replace(state, deadline_version=state.deadline_version + 1)
    if state.cancel_requested:
        return compensate(state, turn, CANCELLED, USER_CANCELLED)
    if state.status != BookingStatus.CONFIRMED:
        state = set_status(state, turn, BookingStatus.CONFIRMED)
    state = exchange(state, "VOID_PAYMENT", "REFUND_PAYMENT")
    return advance(state, "CAPTURING", turn)


def on_captured(state: SagaState, reply: PaymentCaptured, turn: SagaTurn) -> SagaState:
    if state.phase != "CAPTURING":
        return state
    state = replace(
        state,
        payment_id=state.payment_id or reply.payment_id,
        retry_pending=False,
        in_flight_id="",
        deadline_version=state.deadline_version + 1,  # a pending retry timer is now stale
    )
    state = record_step(state, turn, "CAPTURE_PAYMENT", "SUCCEEDED")
    if state.cancel_requested:
        return compensate(state, turn, CANCELLED, USER_CANCELLED)
    state = replace(state, phase="COMPLETED")
    return set_status(state, turn, BookingStatus.COMPLETED)
