"""inventory-commands (key itemId): what the saga and admins ask of an item's ledger."""

from __future__ import annotations

import msgspec

from .base import Envelope, Identifier, Money, Quantity


class ReserveInventory(Envelope, frozen=True, tag="ReserveInventory"):
    """Hold `quantity` for a booking, all or nothing, until `hold_expires_at` (epoch ms)."""

    item_id: Identifier
    booking_id: Identifier
    quantity: Quantity
    hold_expires_at: int


class ConfirmReservation(Envelope, frozen=True, tag="ConfirmReservation"):
    item_id: Identifier
    booking_id: Identifier


class ReleaseReservation(Envelope, frozen=True, tag="ReleaseReservation"):
    """Give the booking's quantity back, whether it was held or already confirmed."""

    item_id: Identifier
    booking_id: Identifier
    reason: str = ""


class ExpireHold(Envelope, frozen=True, tag="ExpireHold"):
    """Fired by the timer service; ignored unless the hold is still the one it was set for."""

    item_id: Identifier
    booking_id: Identifier
    hold_expires_at: int


class SetCapacity(Envelope, frozen=True, tag="SetCapacity"):
    """Admin: set capacity (and optionally the price); rejected below sold + held."""

    item_id: Identifier
    capacity: int
    price: Money | None = None
    requested_by: str = ""


InventoryCommand = (
    ReserveInventory | ConfirmReservation | ReleaseReservation | ExpireHold | SetCapacity
)
DECODER: msgspec.json.Decoder[InventoryCommand] = msgspec.json.Decoder(InventoryCommand)
