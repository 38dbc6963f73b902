"""The Stripe adapter against a real stripe-mock, and its error mapping on a mock transport."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from pipelines.payments.gateways import (
    GatewayRequestError,
    GatewayUnavailableError,
    ResilienceConfig,
    build_gateway,
    idempotency_key,
)
from pipelines.payments.gateways.stripe_gateway import StripeGateway, StripeGatewayConfig

from .conftest import STRIPE_TEST_KEY


class Recorder:
    """httpx event hooks: what was sent, and what stripe-mock echoed back."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None, bytes]] = []
        self.echoed: list[str | None] = []

    async def on_request(self, request: httpx.Request) -> None:
        key = request.headers.get("Idempotency-Key")
        self.sent.append((request.method, request.url.path, key, request.content))

    async def on_response(self, response: httpx.Response) -> None:
        self.echoed.append(response.headers.get("Idempotency-Key"))

    @property
    def hooks(self) -> dict[str, list]:
        return {"request": [self.on_request], "response": [self.on_response]}


def gateway(url: str, recorder: Recorder | None = None, api_key: str = STRIPE_TEST_KEY):
    hooks = recorder.hooks if recorder else None
    return StripeGateway(StripeGatewayConfig(api_key=api_key, base_url=url), event_hooks=hooks)


async def authorize(gw, booking: str, pm: str = "pm_card_visa"):
    return await gw.authorize(
        booking_id=booking,
        amount_minor=1999,
        currency="EUR",
        payment_method=pm,
        idempotency_key=idempotency_key(booking, "AUTHORIZE"),
    )


def test_authorize_capture_refund_against_stripe_mock(stripe_mock_url: str) -> None:
    recorder = Recorder()

    async def scenario() -> None:
        async with gateway(stripe_mock_url, recorder) as gw:
            auth = await authorize(gw, "s-b1")
            assert auth.succeeded and auth.gateway_ref and auth.gateway_ref.startswith("pi_")
            ref = auth.gateway_ref
            capture_key = idempotency_key("s-b1", "CAPTURE")
            captured = await gw.capture(
                gateway_ref=ref, amount_minor=1999, idempotency_key=capture_key
            )
            assert captured.succeeded and captured.gateway_ref == ref
            refund_key = idempotency_key("s-b1", "REFUND")
            refunded = await gw.refund(
                gateway_ref=ref, amount_minor=1999, idempotency_key=refund_key
            )
            assert refunded.succeeded and refunded.detail.startswith("refund re_")
            assert await gw.status(gateway_ref=ref) in {"PENDING", "AUTHORIZED", "CAPTURED"}

    asyncio.run(scenario())
    posts = [(method, path, key) for method, path, key, _ in recorder.sent if method == "POST"]
    assert [(path.split("/")[-1], key) for _, path, key in posts] == [
        ("payment_intents", "tessera:s-b1:AUTHORIZE"),
        ("capture", "tessera:s-b1:CAPTURE"),
        ("refunds", "tessera:s-b1:REFUND"),
    ]
    assert recorder.echoed[:3] == [key for _, _, key in posts]  # stripe-mock saw our keys
    create_body = recorder.sent[0][3].decode()
    for field in ("capture_method=manual", "confirm=true", "metadata[booking_id]=s-b1"):
        assert field in create_body


def test_authorize_then_void_against_stripe_mock(stripe_mock_url: str) -> None:
    recorder = Recorder()

    async def scenario() -> None:
        async with gateway(stripe_mock_url, recorder) as gw:
            auth = await authorize(gw, "s-b2")
            assert auth.gateway_ref
            void_key = idempotency_key("s-b2", "VOID")
            voided = await gw.void(gateway_ref=auth.gateway_ref, idempotency_key=void_key)
            assert voided.succeeded

    asyncio.run(scenario())
    method, path, key, _ = recorder.sent[-1]
    assert (method, path.endswith("/cancel"), key) == ("POST", True, "tessera:s-b2:VOID")
    assert recorder.echoed[-1] == "tessera:s-b2:VOID"


def test_factory_built_stripe_gateway_against_stripe_mock(stripe_mock_url: str) -> None:
    async def scenario() -> None:
        config = ResilienceConfig(timeout_s=5.0)
        async with build_gateway(
            "stripe", resilience=config, api_key=STRIPE_TEST_KEY, base_url=stripe_mock_url
        ) as gw:
            assert (await authorize(gw, "s-b3")).succeeded

    asyncio.run(scenario())


