"""What the saga stores per booking (one record under "saga"), and its closed vocabularies."""

from __future__ import annotations

from typing import Literal

import msgspec

from schemas.base import BookingStatus, Money

from ..base import KeyValueStore
from ..codec import decode_state, encode_state

Phase = Literal[
    "RESERVING",
    "AUTHORIZING",
    "CONFIRMING",
    "CAPTURING",
    "COMPLETED",
    "COMPENSATING",
    "CANCELLED",
    "FAILED",
]
Compensation = Literal["RELEASE_INVENTORY", "VOID_PAYMENT", "REFUND_PAYMENT"]
ForwardStep = Literal[
    "RESERVE_INVENTORY", "AUTHORIZE_PAYMENT", "CONFIRM_BOOKING", "CAPTURE_PAYMENT"
]
# Steps retried with the same idempotency key after PaymentFailed, until they succeed
# (capture: up to SagaPolicy.max_capture_attempts).
RetriedStep = Literal["CAPTURE_PAYMENT", "VOID_PAYMENT", "REFUND_PAYMENT"]
StepName = ForwardStep | Compensation | Literal["NOTIFY", "CANCEL_BOOKING"]

STEP_OF_PHASE: dict[Phase, ForwardStep] = {
    "RESERVING": "RESERVE_INVENTORY",
    "AUTHORIZING": "AUTHORIZE_PAYMENT",
    "CONFIRMING": "CONFIRM_BOOKING",
    "CAPTURING": "CAPTURE_PAYMENT",
}
# Phases the single action deadline guards: before the booking is confirmed.
DEADLINE_PHASES: frozenset[Phase] = frozenset({"RESERVING", "AUTHORIZING", "CONFIRMING"})
FINAL_PHASES: frozenset[Phase] = frozenset({"CANCELLED", "FAILED"})
COMPENSATIONS: frozenset[str] = frozenset({"RELEASE_INVENTORY", "VOID_PAYMENT", "REFUND_PAYMENT"})

SAGA_KEY = "saga"


class SagaState(msgspec.Struct, frozen=True, kw_only=True):
    # The booking as requested.
    booking_id: str
    user_id: str
    item_id: str
    quantity: int
    payment_method: str
    contact_email: str = ""
    contact_phone: str = ""
    webhook_url: str = ""
    created_at: int
    hold_expires_at: int
    # The booking as clients see it; `version` grows by one per status change.
    status: BookingStatus = BookingStatus.PENDING
    reason: str = ""
    version: int = 1
    amount: Money | None = None
    payment_id: str = ""
    # Where the saga is.
    phase: Phase = "RESERVING"
    compensations: tuple[Compensation, ...] = ()  # registered before each action; last runs first
    compensating: Compensation | None = None  # the compensation whose reply is awaited
    cancel_requested: bool = False  # asked while a step was in flight; honoured at its reply
    outcome_status: BookingStatus | None = None  # where compensation ends
    outcome_reason: str = ""
    # Timers: only a StepTimedOut naming the current deadline_version counts.
    deadline_version: int = 0
    retry_pending: bool = False  # a retry timer is set for the current step
    in_flight_id: str = ""  # message id of the command awaiting a reply
    attempts: dict[str, int] = msgspec.field(default_factory=dict)
    step_events: int = 0  # SagaStepChanged sequence, the audit trail's order


def load_saga(store: KeyValueStore) -> SagaState | None:
    data = store.get(SAGA_KEY)
    return None if data is None else decode_state(data, SagaState)


def save_saga(store: KeyValueStore, state: SagaState) -> None:
    store.set(SAGA_KEY, encode_state(state))
