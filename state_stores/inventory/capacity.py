"""Admin: set an item's capacity (creating the item on first use) and optionally its price."""

from __future__ import annotations

from msgspec.structs import replace

from schemas.inventory_commands import SetCapacity
from schemas.inventory_events import CapacityRejected

from ..envelopes import Outbox
from .replies import snapshot
from .state import CapacityRejection, ItemLedger


def set_capacity(ledger: ItemLedger | None, command: SetCapacity, out: Outbox) -> ItemLedger | None:
    """Returns the new ledger, or None when the command was refused (nothing changes)."""
    refusal = _refusal(ledger, command)
    if refusal is None and ledger is not None:
        updated = replace(
            ledger,
            capacity=command.capacity,
            price=command.price or ledger.price,
            version=ledger.version + 1,
        )
    elif refusal is None and command.price is not None:
        updated = ItemLedger(
            item_id=command.item_id, capacity=command.capacity, price=command.price
        )
    else:
        # A new item cannot be sold without a price: every reservation's amount derives from it.
        _refuse(out, ledger, command, refusal or "PRICE_REQUIRED")
        return None
    out.emit(snapshot(out, updated, None))
    return updated


def _refusal(ledger: ItemLedger | None, command: SetCapacity) -> CapacityRejection | None:
    if command.capacity < 0:
        return "NEGATIVE_CAPACITY"
    if command.price is not None and command.price.amount_minor < 0:
        return "INVALID_PRICE"
    # Stock already promised to bookings cannot be taken back by shrinking the item.
    if ledger is not None and command.capacity < ledger.sold + ledger.held:
        return "BELOW_COMMITTED"
    return None


def _refuse(
    out: Outbox, ledger: ItemLedger | None, command: SetCapacity, reason: CapacityRejection
) -> None:
    out.emit(
        CapacityRejected(
            **out.envelope(),
            item_id=command.item_id,
            requested_capacity=command.capacity,
            reason=reason,
            sold=0 if ledger is None else ledger.sold,
            held=0 if ledger is None else ledger.held,
        )
    )
