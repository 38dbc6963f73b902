"""The notification delivery process. Entry point for the supervisor:
`sinks.notifications.app:main`. Channel settings come from TESSERA_SMTP_*, TESSERA_SMS_*,
TESSERA_WEBHOOK_SECRET and TESSERA_NOTIFY_MAX_ATTEMPTS (see config.py)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from pipelines.runtime import metrics as pipeline_metrics
from tessera.config import Settings

from ..base.runner import run_loops, stop_on_signals
from ..redis_cache.client import RedisConfig, connect
from .channels.base import Channel, ChannelName
from .channels.email import SmtpEmailChannel
from .channels.push import PushChannel
from .channels.sms import SmsChannel, build_provider
from .channels.webhook import WebhookChannel
from .config import NotificationConfig
from .ledger import NotificationLedger
from .service import NotificationService


def build_channels(settings: Settings, config: NotificationConfig) -> dict[ChannelName, Channel]:
    return {
        "EMAIL": SmtpEmailChannel(config.smtp),
        "SMS": SmsChannel(build_provider(config.sms), config.sms.timeout_s),
        "WEBHOOK": WebhookChannel(config.webhook),
        "PUSH": PushChannel(connect(RedisConfig(url=settings.redis_url)), settings.topic_prefix),
    }


def build_service(
    settings: Settings,
    config: NotificationConfig | None = None,
    channels: Mapping[ChannelName, Channel] | None = None,
) -> NotificationService:
    config = config or NotificationConfig.from_env()
    channels = channels if channels is not None else build_channels(settings, config)
    ledger = NotificationLedger(settings.postgres_dsn("notification"))
    return NotificationService(settings, config, channels, ledger)


def main(
    settings: Settings, metrics_port: int | None = None, stop: threading.Event | None = None
) -> None:
    if metrics_port is not None:
        pipeline_metrics.serve(metrics_port)
    stop = stop or threading.Event()
    stop_on_signals(stop)
    service = build_service(settings)
    run_loops([("notifications", service.run)], stop)
