"""`StripeGateway`: PaymentIntents with manual capture through the official `stripe` SDK.

authorize = create + confirm with `capture_method="manual"`; capture = capture the intent;
void = cancel it; refund = a Refund on the intent. Every call carries the caller's
idempotency key, and the SDK's own retries are off so retries happen in one place
(`ResilientGateway`), always with that key. The API key and card data are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import stripe

from .base import GatewayResult, PaymentGateway, PaymentState
from .exceptions import GatewayRequestError, GatewayUnavailableError
from .metrics import record_error
from .stripe_transport import StripeHttpxClient

log = logging.getLogger(__name__)

_STATES: Mapping[str, PaymentState] = {
    "requires_capture": "AUTHORIZED",
    "succeeded": "CAPTURED",
    "canceled": "VOIDED",
}
# A 2xx authorization whose intent still needs the customer (3-D Secure) or was canceled
# reserved no money. Any other 2xx status counts as authorized: real Stripe answers a
# decline with a 402, and stripe-mock, which is stateless, answers with a fixture status.
_NOT_AUTHORIZED = {"requires_action": "authentication_required", "canceled": "canceled"}


@dataclass(frozen=True)
class StripeGatewayConfig:
    api_key: str = field(repr=False)
    base_url: str = stripe.DEFAULT_API_BASE
    timeout_s: float = 30.0
    max_connections: int = 64
    stripe_version: str | None = None


class StripeGateway(PaymentGateway):
    name = "stripe"

    def __init__(
        self,
        config: StripeGatewayConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: Mapping[str, list[Any]] | None = None,
    ) -> None:
        self._http = StripeHttpxClient(
            httpx.AsyncClient(
                timeout=config.timeout_s,
                limits=httpx.Limits(
                    max_connections=config.max_connections,
                    max_keepalive_connections=config.max_connections,
                ),
                transport=transport,
                event_hooks=dict(event_hooks or {}),
            )
        )
        self._stripe = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.base_url},
            http_client=self._http,
            max_network_retries=0,
            stripe_version=config.stripe_version,
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
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "metadata": {"booking_id": booking_id},
        }
        try:
            intent = await self._stripe.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            return self._map_error(exc, "AUTHORIZE", idempotency_key, booking_id=booking_id)
        if intent.status in _NOT_AUTHORIZED:
            code = _NOT_AUTHORIZED[intent.status]
            return GatewayResult("DECLINED", gateway_ref=intent.id, decline_code=code)
        return GatewayResult("SUCCEEDED", gateway_ref=intent.id, detail=intent.status)

    async def capture(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        try:
            intent = await self._stripe.v1.payment_intents.capture_async(
                gateway_ref,
                {"amount_to_capture": amount_minor},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            return self._map_error(exc, "CAPTURE", idempotency_key, gateway_ref=gateway_ref)
        return GatewayResult("SUCCEEDED", gateway_ref=intent.id, detail=intent.status)

    async def void(self, *, gateway_ref: str, idempotency_key: str) -> GatewayResult:
        try:
            intent = await self._stripe.v1.payment_intents.cancel_async(
                gateway_ref,
                {"cancellation_reason": "abandoned"},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            return self._map_error(exc, "VOID", idempotency_key, gateway_ref=gateway_ref)
        return GatewayResult("SUCCEEDED", gateway_ref=intent.id, detail=intent.status)

    async def refund(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        try:
            refund = await self._stripe.v1.refunds.create_async(
                {"payment_intent": gateway_ref, "amount": amount_minor},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            return self._map_error(exc, "REFUND", idempotency_key, gateway_ref=gateway_ref)
        detail = f"refund {refund.id} {refund.status}"
        if refund.status in ("failed", "canceled"):
            code = getattr(refund, "failure_reason", None) or f"refund_{refund.status}"
            return GatewayResult(
                "DECLINED", gateway_ref=gateway_ref, decline_code=code, detail=detail
            )
        return GatewayResult("SUCCEEDED", gateway_ref=gateway_ref, detail=detail)

    async def status(self, *, gateway_ref: str) -> PaymentState:
        try:
            intent = await self._stripe.v1.payment_intents.retrieve_async(
                gateway_ref, {"expand": ["latest_charge"]}
            )
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                return "NOT_FOUND"
            raise GatewayRequestError(f"status: {type(exc).__name__} {exc.code}") from exc
        except stripe.StripeError as exc:
            result = self._map_error(exc, "STATUS", "", gateway_ref=gateway_ref)
            error = GatewayUnavailableError if result.retryable else GatewayRequestError
            raise error(f"status: {result.detail}") from exc
        charge = intent.latest_charge
        if intent.status == "succeeded" and getattr(charge, "refunded", False):
            return "REFUNDED"
        return _STATES.get(intent.status, "PENDING")

    async def close(self) -> None:
        await self._http.close_async()

    def _map_error(
        self, exc: stripe.StripeError, operation: str, key: str, **context: Any
    ) -> GatewayResult:
        # Only type, code, status and request id are logged: messages can echo the API key.
        kind = type(exc).__name__
        detail = f"{kind}: {exc.code or exc.http_status or ''}".rstrip(": ")
        ref = context.get("gateway_ref")
        if isinstance(exc, stripe.CardError):
            error = exc.error
            intent = getattr(error, "payment_intent", None) if error else None
            code = (getattr(error, "decline_code", None) if error else None) or exc.code
            return GatewayResult(
                "DECLINED",
                gateway_ref=getattr(intent, "id", None) or ref,
                decline_code=code or "card_declined",
                detail=detail,
            )
        status = exc.http_status
        # 409: a concurrent request holds the key; 5xx or no status: outcome unknown.
        retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
            isinstance(exc, stripe.APIError) and (status is None or status == 409 or status >= 500)
        )
        record_error(
            log,
            gateway=self.name,
            operation=operation,
            kind="unavailable" if retryable else "rejected",
            detail=detail,
            http_status=exc.http_status,
            request_id=exc.request_id,
            idempotency_key=key or None,
            **context,
        )
        return GatewayResult("FAILED", gateway_ref=ref, retryable=retryable, detail=detail)
