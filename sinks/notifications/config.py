"""Notification delivery settings, from the environment (defaults work on a dev machine)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from ..base.config import Backoff

SmsProviderName = Literal["log", "http"]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 1025
    sender: str = "Tessera <bookings@tessera.local>"
    timeout_s: float = 10.0
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class SmsConfig:
    provider: SmsProviderName = "log"
    url: str = ""
    token: str = field(default="", repr=False)
    timeout_s: float = 5.0


@dataclass(frozen=True)
class WebhookConfig:
    secret: str = field(default="dev-webhook-secret", repr=False)
    timeout_s: float = 5.0


@dataclass(frozen=True)
class NotificationConfig:
    smtp: SmtpConfig = SmtpConfig()
    sms: SmsConfig = SmsConfig()
    webhook: WebhookConfig = WebhookConfig()
    max_attempts: int = 8
    retry_backoff: Backoff = Backoff(initial_s=1.0, max_s=300.0, jitter=0.2)
    concurrency: int = 16  # deliveries in flight (threads, ledger connections)
    max_buffered: int = 5000  # records held (due later or in flight) before pausing
    commit_interval_s: float = 0.5

    @classmethod
    def from_env(cls) -> NotificationConfig:
        smtp = SmtpConfig(
            host=_env("TESSERA_SMTP_HOST", "127.0.0.1"),
            port=int(_env("TESSERA_SMTP_PORT", "1025")),
            sender=_env("TESSERA_SMTP_FROM", SmtpConfig.sender),
            starttls=_env("TESSERA_SMTP_STARTTLS", "0") == "1",
            username=_env("TESSERA_SMTP_USER", ""),
            password=_env("TESSERA_SMTP_PASSWORD", ""),
        )
        provider = _env("TESSERA_SMS_PROVIDER", "log")
        if provider not in ("log", "http"):
            raise ValueError(f"TESSERA_SMS_PROVIDER must be 'log' or 'http', not {provider!r}")
        sms = SmsConfig(
            provider=provider,  # type: ignore[arg-type]
            url=_env("TESSERA_SMS_URL", ""),
            token=_env("TESSERA_SMS_TOKEN", ""),
        )
        webhook = WebhookConfig(secret=_env("TESSERA_WEBHOOK_SECRET", WebhookConfig.secret))
        return cls(
            smtp=smtp,
            sms=sms,
            webhook=webhook,
            max_attempts=int(_env("TESSERA_NOTIFY_MAX_ATTEMPTS", "8")),
        )
