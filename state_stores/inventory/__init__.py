"""The inventory ledger per item: capacity, holds with expiry, confirmations, releases."""

from .decide import Decision, decide
from .handler import handle_inventory_command
from .state import ItemLedger, Reservation, ReservationStatus

__all__ = [
    "Decision",
    "ItemLedger",
    "Reservation",
    "ReservationStatus",
    "decide",
    "handle_inventory_command",
]
