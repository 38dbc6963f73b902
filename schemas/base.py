"""What every Tessera message carries, and the rules all topic contracts follow.

Contracts evolve append-only: a new field gets a default, a field is never removed
or retyped, and decoders never forbid unknown fields, so an old consumer reads a
newer producer's messages. `schema_version` is the contract version the producer
wrote; a consumer rejects (dead-letters) versions newer than it understands.
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Annotated

import msgspec

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1000)]
SCHEMA_VERSION = 1
TAG_FIELD = "type"


def new_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Money(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """An amount in integer minor units (cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str = "USD"


class Envelope(msgspec.Struct, frozen=True, kw_only=True, tag_field=TAG_FIELD):
    """Fields every command and event carries.

    message_id: unique per message, the dedupe key downstream.
    correlation_id: the same for every message of one booking's journey.
    causation_id: the message_id of the message that caused this one.
    """

    message_id: str = msgspec.field(default_factory=new_id)
    correlation_id: str = ""
    causation_id: str = ""
    occurred_at: int = msgspec.field(default_factory=now_ms)
    schema_version: int = SCHEMA_VERSION


class BookingStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


TERMINAL_STATUSES = frozenset(
    {BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.FAILED}
)


class FailureReason(StrEnum):
    SOLD_OUT = "SOLD_OUT"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    TIMEOUT = "TIMEOUT"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    USER_CANCELLED = "USER_CANCELLED"
    REFUNDED = "REFUNDED"


def caused_by(parent: Envelope) -> dict[str, str]:
    """Envelope fields for a message caused by `parent`: same correlation, parent as cause."""
    return {
        "correlation_id": parent.correlation_id or parent.message_id,
        "causation_id": parent.message_id,
    }
