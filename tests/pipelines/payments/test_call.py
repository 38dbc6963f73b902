"""The payment worker's gateway effects against the in-process simulator."""

from __future__ import annotations

import asyncio

from pipelines.payments.call import REFUNDED_INSTEAD_OF_VOIDED, call_gateway
from pipelines.payments.gateways.base import idempotency_key
from pipelines.payments.gateways.simulated import SimulatedGateway, SimulatedGatewayConfig
from pipelines.payments.outcomes import event_for
from schemas.base import Money
from schemas.payment_commands import AuthorizePayment, CapturePayment, VoidPayment
from schemas.payment_events import PaymentRefunded, PaymentVoided

AMOUNT = Money(4200, "USD")


def authorize(booking: str, method: str = "pm_card_visa") -> AuthorizePayment:
    return AuthorizePayment(
        booking_id=booking,
        amount=AMOUNT,
        payment_method=method,
        idempotency_key=idempotency_key(booking, "AUTHORIZE"),
    )


def void(booking: str, payment_id: str = "", method: str = "pm_card_visa") -> VoidPayment:
    return VoidPayment(
        booking_id=booking,
        payment_id=payment_id,
        idempotency_key=idempotency_key(booking, "VOID"),
        authorize_idempotency_key=idempotency_key(booking, "AUTHORIZE"),
        amount=AMOUNT,
        payment_method=method,
    )


def test_void_after_an_unanswered_authorization_finds_and_voids_it() -> None:
    gateway = SimulatedGateway(SimulatedGatewayConfig(timeout_hangs=1))

    async def scenario() -> None:
        try:
            await asyncio.wait_for(call_gateway(gateway, authorize("b1", "pm_card_timeout")), 0.05)
        except TimeoutError:
            pass
        result = await call_gateway(gateway, void("b1", method="pm_card_timeout"))
        assert isinstance(event_for(void("b1"), result), PaymentVoided)

    asyncio.run(scenario())
    books = gateway.audit()["b1"]
    assert (books["authorizations"], books["voids"]) == (1, 1)


def test_void_of_a_refused_authorization_has_nothing_to_do() -> None:
    gateway = SimulatedGateway()

    async def scenario() -> None:
        refused = await call_gateway(gateway, authorize("b2", "pm_card_4242424242424242"))
        assert (refused.outcome, refused.retryable) == ("FAILED", False)
        result = await call_gateway(gateway, void("b2", method="pm_card_4242424242424242"))
        assert result.outcome == "SUCCEEDED"

    asyncio.run(scenario())


def test_void_of_a_payment_captured_after_all_refunds_it() -> None:
    gateway = SimulatedGateway()

    async def scenario() -> None:
        authorized = await call_gateway(gateway, authorize("b3"))
        ref = authorized.gateway_ref or ""
        await call_gateway(
            gateway,
            CapturePayment(
                booking_id="b3",
                payment_id=ref,
                amount=AMOUNT,
                idempotency_key=idempotency_key("b3", "CAPTURE"),
            ),
        )
        result = await call_gateway(gateway, void("b3", payment_id=ref))
        assert result.detail == REFUNDED_INSTEAD_OF_VOIDED
        assert isinstance(event_for(void("b3", payment_id=ref), result), PaymentRefunded)

    asyncio.run(scenario())
    books = gateway.audit()["b3"]
    assert (books["captures"], books["refunds"], books["voids"]) == (1, 1, 0)
