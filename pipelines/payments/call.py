"""One payment command as gateway calls (the effect; outcomes.py maps the answer)."""

from __future__ import annotations

from schemas.payment_commands import (
    AuthorizePayment,
    CapturePayment,
    PaymentCommand,
    RefundPayment,
    VoidPayment,
)

from .gateways.base import GatewayResult, PaymentGateway

# A void that found the payment already captured (a capture we gave up on went through
# after all) refunds it instead; the saga takes the refund as the compensation done.
REFUNDED_INSTEAD_OF_VOIDED = "refunded: the payment was already captured"


async def call_gateway(gateway: PaymentGateway, command: PaymentCommand) -> GatewayResult:
    match command:
        case AuthorizePayment():
            return await _authorize(gateway, command)
        case CapturePayment():
            return await gateway.capture(
                gateway_ref=command.payment_id,
                amount_minor=command.amount.amount_minor,
                idempotency_key=command.idempotency_key,
            )
        case VoidPayment():
            return await _void(gateway, command)
        case RefundPayment():
            return await gateway.refund(
                gateway_ref=command.payment_id,
                amount_minor=command.amount.amount_minor,
                idempotency_key=command.idempotency_key,
            )
    raise TypeError(f"unhandled payment command {type(command).__name__}")


async def _authorize(gateway: PaymentGateway, command: AuthorizePayment) -> GatewayResult:
    return await gateway.authorize(
        booking_id=command.booking_id,
        amount_minor=command.amount.amount_minor,
        currency=command.amount.currency,
        payment_method=command.payment_method,
        idempotency_key=command.idempotency_key,
    )


async def _void(gateway: PaymentGateway, command: VoidPayment) -> GatewayResult:
    """Void; when the authorization's outcome was never learned (a timeout), replay it with
    its original idempotency key first: the gateway returns the payment it made, if any."""
    payment_id = command.payment_id
    if not payment_id and command.authorize_idempotency_key and command.amount is not None:
        replay = await _authorize(
            gateway,
            AuthorizePayment(
                booking_id=command.booking_id,
                amount=command.amount,
                payment_method=command.payment_method,
                idempotency_key=command.authorize_idempotency_key,
            ),
        )
        if replay.outcome == "DECLINED" or (replay.outcome == "FAILED" and not replay.retryable):
            # Refused outright (declined, unknown payment method): no money moved.
            return GatewayResult(outcome="SUCCEEDED", detail="nothing was authorized")
        if replay.outcome == "FAILED":
            return replay  # still no answer: the saga retries the void later
        payment_id = replay.gateway_ref or ""
    if not payment_id:
        return GatewayResult(outcome="SUCCEEDED", detail="nothing to void")
    voided = await gateway.void(gateway_ref=payment_id, idempotency_key=command.idempotency_key)
    if voided.outcome != "FAILED" or voided.retryable or command.amount is None:
        return voided
    if await gateway.status(gateway_ref=payment_id) != "CAPTURED":
        return voided
    refunded = await gateway.refund(
        gateway_ref=payment_id,
        amount_minor=command.amount.amount_minor,
        idempotency_key=f"{command.idempotency_key}:REFUND",
    )
    if refunded.outcome != "SUCCEEDED":
        return refunded
    return GatewayResult(
        outcome="SUCCEEDED", gateway_ref=payment_id, detail=REFUNDED_INSTEAD_OF_VOIDED
    )
