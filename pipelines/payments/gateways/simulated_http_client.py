"""`HttpSimulatedGateway`: the httpx client of the out-of-process simulated gateway.

One pooled keep-alive `httpx.AsyncClient` per gateway. Transport trouble and 5xx become
retryable FAILED results (the caller retries with the same key, which the simulator
replays); 4xx bodies carry the simulator's own terminal answer.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import msgspec

from .base import GatewayResult, PaymentGateway, PaymentState
from .exceptions import GatewayRequestError, GatewayUnavailableError
from .metrics import record_error

log = logging.getLogger(__name__)

_RESULT = msgspec.json.Decoder(GatewayResult)


class _StateBody(msgspec.Struct):
    state: PaymentState


_STATE = msgspec.json.Decoder(_StateBody)


class HttpSimulatedGateway(PaymentGateway):
    name = "simulated-http"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        max_connections: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # The resilience layer enforces the real deadline; this one only stops leaks.
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
        )

    async def authorize(
        self,
        *,
        booking_id: str,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
    ) -> GatewayResult:
        body = {
            "booking_id": booking_id,
            "amount_minor": amount_minor,
            "currency": currency,
            "payment_method": payment_method,
        }
        return await self._post("AUTHORIZE", body, idempotency_key, booking_id=booking_id)

    async def capture(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        body = {"gateway_ref": gateway_ref, "amount_minor": amount_minor}
        return await self._post("CAPTURE", body, idempotency_key, gateway_ref=gateway_ref)

    async def void(self, *, gateway_ref: str, idempotency_key: str) -> GatewayResult:
        body = {"gateway_ref": gateway_ref}
        return await self._post("VOID", body, idempotency_key, gateway_ref=gateway_ref)

    async def refund(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        body = {"gateway_ref": gateway_ref, "amount_minor": amount_minor}
        return await self._post("REFUND", body, idempotency_key, gateway_ref=gateway_ref)

    async def status(self, *, gateway_ref: str) -> PaymentState:
        try:
            response = await self._client.get(f"/v1/status/{gateway_ref}")
        except httpx.HTTPError as exc:
            self._error("STATUS", "connection", repr(exc), gateway_ref=gateway_ref)
            raise GatewayUnavailableError(f"status: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            self._error("STATUS", "http_5xx", f"HTTP {response.status_code}")
            raise GatewayUnavailableError(f"status: HTTP {response.status_code}")
        try:
            return _STATE.decode(response.content).state
        except msgspec.MsgspecError as exc:
            raise GatewayRequestError(f"status: HTTP {response.status_code}: {exc}") from exc

    async def audit(self) -> dict[str, dict[str, Any]]:
        """The simulator's ledger report (see `SimulatedGateway.audit`)."""
        try:
            response = await self._client.get("/_audit")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self._error("AUDIT", "unavailable", repr(exc))
            raise GatewayUnavailableError(f"audit: {type(exc).__name__}") from exc
        return msgspec.json.decode(response.content, type=dict[str, dict[str, Any]])

    async def close(self) -> None:
        await self._client.aclose()

    async def _post(
        self, operation: str, body: dict[str, Any], key: str, **context: Any
    ) -> GatewayResult:
        path = f"/v1/{operation.lower()}"
        try:
            response = await self._client.post(
                path,
                content=msgspec.json.encode(body),
                headers={"Idempotency-Key": key, "Content-Type": "application/json"},
            )
        except httpx.TimeoutException as exc:
            self._error(operation, "timeout", repr(exc), idempotency_key=key, **context)
            return GatewayResult("FAILED", retryable=True, detail="timeout")
        except httpx.TransportError as exc:
            self._error(operation, "connection", repr(exc), idempotency_key=key, **context)
            return GatewayResult(
                "FAILED", retryable=True, detail=f"connection: {type(exc).__name__}"
            )
        if response.status_code >= 500:
            self._error(operation, "http_5xx", response.text[:200], idempotency_key=key, **context)
            return GatewayResult("FAILED", retryable=True, detail=f"HTTP {response.status_code}")
        try:
            return _RESULT.decode(response.content)
        except msgspec.MsgspecError as exc:
            # Nobody knows whether the call took effect; a replay with the same key will tell.
            self._error(operation, "bad_response", repr(exc), idempotency_key=key, **context)
            return GatewayResult("FAILED", retryable=True, detail=f"HTTP {response.status_code}")

    def _error(self, operation: str, kind: str, detail: str, **context: Any) -> None:
        record_error(
            log, gateway=self.name, operation=operation, kind=kind, detail=detail, **context
        )
