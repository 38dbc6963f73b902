"""Builds the configured gateway, always behind `ResilientGateway`.

Backend modules are imported lazily: the simulator process must not pay for importing
the Stripe SDK, and a worker on the simulator must not need it.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from .base import PaymentGateway
from .exceptions import GatewayConfigError
from .resilient import ResilienceConfig, ResilientGateway

GatewayKind = Literal["simulated", "simulated-http", "stripe"]


def build_gateway(
    kind: GatewayKind, *, resilience: ResilienceConfig | None = None, **settings: Any
) -> PaymentGateway:
    """`settings` go to the backend:

    simulated: the fields of `SimulatedGatewayConfig` (latency_ms, failure_rate, ...).
    simulated-http: base_url, timeout_s, max_connections.
    stripe: the fields of `StripeGatewayConfig` (api_key, base_url, timeout_s, ...).
    """
    inner: PaymentGateway
    try:
        if kind == "simulated":
            from .simulated import SimulatedGateway, SimulatedGatewayConfig

            inner = SimulatedGateway(SimulatedGatewayConfig(**settings))
        elif kind == "simulated-http":
            from .simulated_http_client import HttpSimulatedGateway

            inner = HttpSimulatedGateway(**settings)
        elif kind == "stripe":
            from .stripe_gateway import StripeGateway, StripeGatewayConfig

            inner = StripeGateway(StripeGatewayConfig(**settings))
        else:
            raise GatewayConfigError(f"unknown gateway {kind!r}; one of {get_args(GatewayKind)}")
    except TypeError as exc:
        raise GatewayConfigError(f"bad settings for gateway {kind!r}: {exc}") from exc
    return ResilientGateway(inner, resilience, name=kind)
