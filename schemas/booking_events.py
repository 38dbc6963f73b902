"""booking-events (key bookingId): the booking as clients see it, after every change.

Each event carries the whole booking view and a `version` that grows by one per
change, so sinks can upsert idempotently and never let an older event win.
"""

from __future__ import annotations

import msgspec

from .base import BookingStatus, Envelope, Money


class BookingChange(Envelope, frozen=True):
    booking_id: str
    user_id: str
    item_id: str
    quantity: int
    status: BookingStatus
    version: int
    created_at: int
    amount: Money | None = None
    reason: str = ""
    payment_id: str = ""


class BookingCreated(BookingChange, frozen=True, tag="BookingCreated"):
    pass


class BookingConfirmed(BookingChange, frozen=True, tag="BookingConfirmed"):
    pass


class BookingCompleted(BookingChange, frozen=True, tag="BookingCompleted"):
    pass


class BookingCancelled(BookingChange, frozen=True, tag="BookingCancelled"):
    pass


class BookingFailed(BookingChange, frozen=True, tag="BookingFailed"):
    pass


class BookingRefunded(BookingChange, frozen=True, tag="BookingRefunded"):
    """A completed booking refunded by support; status stays terminal (CANCELLED)."""


BookingEvent = (
    BookingCreated
    | BookingConfirmed
    | BookingCompleted
    | BookingCancelled
    | BookingFailed
    | BookingRefunded
)
DECODER: msgspec.json.Decoder[BookingEvent] = msgspec.json.Decoder(BookingEvent)

EVENT_FOR_STATUS: dict[BookingStatus, type[BookingChange]] = {
    BookingStatus.PENDING: BookingCreated,
    BookingStatus.CONFIRMED: BookingConfirmed,
    BookingStatus.COMPLETED: BookingCompleted,
    BookingStatus.CANCELLED: BookingCancelled,
    BookingStatus.FAILED: BookingFailed,
}
