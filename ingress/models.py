"""The HTTP contract: request and response bodies as msgspec Structs.

Field names are camelCase on the wire, except inside money objects, which keep the
Kafka contract's shape {amount_minor, currency}. Request Structs forbid unknown fields;
these same types generate /openapi.json, so the document is what the code enforces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from schemas.base import BookingStatus, Quantity

_NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"
ApiId = Annotated[str, Meta(min_length=1, max_length=128, pattern=_NO_CONTROL)]
PaymentMethod = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
_VISIBLE = r"[^@ \x00-\x1f\x7f-\x9f]+"  # not \s: Python's and ECMA-262's differ
Email = Annotated[str, Meta(max_length=254, pattern=rf"^{_VISIBLE}@{_VISIBLE}\.[A-Za-z]{{2,}}$")]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9][0-9 ()-]{6,19}$")]
WebhookUrl = Annotated[str, Meta(max_length=2048, pattern=r"^https://[^ \x00-\x1f\x7f-\x9f]+$")]
Reason = Annotated[str, Meta(min_length=1, max_length=200, pattern=_NO_CONTROL)]
PaymentStatus = Literal[
    "AUTHORIZING", "AUTHORIZED", "DECLINED", "CAPTURED", "VOIDED", "REFUNDED", "FAILED"
]


class Request(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """Base of every request body and query: unknown fields are an error, never ignored."""


class Money(Struct, frozen=True, forbid_unknown_fields=True):
    """An amount in integer minor units (cents) of an ISO 4217 currency."""

    amount_minor: Annotated[int, Meta(ge=0, le=10**12)]
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] = "USD"


class CreateBookingRequest(Request, frozen=True):
    """userId and webhookUrl: PARTNER (userId required) and ADMIN only. No price: inventory
    sets it."""

    item_id: ApiId
    quantity: Quantity
    payment_method: PaymentMethod
    user_id: ApiId | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    webhook_url: WebhookUrl | None = None


class SetInventoryRequest(Request, frozen=True):
    capacity: Annotated[int, Meta(ge=0, le=10_000_000)]
    price: Money | None = None


class RefundRequest(Request, frozen=True):
    reason: Reason = "SUPPORT_REFUND"


class ListBookingsQuery(Request, frozen=True):
    user_id: ApiId | None = None
    status: BookingStatus | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20
    cursor: Annotated[str, Meta(min_length=1, max_length=256)] | None = None


class Response(Struct, frozen=True, kw_only=True, rename="camel"):
    pass


class BookingAccepted(Response, frozen=True):
    booking_id: str
    status: Literal["PENDING"] = "PENDING"


class CommandAccepted(Response, frozen=True):
    command_id: str
    booking_id: str | None = None
    item_id: str | None = None
    status: Literal["ACCEPTED"] = "ACCEPTED"


class BookingView(Response, frozen=True):
    booking_id: str
    user_id: str
    item_id: str
    quantity: int
    status: BookingStatus
    reason: str | None
    amount: Money | None
    payment_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class BookingPage(Response, frozen=True):
    items: list[BookingView]
    next_cursor: str | None


class InventoryView(Response, frozen=True):
    item_id: str
    capacity: int
    held: int
    sold: int
    available: int
    price: Money | None
    version: int


class PaymentView(Response, frozen=True):
    booking_id: str
    payment_id: str | None
    status: PaymentStatus
    amount: Money | None  # not known yet (e.g. a decline recorded before the amount)
    captured: bool
    version: int
    updated_at: datetime


class Problem(Response, frozen=True):
    """RFC 9457 problem details; `code` is the machine-readable error."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    request_id: str
    field: str | None = None


class Health(Response, frozen=True):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = msgspec.field(default_factory=dict)
