"""The one registry of Tessera's topics: names, keys, payload unions, configs.

Nothing else in the code base spells a topic name; `tessera topics apply` creates
these from here and reports drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from . import (
    booking_commands,
    booking_events,
    inventory_commands,
    inventory_events,
    notifications,
    payment_commands,
    payment_events,
    saga_events,
    timers,
)

SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000
KeyName = Literal["bookingId", "itemId", "bucket", "notificationId"]
CleanupPolicy = Literal["delete", "compact"]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: KeyName
    payload: Any
    decoder: msgspec.json.Decoder[Any] | None
    description: str
    cleanup_policy: CleanupPolicy = "delete"
    retention_ms: int = SEVEN_DAYS_MS
    partitions: int | None = None  # None: the configured default (12)
    has_dead_letters: bool = False

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlq"

    def broker_config(self) -> dict[str, str]:
        return {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}


BOOKING_COMMANDS = TopicSpec(
    "booking-commands",
    "bookingId",
    booking_commands.BookingCommand,
    booking_commands.DECODER,
    "Create, cancel and refund requests from the HTTP ingress and partners.",
    has_dead_letters=True,
)
INVENTORY_COMMANDS = TopicSpec(
    "inventory-commands",
    "itemId",
    inventory_commands.InventoryCommand,
    inventory_commands.DECODER,
    "Reserve/confirm/release/expire/set-capacity per item.",
    has_dead_letters=True,
)
INVENTORY_EVENTS = TopicSpec(
    "inventory-events",
    "bookingId",
    inventory_events.InventoryEvent,
    inventory_events.DECODER,
    "The inventory ledger's replies to the saga.",
    has_dead_letters=True,
)
INVENTORY_SNAPSHOTS = TopicSpec(
    "inventory-snapshots",
    "itemId",
    inventory_events.InventorySnapshotEvent,
    inventory_events.SNAPSHOT_DECODER,
    "Item totals after every change (for sinks and cache).",
    cleanup_policy="compact",
    has_dead_letters=True,
)
PAYMENT_COMMANDS = TopicSpec(
    "payment-commands",
    "bookingId",
    payment_commands.PaymentCommand,
    payment_commands.DECODER,
    "Authorize/capture/void/refund requests to the payment worker.",
    has_dead_letters=True,
)
PAYMENT_EVENTS = TopicSpec(
    "payment-events",
    "bookingId",
    payment_events.PaymentEvent,
    payment_events.DECODER,
    "Gateway outcomes, one per payment command.",
    has_dead_letters=True,
)
BOOKING_EVENTS = TopicSpec(
    "booking-events",
    "bookingId",
    booking_events.BookingEvent,
    booking_events.DECODER,
    "The booking as clients see it after every change.",
    has_dead_letters=True,
)
SAGA_EVENTS = TopicSpec(
    "saga-events",
    "bookingId",
    saga_events.SagaEvent,
    saga_events.DECODER,
    "Every saga step started, finished or compensated.",
    has_dead_letters=True,
)
NOTIFICATION_QUEUE = TopicSpec(
    "notification-queue",
    "notificationId",
    notifications.NotificationRequest,
    notifications.DECODER,
    "Email, SMS, webhook and live-push requests.",
    has_dead_letters=True,
)
NOTIFICATION_RETRY = TopicSpec(
    "notification-retry",
    "notificationId",
    notifications.NotificationRequest,
    notifications.DECODER,
    "Notifications waiting for their next delivery attempt.",
)
TIMERS = TopicSpec(
    "timers",
    "bucket",
    timers.TimerRecord,
    timers.DECODER,
    "Durable timers keyed by due-second bucket, and the ticks that fire them.",
    has_dead_letters=True,
)
SAGA_TIMEOUTS = TopicSpec(
    "saga-timeouts",
    "bookingId",
    timers.SagaTimeout,
    timers.TIMEOUT_DECODER,
    "Saga step deadlines that fired.",
    has_dead_letters=True,
)
TICKER_CURSOR = TopicSpec(
    "timer-ticker-cursor",
    "bucket",
    None,
    None,
    "The last bucket the ticker produced, so a restart resumes where it stopped.",
    cleanup_policy="compact",
    partitions=1,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    BOOKING_COMMANDS,
    INVENTORY_COMMANDS,
    INVENTORY_EVENTS,
    INVENTORY_SNAPSHOTS,
    PAYMENT_COMMANDS,
    PAYMENT_EVENTS,
    BOOKING_EVENTS,
    SAGA_EVENTS,
    NOTIFICATION_QUEUE,
    NOTIFICATION_RETRY,
    TIMERS,
    SAGA_TIMEOUTS,
    TICKER_CURSOR,
)
BY_NAME = {spec.name: spec for spec in ALL_TOPICS}


def dead_letter_topics() -> tuple[TopicSpec, ...]:
    return tuple(
        TopicSpec(
            spec.dead_letter,
            spec.key,
            None,
            None,
            f"Dead letters of {spec.name}.",
            retention_ms=30 * 24 * 3600 * 1000,
        )
        for spec in ALL_TOPICS
        if spec.has_dead_letters
    )


def declared_topics() -> tuple[TopicSpec, ...]:
    return ALL_TOPICS + dead_letter_topics()
