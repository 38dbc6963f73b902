"""What the inventory ledger stores per item, as small records rather than one blob.

Store layout under one itemId: "ledger" holds the item's totals, "res:<bookingId>" one
reservation each. A flash-sale item can carry 100k reservations, so a command touches
only the ledger and the one reservation it is about.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from schemas.base import Money
from schemas.inventory_events import ReservationView

from ..base import KeyValueStore
from ..codec import decode_state, encode_state

ReservationStatus = Literal["HELD", "CONFIRMED", "RELEASED", "EXPIRED", "REJECTED"]
# Why a reservation or confirmation was refused; the first three are FailureReason values.
RejectionReason = Literal[
    "SOLD_OUT", "UNKNOWN_ITEM", "INVALID_QUANTITY", "HOLD_EXPIRED", "NOT_HELD"
]
CapacityRejection = Literal[
    "PRICE_REQUIRED", "BELOW_COMMITTED", "NEGATIVE_CAPACITY", "INVALID_PRICE"
]

LEDGER_KEY = "ledger"


def reservation_key(booking_id: str) -> str:
    return f"res:{booking_id}"


class ItemLedger(msgspec.Struct, frozen=True, kw_only=True):
    item_id: str
    capacity: int
    held: int = 0
    sold: int = 0
    price: Money
    version: int = 1

    @property
    def available(self) -> int:
        return self.capacity - self.held - self.sold


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    booking_id: str
    quantity: int
    status: ReservationStatus
    expires_at: int = 0
    amount: Money = Money(0)
    # Kept for REJECTED records so a duplicate ReserveInventory gets the very same answer.
    reason: str = ""
    available: int = 0

    def view(self) -> ReservationView:
        return ReservationView(self.booking_id, self.quantity, self.status, self.expires_at)


def load_ledger(store: KeyValueStore) -> ItemLedger | None:
    data = store.get(LEDGER_KEY)
    return None if data is None else decode_state(data, ItemLedger)


def load_reservation(store: KeyValueStore, booking_id: str) -> Reservation | None:
    data = store.get(reservation_key(booking_id))
    return None if data is None else decode_state(data, Reservation)


def save_ledger(store: KeyValueStore, ledger: ItemLedger) -> None:
    store.set(LEDGER_KEY, encode_state(ledger))


def save_reservation(store: KeyValueStore, reservation: Reservation) -> None:
    store.set(reservation_key(reservation.booking_id), encode_state(reservation))
