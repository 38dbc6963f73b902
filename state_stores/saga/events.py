"""What the saga tells the world: booking changes, step audit events, notifications, timers."""

from __future__ import annotations

from msgspec.structs import replace

from schemas import topics
from schemas.base import BookingStatus
from schemas.booking_events import EVENT_FOR_STATUS, BookingChange
from schemas.codec import encode
from schemas.saga_events import SagaStepChanged, StepAction, StepStatus
from schemas.timers import ScheduleTimer, StepTimedOut

from .notifications import notify
from .state import COMPENSATIONS, SagaState, StepName
from .turn import SagaTurn


def record_step(
    state: SagaState, turn: SagaTurn, step: StepName, status: StepStatus, detail: str = ""
) -> SagaState:
    sequence = state.step_events + 1
    turn.emit(
        SagaStepChanged(
            **turn.envelope(),
            booking_id=state.booking_id,
            saga_state=state.phase,
            step=step,
            action=_action_of(state, step),
            status=status,
            attempt=state.attempts.get(step, 0 if status == "SKIPPED" else 1),
            version=sequence,
            detail=detail,
        )
    )
    return replace(state, step_events=sequence)


def _action_of(state: SagaState, step: StepName) -> StepAction:
    if step in COMPENSATIONS or step == "CANCEL_BOOKING":
        return "COMPENSATION"
    # Notifying about a cancellation or failure is the compensation path's last step.
    if step == "NOTIFY" and state.phase in ("CANCELLED", "FAILED"):
        return "COMPENSATION"
    return "ACTION"


def booking_event(state: SagaState, turn: SagaTurn, kind: type[BookingChange]) -> BookingChange:
    return kind(
        **turn.envelope(),
        booking_id=state.booking_id,
        user_id=state.user_id,
        item_id=state.item_id,
        quantity=state.quantity,
        status=state.status,
        version=state.version,
        created_at=state.created_at,
        amount=state.amount,
        reason=state.reason,
        payment_id=state.payment_id,
    )


def set_status(
    state: SagaState,
    turn: SagaTurn,
    status: BookingStatus,
    reason: str = "",
    kind: type[BookingChange] | None = None,
) -> SagaState:
    """A status change: new booking version, the Booking* event, notifications on every channel."""
    state = replace(state, status=status, reason=reason, version=state.version + 1)
    event = booking_event(state, turn, kind or EVENT_FOR_STATUS[status])
    turn.emit(event)
    channels = notify(state, turn, event_name=type(event).__name__.removeprefix("Booking").lower())
    return record_step(state, turn, "NOTIFY", "SUCCEEDED", detail=",".join(channels))


def schedule_timeout(state: SagaState, turn: SagaTurn, step: StepName, due_at: int) -> None:
    """A timer that sends StepTimedOut for the current deadline_version back to this saga."""
    timeout = StepTimedOut(
        **turn.envelope(occurred_at=due_at),
        booking_id=state.booking_id,
        step=step,
        deadline_version=state.deadline_version,
    )
    turn.emit(
        ScheduleTimer(
            **turn.envelope(),
            timer_id=f"{state.booking_id}:{state.deadline_version}",
            due_at=due_at,
            target_topic=topics.SAGA_TIMEOUTS.name,
            target_key=state.booking_id,
            payload=encode(timeout),
        )
    )
