"""inventory database: inventory (item totals) + inventory_reservations (one row per
booking's hold), from inventory-snapshots. The snapshot's per-item version guards both:
a reservation belongs to one item, so the item's version orders its changes too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemas.inventory_events import ItemSnapshot
from schemas.topics import INVENTORY_SNAPSHOTS, TopicSpec

from ..base.records import SourceRecord
from .projection import Projection, Row, ts, update_if_newer

SERVICE = "inventory"
INPUTS: tuple[TopicSpec, ...] = (INVENTORY_SNAPSHOTS,)

_ITEM_COLUMNS = (
    "item_id",
    "capacity",
    "held",
    "sold",
    "price_minor",
    "currency",
    "version",
    "updated_at",
)
_RESERVATION_COLUMNS = (
    "booking_id",
    "item_id",
    "quantity",
    "status",
    "expires_at",
    "version",
    "updated_at",
)
INVENTORY = Projection(
    name="inventory",
    table="inventory",
    columns=_ITEM_COLUMNS,
    key=("item_id",),
    on_conflict=update_if_newer(_ITEM_COLUMNS, ("item_id",)),
)
RESERVATIONS = Projection(
    name="inventory_reservations",
    table="inventory_reservations",
    columns=_RESERVATION_COLUMNS,
    key=("booking_id",),
    on_conflict=update_if_newer(_RESERVATION_COLUMNS, ("booking_id",)),
)
PROJECTIONS = (INVENTORY, RESERVATIONS)


def project(spec: TopicSpec, message: Any, source: SourceRecord) -> Iterator[Row]:
    # CapacityRejected changes nothing: the ledger kept its totals.
    if not isinstance(message, ItemSnapshot):
        return
    updated_at = ts(message.occurred_at)
    item = (
        message.item_id,
        message.capacity,
        message.held,
        message.sold,
        message.price.amount_minor,
        message.price.currency,
        message.version,
        updated_at,
    )
    yield (INVENTORY, item, source)
    changed = message.changed
    if changed is not None:
        reservation = (
            changed.booking_id,
            message.item_id,
            changed.quantity,
            changed.status,
            ts(changed.expires_at) if changed.expires_at else None,
            message.version,
            updated_at,
        )
        yield (RESERVATIONS, reservation, source)
