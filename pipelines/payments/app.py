"""The payment worker process."""

from __future__ import annotations

import uvloop

from tessera.config import Settings

from ..runtime import metrics
from .gateways.factory import build_gateway
from .worker import PaymentWorker


def gateway_options(settings: Settings) -> dict[str, object]:
    match settings.gateway:
        case "stripe":
            return {"api_key": settings.stripe_api_key, "base_url": settings.stripe_api_base}
        case "simulated-http":
            return {"base_url": settings.gateway_url}
        case _:
            return {}


def main(settings: Settings, metrics_port: int | None = None) -> None:
    if metrics_port is not None:
        metrics.serve(metrics_port)

    async def run() -> None:
        gateway = build_gateway(settings.gateway, **gateway_options(settings))  # type: ignore[arg-type]
        await PaymentWorker(settings, gateway).run()

    uvloop.run(run())
