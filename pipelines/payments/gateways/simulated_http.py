"""The simulated gateway served over HTTP, so its ledger outlives a SIGKILLed payment worker.

Run: `python -m pipelines.payments.gateways.simulated_http --port 18090`; faults come from
TESSERA_SIM_LATENCY_MS, TESSERA_SIM_LATENCY_JITTER_MS, TESSERA_SIM_FAILURE_RATE,
TESSERA_SIM_TIMEOUT_RATE, TESSERA_SIM_SLOW_MS and TESSERA_SIM_SEED. One granian worker
only: the ledger lives in that worker's memory.

The wire mimics Stripe: the key travels in an `Idempotency-Key` header, every answer is
a `GatewayResult` body with 200 (succeeded), 402 (declined), 400 (refused) or 500
(transient). `HttpSimulatedGateway` is the client.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from .base import GatewayResult
from .metrics import record_error
from .simulated import SimulatedGateway, SimulatedGatewayConfig
from .simulated_http_client import HttpSimulatedGateway

__all__ = ["HttpSimulatedGateway", "SimulatorApp", "create_app", "main"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AuthorizeBody(msgspec.Struct, frozen=True):
    booking_id: str
    amount_minor: int
    currency: str
    payment_method: str


class CaptureBody(msgspec.Struct, frozen=True):
    gateway_ref: str
    amount_minor: int


class VoidBody(msgspec.Struct, frozen=True):
    gateway_ref: str


BODIES: dict[str, type[msgspec.Struct]] = {
    "/v1/authorize": AuthorizeBody,
    "/v1/capture": CaptureBody,
    "/v1/void": VoidBody,
    "/v1/refund": CaptureBody,
}
_STATUS_BY_OUTCOME = {"SUCCEEDED": 200, "DECLINED": 402}


def _refusal(detail: str) -> GatewayResult:
    return GatewayResult("FAILED", retryable=False, detail=detail)


class SimulatorApp:
    """A plain ASGI app over one `SimulatedGateway`."""

    def __init__(self, gateway: SimulatedGateway) -> None:
        self.gateway = gateway
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        # A hanging answer (pm_card_timeout, injected timeouts) ends when its client gives
        # up, so chaos runs do not pile up hour-long sleeps in the server.
        handler = asyncio.ensure_future(self._handle(scope, body))
        gone = asyncio.ensure_future(_disconnected(receive))
        self.in_flight += 1
        try:
            await asyncio.wait({handler, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.in_flight -= 1
            for task in (handler, gone):
                task.cancel()
        if handler.cancelled() or not handler.done():
            return
        status, payload = handler.result()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": msgspec.json.encode(payload)})

    async def _handle(self, scope: Scope, body: bytes) -> tuple[int, Any]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            return await self._route(scope["method"], scope["path"], headers, body)
        except Exception as exc:
            record_error(
                log,
                gateway="simulated-http-server",
                operation=scope["path"],
                kind="unexpected",
                detail=repr(exc),
                level=logging.ERROR,
            )
            return 500, GatewayResult("FAILED", retryable=True, detail="HTTP 500")

    async def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if method == "GET" and path == "/healthz":
            return 200, {"ok": True, "in_flight": self.in_flight}
        if method == "GET" and path == "/_audit":
            return 200, self.gateway.audit()
        if method == "GET" and path.startswith("/v1/status/"):
            state = await self.gateway.status(gateway_ref=path.removeprefix("/v1/status/"))
            return (404 if state == "NOT_FOUND" else 200), {"state": state}
        if method != "POST" or path not in BODIES:
            return 404, _refusal(f"resource_missing: {method} {path}")
        key = headers.get("idempotency-key", "")
        if not key:
            return 400, _refusal("invalid_request: Idempotency-Key header required")
        try:
            args = msgspec.structs.asdict(msgspec.json.decode(body, type=BODIES[path]))
        except msgspec.MsgspecError as exc:
            return 400, _refusal(f"invalid_request: {exc}")
        call = getattr(self.gateway, path.removeprefix("/v1/"))
        result: GatewayResult = await call(idempotency_key=key, **args)
        if result.outcome == "FAILED":
            return (500 if result.retryable else 400), result
        return _STATUS_BY_OUTCOME[result.outcome], result


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def create_app() -> SimulatorApp:
    """Granian factory: a fresh simulator configured from TESSERA_SIM_* variables."""
    return SimulatorApp(SimulatedGateway(SimulatedGatewayConfig.from_env()))


def main(argv: list[str] | None = None) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--log-level", default="warning", choices=[lv.value for lv in LogLevels])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    Granian(
        target="pipelines.payments.gateways.simulated_http:create_app",
        factory=True,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels(args.log_level),
    ).serve()


if __name__ == "__main__":
    main()
