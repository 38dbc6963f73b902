"""booking database: bookings (the latest view) + booking_history (one row per version),
from booking-events. Every column comes from the event, so a replay writes the same rows."""

from __future__ import annotations

from typing import Any

from schemas.booking_events import BookingChange
from schemas.topics import BOOKING_EVENTS, TopicSpec

from ..base.records import SourceRecord
from .projection import Projection, Row, ts, update_if_newer

SERVICE = "booking"
INPUTS: tuple[TopicSpec, ...] = (BOOKING_EVENTS,)

_BOOKING_COLUMNS = (
    "booking_id",
    "user_id",
    "item_id",
    "quantity",
    "amount_minor",
    "currency",
    "status",
    "reason",
    "payment_id",
    "version",
    "created_at",
    "updated_at",
)
BOOKINGS = Projection(
    name="bookings",
    table="bookings",
    columns=_BOOKING_COLUMNS,
    key=("booking_id",),
    on_conflict=update_if_newer(_BOOKING_COLUMNS, ("booking_id",)),
)
HISTORY = Projection(
    name="booking_history",
    table="booking_history",
    columns=("booking_id", "version", "status", "reason", "occurred_at"),
    key=("booking_id", "version"),
    on_conflict="DO NOTHING",
    version=None,  # one immutable row per version
)
PROJECTIONS = (BOOKINGS, HISTORY)


def project(spec: TopicSpec, message: Any, source: SourceRecord) -> list[Row]:
    if not isinstance(message, BookingChange):
        return []
    amount = message.amount
    status = message.status.value
    reason = message.reason or None
    updated_at = ts(message.occurred_at)
    booking = (
        message.booking_id,
        message.user_id,
        message.item_id,
        message.quantity,
        None if amount is None else amount.amount_minor,
        None if amount is None else amount.currency,
        status,
        reason,
        message.payment_id or None,
        message.version,
        ts(message.created_at),
        updated_at,
    )
    history = (message.booking_id, message.version, status, reason, updated_at)
    return [(BOOKINGS, booking, source), (HISTORY, history, source)]