def test_bad_api_key_is_a_terminal_failure_and_never_logged(
    stripe_mock_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with gateway(stripe_mock_url, api_key="rk_not_a_secret_key_xyz") as gw:
            result = await authorize(gw, "s-b4")
            assert (result.outcome, result.retryable) == ("FAILED", False)
            assert result.detail.startswith("AuthenticationError")

    asyncio.run(scenario())
    # Our records only: the SDK's own "stripe" logger repeats server messages, and
    # stripe-mock (unlike Stripe, which masks it) echoes the key in its 401 message.
    ours = [r for r in caplog.records if r.name.startswith("pipelines.")]
    assert any("s-b4" in r.getMessage() for r in ours)  # logged, with its context
    assert not any("rk_not_a_secret_key_xyz" in r.getMessage() for r in ours)
    assert not any("rk_not_a_secret_key_xyz" in str(r.__dict__) for r in ours)


def _error(status: int, **error: object) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": error})

    return httpx.MockTransport(answer)


def _intent(status: str) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"id": "pi_mocked", "object": "payment_intent", "status": status}
        )

    return httpx.MockTransport(answer)


def _raise(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("transport", "outcome", "retryable", "decline_code", "ref"),
    [
        (
            _error(
                402,
                type="card_error",
                code="card_declined",
                decline_code="insufficient_funds",
                message="Your card has insufficient funds.",
                payment_intent={"id": "pi_declined", "object": "payment_intent"},
            ),
            "DECLINED",
            False,
            "insufficient_funds",
            "pi_declined",
        ),
        (
            _error(402, type="card_error", code="expired_card"),
            "DECLINED",
            False,
            "expired_card",
            None,
        ),
        (_error(500, type="api_error", message="boom"), "FAILED", True, None, None),
        (_error(409, type="api_error", message="in progress"), "FAILED", True, None, None),
        (_error(429, type="rate_limit_error", message="slow down"), "FAILED", True, None, None),
        (
            _error(400, type="invalid_request_error", code="parameter_missing"),
            "FAILED",
            False,
            None,
            None,
        ),
        (
            _error(400, type="idempotency_error", message="params differ"),
            "FAILED",
            False,
            None,
            None,
        ),
        (_error(401, type="invalid_request_error", message="bad key"), "FAILED", False, None, None),
        (httpx.MockTransport(_raise), "FAILED", True, None, None),
        (_intent("requires_action"), "DECLINED", False, "authentication_required", "pi_mocked"),
        (_intent("requires_capture"), "SUCCEEDED", False, None, "pi_mocked"),
    ],
)
def test_error_mapping(transport, outcome, retryable, decline_code, ref) -> None:
    async def scenario() -> None:
        config = StripeGatewayConfig(api_key=STRIPE_TEST_KEY, base_url="http://stripe.test")
        async with StripeGateway(config, transport=transport) as gw:
            result = await authorize(gw, "s-map")
            assert (result.outcome, result.retryable, result.decline_code, result.gateway_ref) == (
                outcome,
                retryable,
                decline_code,
                ref,
            )

    asyncio.run(scenario())


def test_status_mapping() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ref = request.url.path.rsplit("/", 1)[-1]
        if ref == "pi_missing":
            error = {"type": "invalid_request_error", "code": "resource_missing"}
            return httpx.Response(404, json={"error": error})
        if ref == "pi_down":
            return httpx.Response(503, json={"error": {"type": "api_error"}})
        if ref == "pi_forbidden":
            return httpx.Response(403, json={"error": {"type": "invalid_request_error"}})
        status = "succeeded" if ref == "pi_refunded" else ref.removeprefix("pi_")
        charge = {"id": "ch_1", "object": "charge", "refunded": ref == "pi_refunded"}
        body = {"id": ref, "object": "payment_intent", "status": status, "latest_charge": charge}
        return httpx.Response(200, content=json.dumps(body))

    async def scenario() -> None:
        config = StripeGatewayConfig(api_key=STRIPE_TEST_KEY, base_url="http://stripe.test")
        async with StripeGateway(config, transport=httpx.MockTransport(answer)) as gw:
            expected = {
                "pi_requires_capture": "AUTHORIZED",
                "pi_succeeded": "CAPTURED",
                "pi_refunded": "REFUNDED",
                "pi_canceled": "VOIDED",
                "pi_requires_action": "PENDING",
                "pi_missing": "NOT_FOUND",
            }
            for ref, state in expected.items():
                assert await gw.status(gateway_ref=ref) == state
            with pytest.raises(GatewayUnavailableError):
                await gw.status(gateway_ref="pi_down")
            with pytest.raises(GatewayRequestError):
                await gw.status(gateway_ref="pi_forbidden")

    asyncio.run(scenario())


def test_api_key_is_not_in_the_config_repr() -> None:
    config = StripeGatewayConfig(api_key="sk_test_do_not_print")
    assert "sk_test_do_not_print" not in repr(config)
