"""notification-queue (key notificationId): messages to people and partner systems.

`notification_id` is derived from bookingId and the booking version that caused it,
so a redelivered request is the same notification and is delivered once.
"""

from __future__ import annotations

import msgspec

from .base import Envelope


class EmailRequested(Envelope, frozen=True, tag="EmailRequested"):
    notification_id: str
    booking_id: str
    to: str
    template: str
    data: dict[str, str] = msgspec.field(default_factory=dict)


class SmsRequested(Envelope, frozen=True, tag="SmsRequested"):
    notification_id: str
    booking_id: str
    to: str
    template: str
    data: dict[str, str] = msgspec.field(default_factory=dict)


class WebhookRequested(Envelope, frozen=True, tag="WebhookRequested"):
    notification_id: str
    booking_id: str
    url: str
    event_type: str
    body: dict[str, str] = msgspec.field(default_factory=dict)


class PushRequested(Envelope, frozen=True, tag="PushRequested"):
    """Live status push to a connected client (SSE at the ingress)."""

    notification_id: str
    booking_id: str
    user_id: str
    status: str
    reason: str = ""


NotificationRequest = EmailRequested | SmsRequested | WebhookRequested | PushRequested
DECODER: msgspec.json.Decoder[NotificationRequest] = msgspec.json.Decoder(NotificationRequest)
