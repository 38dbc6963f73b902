"""The HTTP simulator as a real subprocess, driven through the factory-built client."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pipelines.payments.gateways import (
    GatewayUnavailableError,
    ResilienceConfig,
    build_gateway,
    idempotency_key,
)
from pipelines.payments.gateways.simulated_http import HttpSimulatedGateway

from .conftest import free_port

FAST = ResilienceConfig(timeout_s=2.0, backoff_base_s=0.001, backoff_max_s=0.002)


def client(url: str, config: ResilienceConfig = FAST):
    return build_gateway("simulated-http", resilience=config, base_url=url)


async def authorize(gw, booking: str, pm: str = "pm_card_visa", amount: int = 4200):
    return await gw.authorize(
        booking_id=booking,
        amount_minor=amount,
        currency="EUR",
        payment_method=pm,
        idempotency_key=idempotency_key(booking, "AUTHORIZE"),
    )


def test_booking_journeys_over_http_land_in_the_audit(simulator_url: str) -> None:
    async def scenario() -> None:
        async with client(simulator_url) as gw:
            auth = await authorize(gw, "http-b1")
            assert auth.succeeded and auth.gateway_ref
            assert await authorize(gw, "http-b1") == auth  # replayed
            ref = auth.gateway_ref
            key = idempotency_key("http-b1", "CAPTURE")
            for _ in range(2):
                captured = await gw.capture(gateway_ref=ref, amount_minor=4200, idempotency_key=key)
                assert captured.succeeded
            refund_key = idempotency_key("http-b1", "REFUND")
            refunded = await gw.refund(
                gateway_ref=ref, amount_minor=4200, idempotency_key=refund_key
            )
            assert refunded.succeeded
            assert await gw.status(gateway_ref=ref) == "REFUNDED"

            voided = await authorize(gw, "http-b2")
            assert voided.gateway_ref
            void_key = idempotency_key("http-b2", "VOID")
            assert (
                await gw.void(gateway_ref=voided.gateway_ref, idempotency_key=void_key)
            ).succeeded
            late = await gw.capture(
                gateway_ref=voided.gateway_ref,
                amount_minor=4200,
                idempotency_key=idempotency_key("http-b2", "CAPTURE"),
            )
            assert (late.outcome, late.retryable) == ("FAILED", False)

            declined = await authorize(gw, "http-b3", "pm_card_chargeDeclinedInsufficientFunds")
            assert (declined.outcome, declined.decline_code) == ("DECLINED", "insufficient_funds")
            assert await gw.status(gateway_ref="sim_pi_unknown") == "NOT_FOUND"

        # A fresh client (as after a worker restart) sees the same books.
        async with HttpSimulatedGateway(simulator_url) as raw:
            audit = await raw.audit()
        assert {k: audit["http-b1"][k] for k in ("authorizations", "captures", "refunds")} == {
            "authorizations": 1,
            "captures": 1,
            "refunds": 1,
        }
        assert (audit["http-b2"]["voids"], audit["http-b2"]["captures"]) == (1, 0)
        assert audit["http-b3"]["declines"] == 1
        states = [p["state"] for b in audit.values() for p in b["payments"].values()]
        assert "AUTHORIZED" not in states  # nothing stranded

    asyncio.run(scenario())


def test_5xx_is_retryable_and_retried(simulator_url: str) -> None:
    async def scenario() -> None:
        async with client(simulator_url) as gw:
            result = await authorize(gw, "http-5xx", "pm_card_5xx")
            assert (result.outcome, result.retryable, result.detail) == ("FAILED", True, "HTTP 500")
            assert gw.breaker.failure_share > 0  # three attempts were counted

    asyncio.run(scenario())


def test_hanging_gateway_times_out(simulator_url: str) -> None:
    config = ResilienceConfig(timeout_s=0.1, max_attempts=1, backoff_base_s=0.001)

    async def scenario() -> None:
        async with client(simulator_url, config) as gw:
            result = await authorize(gw, "http-hang", "pm_card_timeout")
            assert (result.outcome, result.retryable, result.detail) == ("FAILED", True, "timeout")
            # It authorized before hanging: a replay with the same key learns the payment.
            replay = await authorize(gw, "http-hang", "pm_card_timeout")
            assert replay.succeeded and replay.gateway_ref
            # The server is still answering others while those requests hang.
            assert (await authorize(gw, "http-after-hang")).succeeded
        # The abandoned requests stop hanging in the server once their clients are gone.
        async with httpx.AsyncClient(base_url=simulator_url) as raw:
            for _ in range(50):
                if (await raw.get("/healthz")).json()["in_flight"] == 1:  # this probe
                    return
                await asyncio.sleep(0.02)
        pytest.fail("hung requests outlived their clients")

    asyncio.run(scenario())


def test_slow_card_completes_within_the_timeout(simulator_url: str) -> None:
    async def scenario() -> None:
        async with client(simulator_url) as gw:
            assert (await authorize(gw, "http-slow", "pm_card_slow")).succeeded

    asyncio.run(scenario())


def test_malformed_requests_are_refused_not_retried(simulator_url: str) -> None:
    async def scenario() -> None:
        async with HttpSimulatedGateway(simulator_url) as gw:
            result = await gw.capture(gateway_ref="x", amount_minor=1, idempotency_key="")
            assert (result.outcome, result.retryable) == ("FAILED", False)
            assert "Idempotency-Key" in result.detail
        async with httpx.AsyncClient(base_url=simulator_url) as raw:
            response = await raw.post("/v1/capture", content=b"{", headers={"Idempotency-Key": "k"})
            assert response.status_code == 400
            assert (await raw.get("/v1/nope")).status_code == 404

    asyncio.run(scenario())


def test_unreachable_gateway_is_a_retryable_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    async def scenario() -> None:
        async with client(url) as gw:
            result = await authorize(gw, "nobody-home")
            assert (result.outcome, result.retryable) == ("FAILED", True)
            assert result.detail.startswith("connection")
            with pytest.raises(GatewayUnavailableError):
                await gw.status(gateway_ref="sim_pi_x")

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [(200, b"not json", True), (502, b"<html>", True), (418, b"{}", True)],
)
def test_unreadable_answers_are_retryable(status: int, body: bytes, retryable: bool) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))

    async def scenario() -> None:
        async with HttpSimulatedGateway("http://sim", transport=transport) as gw:
            result = await authorize(gw, "garbled")
            assert (result.outcome, result.retryable) == ("FAILED", retryable)

    asyncio.run(scenario())
