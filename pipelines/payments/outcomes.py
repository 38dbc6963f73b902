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
    FailureKind,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)

from .call import REFUNDED_INSTEAD_OF_VOIDED
from .gateways.base import GatewayResult
from .gateways.resilient import CIRCUIT_OPEN, TIMEOUT


def event_for(command: PaymentCommand, result: GatewayResult) -> PaymentEvent:
    ids = caused_by(command)
    booking_id = command.booking_id
    if result.outcome == "FAILED":
        return PaymentFailed(
            booking_id=booking_id,
            operation=operation_of(command),
            detail=result.detail,
            payment_id=getattr(command, "payment_id", "") or (result.gateway_ref or ""),
            kind=failure_kind(result),
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
        case VoidPayment(payment_id=payment_id, amount=amount) if (
            result.detail == REFUNDED_INSTEAD_OF_VOIDED and amount is not None
        ):
            return PaymentRefunded(
                booking_id=booking_id,
                payment_id=payment_id or (result.gateway_ref or ""),
                amount=amount,
                **ids,
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


def failure_kind(result: GatewayResult) -> FailureKind:
    if result.detail == TIMEOUT:
        return "timeout"
    if result.detail == CIRCUIT_OPEN or result.retryable:
        return "unavailable"
    return "rejected"


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
