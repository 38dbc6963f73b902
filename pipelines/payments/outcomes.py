"""Pure mapping from a payment command and the gateway's answer to the event the saga sees."""

from __future__ import annotations

from schemas.base import caused_by
from schemas.payment_commands import (
    AuthorizePayment,
    CapturePayment,
    PaymentCommand,
    RefundPayment,
    VoidPayment,
)
from schemas.payment_events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)

from .gateways.base import GatewayResult


def event_for(command: PaymentCommand, result: GatewayResult) -> PaymentEvent:
    ids = caused_by(command)
    booking_id = command.booking_id
    if result.outcome == "FAILED":
        return PaymentFailed(
            booking_id=booking_id,
            operation=operation_of(command),
            detail=result.detail,
            payment_id=getattr(command, "payment_id", "") or (result.gateway_ref or ""),
            **ids,
        )
    match command:
        case AuthorizePayment(amount=amount):
            if result.outcome == "DECLINED":
                return PaymentDeclined(
                    booking_id=booking_id,
                    decline_code=result.decline_code or "declined",
                    detail=result.detail,
                    **ids,
                )
            return PaymentAuthorized(
                booking_id=booking_id, payment_id=result.gateway_ref or "", amount=amount, **ids
            )
        case CapturePayment(payment_id=payment_id, amount=amount):
            return PaymentCaptured(
                booking_id=booking_id, payment_id=payment_id, amount=amount, **ids
            )
        case VoidPayment(payment_id=payment_id):
            return PaymentVoided(
                booking_id=booking_id, payment_id=payment_id or (result.gateway_ref or ""), **ids
            )
        case RefundPayment(payment_id=payment_id, amount=amount):
            return PaymentRefunded(
                booking_id=booking_id, payment_id=payment_id, amount=amount, **ids
            )
    raise TypeError(f"unhandled payment command {type(command).__name__}")


def operation_of(command: PaymentCommand) -> str:
    match command:
        case AuthorizePayment():
            return "AUTHORIZE"
        case CapturePayment():
            return "CAPTURE"
        case VoidPayment():
            return "VOID"
        case RefundPayment():
            return "REFUND"
    raise TypeError(type(command).__name__)
