"""SMS through a provider adapter (the provider is swappable; tests use a flaky fake)."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from schemas.notifications import NotificationRequest, SmsRequested
from tessera.telemetry import mask

from ...exceptions import DeliveryError, DeliveryTimeoutError
from .. import templates
from ..config import SmsConfig

logger = logging.getLogger(__name__)


class SmsProvider(Protocol):
    def send(self, to: str, body: str, idempotency_key: str, timeout_s: float) -> str:
        """The provider's message id. Raise DeliveryTimeoutError when it does not answer in
        time (it may still have accepted), DeliveryError otherwise."""
        ...


class LogSmsProvider:
    """Development default: logs the (masked) message instead of sending it."""

    def send(self, to: str, body: str, idempotency_key: str, timeout_s: float) -> str:
        logger.info("SMS (not sent: log provider)", extra={"to": mask(to), "key": idempotency_key})
        return f"log:{idempotency_key}"


class HttpSmsProvider:
    """A JSON-over-HTTPS provider: POST {to, body} with an Idempotency-Key header."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"})

    def send(self, to: str, body: str, idempotency_key: str, timeout_s: float) -> str:
        try:
            response = self.client.post(
                self.url,
                json={"to": to, "body": body},
                headers={"Idempotency-Key": idempotency_key},
                timeout=timeout_s,
            )
        except httpx.TimeoutException as exc:
            raise DeliveryTimeoutError(f"SMS provider timeout: {exc}") from exc
        except httpx.TransportError as exc:
            raise DeliveryError(f"SMS provider unreachable: {exc}") from exc
        if response.is_success:
            return str(response.json().get("id", ""))
        retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
        raise DeliveryError(f"SMS provider answered {response.status_code}", retryable=retryable)


class SmsChannel:
    name = "SMS"

    def __init__(self, provider: SmsProvider, timeout_s: float) -> None:
        self.provider = provider
        self.timeout_s = timeout_s

    def deliver(self, request: NotificationRequest) -> str:
        if not isinstance(request, SmsRequested):
            raise TypeError(type(request).__name__)
        body = templates.sms(request.template, request.data)
        return self.provider.send(request.to, body, request.notification_id, self.timeout_s)


def build_provider(config: SmsConfig) -> SmsProvider:
    if config.provider == "http":
        if not config.url:
            raise ValueError("TESSERA_SMS_URL is required with TESSERA_SMS_PROVIDER=http")
        return HttpSmsProvider(config.url, config.token)
    return LogSmsProvider()
