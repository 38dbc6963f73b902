"""The read model's shapes: cache entries as the sinks write them, rows, and API views.

Cache entries (sinks.cache_contract) are decoded leniently: an entry that does not match
the contract is a miss (and logged), never a 500. Cursors of the booking list are opaque
base64url of (created_at in microseconds, booking_id).
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

import msgspec

from schemas.base import BookingStatus

from .exceptions import Unprocessable
from .models import BookingView, InventoryView, Money, PaymentView

log = logging.getLogger(__name__)


class CachedBooking(msgspec.Struct, kw_only=True):
    """The booking view as sinks (and the accepted record) store it in Redis."""

    booking_id: str
    user_id: str
    item_id: str
    quantity: int
    status: BookingStatus
    reason: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    payment_id: str | None = None
    version: int = 0
    created_at: int = 0
    updated_at: int = 0
    requested_by: str | None = None  # accepted record only: who sent the command


class CachedItem(msgspec.Struct, kw_only=True):
    item_id: str
    capacity: int
    held: int = 0
    sold: int = 0
    available: int | None = None
    price_minor: int | None = None
    currency: str | None = None
    version: int = 0


booking_decoder = msgspec.json.Decoder(CachedBooking)
item_decoder = msgspec.json.Decoder(CachedItem)
encode = msgspec.json.Encoder().encode


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def _money(amount_minor: int | None, currency: str | None) -> Money | None:
    """Postgres leaves amount and currency NULL until known (booking not priced yet)."""
    if amount_minor is None:
        return None
    return Money(amount_minor, (currency or "USD").strip())


def view_from_cache(c: CachedBooking) -> BookingView:
    amount = Money(c.amount_minor, c.currency or "USD") if c.amount_minor is not None else None
    return BookingView(
        booking_id=c.booking_id, user_id=c.user_id, item_id=c.item_id, quantity=c.quantity,
        status=c.status, reason=c.reason or None, amount=amount, payment_id=c.payment_id or None,
        version=c.version, created_at=_ms(c.created_at), updated_at=_ms(c.updated_at),
    )  # fmt: skip


def view_from_row(r: dict) -> BookingView:
    return BookingView(
        booking_id=r["booking_id"], user_id=r["user_id"], item_id=r["item_id"],
        quantity=r["quantity"], status=BookingStatus(r["status"]), reason=r["reason"] or None,
        amount=_money(r["amount_minor"], r["currency"]), payment_id=r["payment_id"] or None,
        version=r["version"], created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


def decode_cached_booking(raw: bytes | str) -> BookingView:
    return view_from_cache(booking_decoder.decode(raw))


def decode_or_none(decoder: msgspec.json.Decoder, raw: bytes | None):  # type: ignore[no-untyped-def]
    """A cache entry that does not match the contract is a miss (logged), never a 500."""
    if not raw:
        return None
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        log.warning("undecodable read-model entry", extra={"error": str(exc)})
        return None


def item_from_cache(c: CachedItem) -> InventoryView:
    available = c.available if c.available is not None else c.capacity - c.held - c.sold
    price = Money(c.price_minor, c.currency or "USD") if c.price_minor is not None else None
    return InventoryView(
        item_id=c.item_id, capacity=c.capacity, held=c.held, sold=c.sold,
        available=available, price=price, version=c.version,
    )  # fmt: skip


def item_from_row(row: dict) -> InventoryView:
    return InventoryView(
        item_id=row["item_id"], capacity=row["capacity"], held=row["held"], sold=row["sold"],
        available=row["capacity"] - row["held"] - row["sold"],
        price=Money(row["price_minor"], row["currency"].strip()), version=row["version"],
    )  # fmt: skip


def payment_from_row(row: dict) -> PaymentView:
    return PaymentView(
        booking_id=row["booking_id"], payment_id=row["payment_id"], status=row["status"],
        amount=_money(row["amount_minor"], row["currency"]),
        captured=row["captured_count"] > 0, version=row["version"],
        updated_at=row["updated_at"],
    )  # fmt: skip


def encode_cursor(row: dict) -> str:
    created: datetime = row["created_at"]
    micros = int(created.timestamp()) * 1_000_000 + created.microsecond
    raw = encode([micros, row["booking_id"]])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        micros, booking_id = msgspec.json.decode(raw, type=tuple[int, str])
        created = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(
            microsecond=micros % 1_000_000
        )
    except (ValueError, msgspec.DecodeError, OverflowError, OSError) as exc:
        raise Unprocessable("invalid cursor", code="INVALID_CURSOR", field="cursor") from exc
    return created, booking_id
