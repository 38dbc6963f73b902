"""payment-commands (key bookingId): the saga's requests to the payment worker.

`idempotency_key` is derived from bookingId and step, so a command redelivered after a
crash reaches the gateway with the same key and can never charge twice.
"""

from __future__ import annotations

import msgspec

from .base import Envelope, Money


class AuthorizePayment(Envelope, frozen=True, tag="AuthorizePayment"):
    booking_id: str
    amount: Money
    payment_method: str
    idempotency_key: str


class CapturePayment(Envelope, frozen=True, tag="CapturePayment"):
    booking_id: str
    payment_id: str
    amount: Money
    idempotency_key: str


class VoidPayment(Envelope, frozen=True, tag="VoidPayment"):
    """Void an authorization. With no `payment_id` (the authorize outcome was unknown,
    e.g. a gateway timeout) the worker first replays the authorization with its original
    idempotency key to learn the payment, then voids it."""

    booking_id: str
    payment_id: str
    idempotency_key: str
    authorize_idempotency_key: str = ""
    amount: Money | None = None
    payment_method: str = ""


class RefundPayment(Envelope, frozen=True, tag="RefundPayment"):
    booking_id: str
    payment_id: str
    amount: Money
    idempotency_key: str


PaymentCommand = AuthorizePayment | CapturePayment | VoidPayment | RefundPayment
DECODER: msgspec.json.Decoder[PaymentCommand] = msgspec.json.Decoder(PaymentCommand)
