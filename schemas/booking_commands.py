"""booking-commands (key bookingId): what clients and partners ask of a booking.

Partners produce here directly, coding against the exported JSON Schema; the HTTP
ingress writes the very same records. `message_id` is the command id: both paths
share that dedupe key space.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .base import Envelope, Identifier, Quantity

Channel = Literal["HTTP", "PARTNER_KAFKA", "INTERNAL"]


class CreateBooking(Envelope, frozen=True, tag="CreateBooking"):
    booking_id: Identifier
    user_id: Identifier
    item_id: Identifier
    quantity: Quantity
    payment_method: str
    channel: Channel = "PARTNER_KAFKA"
    requested_by: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    webhook_url: str = ""


class CancelBooking(Envelope, frozen=True, tag="CancelBooking"):
    booking_id: Identifier
    requested_by: str = ""
    reason: str = "USER_CANCELLED"


class RefundBooking(Envelope, frozen=True, tag="RefundBooking"):
    """Support-initiated refund of a captured booking."""

    booking_id: Identifier
    requested_by: str = ""
    reason: str = "SUPPORT_REFUND"


BookingCommand = CreateBooking | CancelBooking | RefundBooking
DECODER: msgspec.json.Decoder[BookingCommand] = msgspec.json.Decoder(BookingCommand)
