"""payment-events (key bookingId): what the gateway answered, one event per command."""

from __future__ import annotations

from typing import Literal

import msgspec

from .base import Envelope, Money


class PaymentAuthorized(Envelope, frozen=True, tag="PaymentAuthorized"):
    booking_id: str
    payment_id: str
    amount: Money


class PaymentDeclined(Envelope, frozen=True, tag="PaymentDeclined"):
    booking_id: str
    decline_code: str
    detail: str = ""


class PaymentCaptured(Envelope, frozen=True, tag="PaymentCaptured"):
    booking_id: str
    payment_id: str
    amount: Money


class PaymentVoided(Envelope, frozen=True, tag="PaymentVoided"):
    booking_id: str
    payment_id: str


class PaymentRefunded(Envelope, frozen=True, tag="PaymentRefunded"):
    booking_id: str
    payment_id: str
    amount: Money


FailureKind = Literal["timeout", "unavailable", "rejected", "error"]


class PaymentFailed(Envelope, frozen=True, tag="PaymentFailed"):
    """The gateway call failed after every retry (timeout, 5xx, open circuit)."""

    booking_id: str
    operation: str
    detail: str = ""
    payment_id: str = ""
    kind: FailureKind = "error"


PaymentEvent = (
    PaymentAuthorized
    | PaymentDeclined
    | PaymentCaptured
    | PaymentVoided
    | PaymentRefunded
    | PaymentFailed
)
DECODER: msgspec.json.Decoder[PaymentEvent] = msgspec.json.Decoder(PaymentEvent)
