"""Commands and small accessors for the inventory tests."""

from __future__ import annotations

from typing import TypeVar

from schemas.base import Envelope, Money
from schemas.inventory_commands import (
    ConfirmReservation,
    ExpireHold,
    InventoryCommand,
    ReleaseReservation,
    ReserveInventory,
    SetCapacity,
)
from state_stores.base import InMemoryStore
from state_stores.inventory import ItemLedger, Reservation, handle_inventory_command
from state_stores.inventory.state import load_ledger, load_reservation

ITEM = "item-1"
PRICE = Money(2_500, "USD")
NOW = 1_700_000_000_000
EXPIRES = NOW + 600_000

M = TypeVar("M", bound=Envelope)


def set_capacity(capacity: int, price: Money | None = PRICE) -> SetCapacity:
    return SetCapacity(item_id=ITEM, capacity=capacity, price=price)


def reserve(booking: str, quantity: int = 1, expires_at: int = EXPIRES) -> ReserveInventory:
    return ReserveInventory(
        item_id=ITEM, booking_id=booking, quantity=quantity, hold_expires_at=expires_at
    )


def confirm(booking: str) -> ConfirmReservation:
    return ConfirmReservation(item_id=ITEM, booking_id=booking)


def release(booking: str, reason: str = "") -> ReleaseReservation:
    return ReleaseReservation(item_id=ITEM, booking_id=booking, reason=reason)


def expire(booking: str, expires_at: int = EXPIRES) -> ExpireHold:
    return ExpireHold(item_id=ITEM, booking_id=booking, hold_expires_at=expires_at)


def item_with(capacity: int) -> InMemoryStore:
    store = InMemoryStore()
    handle_inventory_command(store, set_capacity(capacity), NOW)
    return store


def run(store: InMemoryStore, command: InventoryCommand, now: int = NOW) -> list[Envelope]:
    return handle_inventory_command(store, command, now)


def one(outputs: list[Envelope], kind: type[M]) -> M:
    found = [message for message in outputs if isinstance(message, kind)]
    assert len(found) == 1, f"expected one {kind.__name__} in {outputs}"
    return found[0]


def types(outputs: list[Envelope]) -> list[str]:
    return [type(message).__name__ for message in outputs]


def ledger_of(store: InMemoryStore) -> ItemLedger:
    ledger = load_ledger(store)
    assert ledger is not None
    return ledger


def reservation_of(store: InMemoryStore, booking: str) -> Reservation | None:
    return load_reservation(store, booking)
