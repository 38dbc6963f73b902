"""The payment worker process."""

from __future__ import annotations

import dataclasses

import uvloop

from tessera.config import Settings

from ..runtime import metrics
from .gateways.factory import build_gateway
from .gateways.resilient import ResilienceConfig
from .gateways.simulated import SimulatedGatewayConfig
from .worker import ROLE, PaymentWorker


def gateway_options(settings: Settings) -> dict[str, object]:
    match settings.gateway:
        case "stripe":
            return {"api_key": settings.stripe_api_key, "base_url": settings.stripe_api_base}
        case "simulated-http":
            return {"base_url": settings.gateway_url}
        case _:
            # The in-process simulator takes its latency and faults from TESSERA_SIM_*.
            return dataclasses.asdict(SimulatedGatewayConfig.from_env())


def main(settings: Settings, metrics_port: int | None = None) -> None:
    if metrics_port is not None:
        metrics.serve(metrics_port, ROLE)

    async def run() -> None:
        resilience = ResilienceConfig(
            timeout_s=settings.gateway_timeout_s,
            max_attempts=settings.gateway_attempts,
            bulkhead=settings.gateway_bulkhead,
        )
        gateway = build_gateway(
            settings.gateway,  # type: ignore[arg-type]
            resilience=resilience,
            **gateway_options(settings),
        )
        await PaymentWorker(settings, gateway).run()

    uvloop.run(run())
