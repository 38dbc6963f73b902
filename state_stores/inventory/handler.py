"""The thin shell the inventory pipeline calls per command: load, decide, store."""

from __future__ import annotations

from schemas.base import Envelope
from schemas.inventory_commands import InventoryCommand, SetCapacity

from ..base import KeyValueStore
from .decide import decide
from .state import load_ledger, load_reservation, save_ledger, save_reservation


def handle_inventory_command(
    store: KeyValueStore, command: InventoryCommand, now_ms: int
) -> list[Envelope]:
    """Apply one command to the item's state (store scoped to command.item_id).

    Returns the messages to produce, in order; route each with `state_stores.routing.route`.
    """
    ledger = load_ledger(store)
    reservation = (
        None if isinstance(command, SetCapacity) else load_reservation(store, command.booking_id)
    )
    decision = decide(ledger, reservation, command, now_ms)
    if decision.ledger is not None:
        save_ledger(store, decision.ledger)
    if decision.reservation is not None:
        save_reservation(store, decision.reservation)
    return list(decision.outputs)
