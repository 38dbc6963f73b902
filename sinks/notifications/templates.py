"""Message texts per template (the saga names them `booking_<event>`)."""

from __future__ import annotations

from collections import defaultdict

_SUBJECTS = {
    "booking_created": "We received your booking {booking_id}",
    "booking_confirmed": "Your booking {booking_id} is confirmed",
    "booking_completed": "Your booking {booking_id} is complete: payment received",
    "booking_cancelled": "Your booking {booking_id} was cancelled",
    "booking_failed": "Your booking {booking_id} could not be completed",
    "booking_refunded": "Your booking {booking_id} was refunded",
}
_BODY = (
    "Booking {booking_id}\n"
    "Item: {item_id} x {quantity}\n"
    "Status: {status} {reason}\n"
    "Amount: {amount_minor} {currency} (minor units)\n"
)
_SMS = "Tessera: booking {booking_id} is {status}. {reason}"


def _fill(text: str, data: dict[str, str]) -> str:
    # Unknown fields render empty; values are inserted, never formatted themselves.
    return text.format_map(defaultdict(str, data)).strip()


def email(template: str, data: dict[str, str]) -> tuple[str, str]:
    subject = _SUBJECTS.get(template, "Booking {booking_id}: {status}")
    return _fill(subject, data), _fill(_BODY, data) + "\n"


def sms(template: str, data: dict[str, str]) -> str:
    return _fill(_SMS, data)[:320]
