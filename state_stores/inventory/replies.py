"""The messages the ledger produces: replies to the saga, snapshots, hold-expiry timers."""

from __future__ import annotations

from schemas import topics
from schemas.codec import encode
from schemas.inventory_commands import ExpireHold
from schemas.inventory_events import (
    InventoryReserved,
    ItemSnapshot,
    ReservationConfirmed,
    ReservationRejected,
)
from schemas.timers import ScheduleTimer

from ..envelopes import Outbox
from .state import ItemLedger, Reservation


def reserved(out: Outbox, item_id: str, reservation: Reservation) -> InventoryReserved:
    return InventoryReserved(
        **out.envelope(),
        item_id=item_id,
        booking_id=reservation.booking_id,
        quantity=reservation.quantity,
        amount=reservation.amount,
        hold_expires_at=reservation.expires_at,
    )


def rejected(
    out: Outbox, item_id: str, booking_id: str, reason: str, available: int = 0
) -> ReservationRejected:
    return ReservationRejected(
        **out.envelope(),
        item_id=item_id,
        booking_id=booking_id,
        reason=reason,
        available=max(available, 0),
    )


def confirmed(out: Outbox, item_id: str, reservation: Reservation) -> ReservationConfirmed:
    return ReservationConfirmed(
        **out.envelope(),
        item_id=item_id,
        booking_id=reservation.booking_id,
        quantity=reservation.quantity,
    )


def snapshot(out: Outbox, ledger: ItemLedger, changed: Reservation | None) -> ItemSnapshot:
    return ItemSnapshot(
        **out.envelope(),
        item_id=ledger.item_id,
        capacity=ledger.capacity,
        held=ledger.held,
        sold=ledger.sold,
        price=ledger.price,
        version=ledger.version,
        changed=None if changed is None else changed.view(),
    )


def hold_timer(out: Outbox, item_id: str, reservation: Reservation) -> ScheduleTimer:
    """A timer that sends ExpireHold back to this item when the hold runs out.

    The timer id carries the expiry, so a hold that is ever re-set gets a distinct timer,
    and ExpireHold is ignored unless it names the hold's current expiry.
    """
    booking_id, expires_at = reservation.booking_id, reservation.expires_at
    expire = ExpireHold(
        **out.envelope(occurred_at=expires_at),
        item_id=item_id,
        booking_id=booking_id,
        hold_expires_at=expires_at,
    )
    return ScheduleTimer(
        **out.envelope(),
        timer_id=f"hold:{booking_id}:{expires_at}",
        due_at=expires_at,
        target_topic=topics.INVENTORY_COMMANDS.name,
        target_key=item_id,
        payload=encode(expire),
    )
