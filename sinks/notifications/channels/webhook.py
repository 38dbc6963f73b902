"""Signed partner webhooks: HMAC-SHA256 over f"{timestamp}.{body}" (see webhook_verify)."""

from __future__ import annotations

import httpx
import msgspec

from schemas.notifications import NotificationRequest, WebhookRequested

from ...exceptions import DeliveryError, DeliveryTimeoutError
from ..config import WebhookConfig
from ..webhook_verify import HEADER, ID_HEADER, sign

_encode = msgspec.json.Encoder().encode
# Worth another try: timeouts, throttling, the partner's server errors.
_RETRYABLE = frozenset({408, 425, 429})


class WebhookChannel:
    name = "WEBHOOK"

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.client = httpx.Client(
            headers={"User-Agent": "tessera-webhooks/1", "Content-Type": "application/json"},
            follow_redirects=False,
        )

    def body(self, request: WebhookRequested) -> bytes:
        return _encode(
            {
                "id": request.notification_id,
                "type": request.event_type,
                "booking_id": request.booking_id,
                "occurred_at": request.occurred_at,
                "data": request.body,
            }
        )

    def deliver(self, request: NotificationRequest) -> str:
        if not isinstance(request, WebhookRequested):
            raise TypeError(type(request).__name__)
        body = self.body(request)
        headers = {HEADER: sign(self.config.secret, body), ID_HEADER: request.notification_id}
        try:
            response = self.client.post(
                request.url, content=body, headers=headers, timeout=self.config.timeout_s
            )
        except httpx.TimeoutException as exc:
            raise DeliveryTimeoutError(f"webhook timeout: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return f"HTTP {status}"
        retryable = status in _RETRYABLE or status >= 500
        raise DeliveryError(f"webhook answered HTTP {status}", retryable=retryable)

    def close(self) -> None:
        self.client.close()
