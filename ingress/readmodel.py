"""Where reads come from: the Redis read model first, Postgres behind it.

A booking is looked up in the booking cache, then Postgres, then the ingress's own
accepted record, so a booking answered with 202 is found even before any pipeline saw it.
When Redis is down, reads fall back to Postgres; a booking Postgres does not know then
answers 503 rather than a 404 that could be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from sinks.cache_contract import ACCEPTED_TTL_S, accepted_key, availability_key, booking_key

from .exceptions import BackendUnavailable
from .models import BookingView, InventoryView, PaymentView
from .postgres import Postgres
from .redis_gate import RedisGate
from .views import (
    CachedBooking,
    booking_decoder,
    decode_cursor,
    decode_or_none,
    encode,
    encode_cursor,
    item_decoder,
    item_from_cache,
    item_from_row,
    payment_from_row,
    view_from_cache,
    view_from_row,
)

_BOOKING_COLUMNS = sql.SQL(
    "SELECT booking_id, user_id, item_id, quantity, amount_minor, currency, status, reason,"
    " payment_id, version, created_at, updated_at FROM bookings"
)


@dataclass(frozen=True)
class BookingRecord:
    view: BookingView
    created_by: str | None  # the principal that created it, while the accepted record lives


class ReadModel:
    def __init__(self, gate: RedisGate, pg: Postgres, prefix: str) -> None:
        self.gate, self.pg, self.prefix = gate, pg, prefix

    async def booking(self, booking_id: str) -> BookingRecord | None:
        cached = accepted = None
        redis_error: BackendUnavailable | None = None
        try:
            with self.gate.guard("read_booking"):
                cached, accepted = await self.gate.client.mget(
                    booking_key(self.prefix, booking_id), accepted_key(self.prefix, booking_id)
                )
        except BackendUnavailable as exc:
            redis_error = exc
        acc = decode_or_none(booking_decoder, accepted)
        created_by = acc.requested_by if acc else None
        hot = decode_or_none(booking_decoder, cached)
        if hot is not None:
            return BookingRecord(view_from_cache(hot), created_by)
        row = await self.pg.fetch(
            "booking", _BOOKING_COLUMNS + sql.SQL(" WHERE booking_id = %s"), (booking_id,)
        )
        if row is not None:
            return BookingRecord(view_from_row(row), created_by)
        if acc is not None:
            return BookingRecord(view_from_cache(acc), created_by)
        if redis_error is not None:
            raise redis_error
        return None

    def accepted_write(self, booking: CachedBooking) -> tuple[str, bytes, int]:
        """The SET recording that Kafka acknowledged this booking (done with the response)."""
        return accepted_key(self.prefix, booking.booking_id), encode(booking), ACCEPTED_TTL_S

    async def list_bookings(
        self, user_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[BookingView], str | None]:
        """Newest first, keyset-paginated on (created_at DESC, booking_id)."""
        where, params = [], []
        if user_id is not None:
            where.append(sql.SQL("user_id = %s"))
            params.append(user_id)
        if status is not None:
            where.append(sql.SQL("status = %s"))
            params.append(str(status))
        if cursor is not None:
            created_at, after_id = decode_cursor(cursor)
            where.append(sql.SQL("(created_at < %s OR (created_at = %s AND booking_id > %s))"))
            params += [created_at, created_at, after_id]
        query = _BOOKING_COLUMNS
        if where:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        query += sql.SQL(" ORDER BY created_at DESC, booking_id ASC LIMIT %s")
        rows = await self.pg.fetch("booking", query, (*params, limit + 1), many=True)
        views = [view_from_row(r) for r in rows[:limit]]
        next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return views, next_cursor

    async def item(self, item_id: str) -> InventoryView | None:
        try:
            with self.gate.guard("read_item"):
                raw = await self.gate.client.get(availability_key(self.prefix, item_id))
        except BackendUnavailable:
            raw = None
        cached = decode_or_none(item_decoder, raw)
        if cached is not None:
            return item_from_cache(cached)
        row = await self.pg.fetch(
            "inventory",
            "SELECT item_id, capacity, held, sold, price_minor, currency, version"
            " FROM inventory WHERE item_id = %s",
            (item_id,),
        )
        return item_from_row(row) if row is not None else None

    async def payment(self, booking_id: str) -> PaymentView | None:
        row = await self.pg.fetch(
            "payment",
            "SELECT booking_id, payment_id, amount_minor, currency, status, captured_count,"
            " version, updated_at FROM payments WHERE booking_id = %s",
            (booking_id,),
        )
        return payment_from_row(row) if row is not None else None
