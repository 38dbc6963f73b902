"""inventory-events (key bookingId): the inventory ledger's replies to the saga.

inventory-snapshots (key itemId, compacted): the ledger's totals after every change,
for the Postgres and Redis sinks; admin results land there too.
"""

from __future__ import annotations

import msgspec

from .base import Envelope, Money


class InventoryReserved(Envelope, frozen=True, tag="InventoryReserved"):
    item_id: str
    booking_id: str
    quantity: int
    amount: Money
    hold_expires_at: int


class ReservationRejected(Envelope, frozen=True, tag="ReservationRejected"):
    item_id: str
    booking_id: str
    reason: str
    available: int = 0


class ReservationConfirmed(Envelope, frozen=True, tag="ReservationConfirmed"):
    item_id: str
    booking_id: str
    quantity: int


class ReservationReleased(Envelope, frozen=True, tag="ReservationReleased"):
    item_id: str
    booking_id: str
    quantity: int
    reason: str = ""


class HoldExpired(Envelope, frozen=True, tag="HoldExpired"):
    item_id: str
    booking_id: str
    quantity: int


InventoryEvent = (
    InventoryReserved
    | ReservationRejected
    | ReservationConfirmed
    | ReservationReleased
    | HoldExpired
)
DECODER: msgspec.json.Decoder[InventoryEvent] = msgspec.json.Decoder(InventoryEvent)


class ReservationView(msgspec.Struct, frozen=True):
    booking_id: str
    quantity: int
    status: str
    expires_at: int = 0


class ItemSnapshot(Envelope, frozen=True, tag="ItemSnapshot"):
    """The item's ledger after a change; `version` grows by one per change."""

    item_id: str
    capacity: int
    held: int
    sold: int
    price: Money
    version: int
    changed: ReservationView | None = None


class CapacityRejected(Envelope, frozen=True, tag="CapacityRejected"):
    item_id: str
    requested_capacity: int
    reason: str
    sold: int
    held: int


InventorySnapshotEvent = ItemSnapshot | CapacityRejected
SNAPSHOT_DECODER: msgspec.json.Decoder[InventorySnapshotEvent] = msgspec.json.Decoder(
    InventorySnapshotEvent
)
