from __future__ import annotations

import asyncio

import pytest

from pipelines.payments.gateways import (
    GatewayConfigError,
    ResilienceConfig,
    ResilientGateway,
    build_gateway,
    idempotency_key,
)
from pipelines.payments.gateways.simulated import SimulatedGateway
from pipelines.payments.gateways.simulated_http import HttpSimulatedGateway
from pipelines.payments.gateways.stripe_gateway import StripeGateway


@pytest.mark.parametrize(
    ("kind", "settings", "backend"),
    [
        ("simulated", {"latency_ms": 1, "seed": 3}, SimulatedGateway),
        ("simulated-http", {"base_url": "http://127.0.0.1:1"}, HttpSimulatedGateway),
        ("stripe", {"api_key": "sk_test_123", "base_url": "http://127.0.0.1:1"}, StripeGateway),
    ],
)
def test_every_backend_is_wrapped_in_the_resilience_layer(kind, settings, backend) -> None:
    config = ResilienceConfig(timeout_s=2.5, bulkhead=4)
    gw = build_gateway(kind, resilience=config, **settings)
    assert isinstance(gw, ResilientGateway)
    assert isinstance(gw.inner, backend)
    assert (gw.name, gw.config) == (kind, config)
    asyncio.run(gw.close())


def test_defaults_follow_the_seed_resilience_rules() -> None:
    gw = build_gateway("simulated")
    assert isinstance(gw, ResilientGateway)
    config = gw.config
    assert (config.timeout_s, config.max_attempts, config.bulkhead) == (5.0, 3, 10)
    assert (config.breaker_failure_rate, config.breaker_window, config.breaker_min_calls) == (
        0.5,
        20,
        10,
    )

    async def scenario() -> None:
        result = await gw.authorize(
            booking_id="f-1",
            amount_minor=100,
            currency="USD",
            payment_method="pm_card_visa",
            idempotency_key=idempotency_key("f-1", "AUTHORIZE"),
        )
        assert result.succeeded

    asyncio.run(scenario())


def test_unknown_kind_and_bad_settings_are_config_errors() -> None:
    with pytest.raises(GatewayConfigError, match="unknown gateway"):
        build_gateway("paypal")  # type: ignore[arg-type]
    with pytest.raises(GatewayConfigError, match="bad settings"):
        build_gateway("simulated", no_such_setting=1)
    with pytest.raises(GatewayConfigError):
        build_gateway("simulated", failure_rate=7)
    with pytest.raises(GatewayConfigError):
        ResilienceConfig(max_attempts=0)
