"""The channel contract and what the ledger records about a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

from schemas.notifications import (
    EmailRequested,
    NotificationRequest,
    PushRequested,
    SmsRequested,
    WebhookRequested,
)
from tessera.telemetry import mask

ChannelName = Literal["EMAIL", "SMS", "WEBHOOK", "PUSH"]


class Channel(Protocol):
    name: ChannelName

    def deliver(self, request: NotificationRequest) -> str:
        """Send it; a provider reference or short detail. Raise DeliveryError on failure.
        Must pass request.notification_id on as the receiver's deduplication key."""
        ...


@dataclass(frozen=True)
class Described:
    channel: ChannelName
    recipient_masked: str  # never the raw email address or phone number
    template: str


def describe(request: NotificationRequest) -> Described:
    match request:
        case EmailRequested():
            return Described("EMAIL", mask(request.to), request.template)
        case SmsRequested():
            return Described("SMS", mask(request.to), request.template)
        case WebhookRequested():
            parts = urlsplit(request.url)  # the path may carry a partner's token
            return Described("WEBHOOK", f"{parts.scheme}://{parts.netloc}", request.event_type)
        case PushRequested():
            return Described("PUSH", request.user_id, f"push:{request.status}")
    raise TypeError(f"not a notification request: {type(request).__name__}")
