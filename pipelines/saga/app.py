"""The saga process: every topic keyed by bookingId that moves a booking along.

Inputs (co-partitioned, one state per booking across all four): booking-commands,
inventory-events, payment-events, saga-timeouts. Exactly-once: the saga's new state,
the commands it sends, the booking events and the timers it schedules commit in one
transaction with the input offsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from schemas.booking_commands import CreateBooking
from schemas.command_ids import booking_id_for
from schemas.topics import BOOKING_COMMANDS, INVENTORY_EVENTS, PAYMENT_EVENTS, SAGA_TIMEOUTS
from state_stores.base import KeyValueStore
from state_stores.saga import SagaPolicy, handle_saga_message
from tessera.config import Settings

from ..runtime import metrics
from ..runtime.application import run_processor

ROLE = "saga"
INPUTS = [BOOKING_COMMANDS, INVENTORY_EVENTS, PAYMENT_EVENTS, SAGA_TIMEOUTS]


def policy_from(settings: Settings) -> SagaPolicy:
    return SagaPolicy(
        hold_ttl_ms=settings.hold_ttl_s * 1000,
        action_deadline_ms=settings.step_timeout_s * 1000,
    )


def validate(message: Any) -> str | None:
    """Booking ids are derived, never chosen: see schemas/command_ids.py."""
    if isinstance(message, CreateBooking) and message.booking_id != booking_id_for(
        message.message_id
    ):
        return "booking_id must be booking_id_for(message_id)"
    return None


def handle(policy: SagaPolicy, store: KeyValueStore, message: Any, now_ms: int) -> Iterable[Any]:
    return handle_saga_message(store, message, now_ms, policy)


def main(settings: Settings, metrics_port: int | None = None) -> None:
    if metrics_port is not None:
        metrics.serve(metrics_port, ROLE)
    run_processor(settings, ROLE, INPUTS, partial(handle, policy_from(settings)), validate)
