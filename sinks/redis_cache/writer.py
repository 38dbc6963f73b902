"""The Redis cache writer: booking views and item availability, version-guarded.

Idempotent like every sink: each value goes through VERSIONED_SET (EVALSHA), so a replayed
or reordered event never overwrites a newer view. Per batch, in one pipelined round trip:
every booking version in ascending order (so each status change is seen), the newest
snapshot per item; then, for each booking version that was actually newer, a PUBLISH of
the view on its push channel (the ingress streams them, deduplicated by version), and a
ZREM from the user's open holds once the booking left PENDING (idempotent, always sent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from schemas.base import BookingStatus
from schemas.booking_events import BookingChange
from schemas.inventory_events import ItemSnapshot
from schemas.topics import BOOKING_EVENTS, INVENTORY_SNAPSHOTS, TopicSpec
from sinks.cache_contract import (
    CACHE_TTL_S,
    VERSIONED_SET,
    availability_key,
    booking_key,
    open_holds_key,
    push_channel,
)

from ..base import metrics
from ..base.records import Rejected, SourceRecord
from ..exceptions import TransientWriteError
from .client import UNAVAILABLE, RedisConfig, connect
from .views import availability_view, booking_view, encode

logger = logging.getLogger(__name__)
Kind = Literal["booking", "item"]


@dataclass(frozen=True, slots=True)
class CacheRow:
    kind: Kind
    key: str  # booking_id or item_id
    version: int
    value: bytes
    user_id: str = ""
    pending: bool = False


@dataclass(frozen=True)
class CacheBatch:
    bookings: list[CacheRow]  # every version, ascending per booking
    items: list[CacheRow]  # newest per item


class RedisCacheWriter:
    name = "redis-cache"
    inputs: tuple[TopicSpec, ...] = (BOOKING_EVENTS, INVENTORY_SNAPSHOTS)

    def __init__(self, config: RedisConfig, prefix: str, ttl_s: int = CACHE_TTL_S) -> None:
        self.client = connect(config)
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.versioned_set = self.client.register_script(VERSIONED_SET)

    def project(self, spec: TopicSpec, message: Any, source: SourceRecord) -> list[CacheRow]:
        if isinstance(message, BookingChange):
            pending = message.status is BookingStatus.PENDING
            view = encode(booking_view(message))
            return [
                CacheRow(
                    "booking", message.booking_id, message.version, view, message.user_id, pending
                )
            ]
        if isinstance(message, ItemSnapshot):
            view = encode(availability_view(message))
            return [CacheRow("item", message.item_id, message.version, view)]
        return []  # CapacityRejected: the ledger did not change

    def reduce(self, rows: list[CacheRow]) -> CacheBatch:
        bookings: dict[tuple[str, int], CacheRow] = {}
        items: dict[str, CacheRow] = {}
        for row in rows:
            if row.kind == "booking":
                bookings.setdefault((row.key, row.version), row)
            elif row.key not in items or row.version > items[row.key].version:
                items[row.key] = row
        return CacheBatch([bookings[k] for k in sorted(bookings)], list(items.values()))

    def write(self, batch: CacheBatch) -> list[Rejected]:
        try:
            self._write(batch)
        except UNAVAILABLE as exc:
            raise TransientWriteError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        metrics.ROWS.labels(self.name, "bookings").inc(len(batch.bookings))
        metrics.ROWS.labels(self.name, "items").inc(len(batch.items))
        return []

    def _write(self, batch: CacheBatch) -> None:
        prefix, ttl = self.prefix, self.ttl_s
        pipe = self.client.pipeline(transaction=False)
        for row in batch.bookings:
            self.versioned_set(
                keys=[booking_key(prefix, row.key)], args=[row.version, row.value, ttl], client=pipe
            )
        for row in batch.items:
            self.versioned_set(
                keys=[availability_key(prefix, row.key)],
                args=[row.version, row.value, ttl],
                client=pipe,
            )
        written = pipe.execute()[: len(batch.bookings)]
        pipe = self.client.pipeline(transaction=False)
        for row, newer in zip(batch.bookings, written, strict=True):
            if newer:
                pipe.publish(push_channel(prefix, row.key), row.value)
            if not row.pending:
                pipe.zrem(open_holds_key(prefix, row.user_id), row.key)
        if len(pipe):
            pipe.execute()
        stale = len(written) - sum(1 for w in written if w)
        if stale:
            metrics.RECORDS.labels(self.name, BOOKING_EVENTS.name, "stale").inc(stale)

    def close(self) -> None:
        self.client.close()
