"""What happens to a reservation after it is held: confirm, release, expire."""

from __future__ import annotations

from msgspec.structs import replace

from schemas.inventory_commands import ConfirmReservation, ExpireHold, ReleaseReservation
from schemas.inventory_events import HoldExpired, ReservationReleased

from ..envelopes import Outbox
from .replies import confirmed, rejected, snapshot
from .state import ItemLedger, Reservation, ReservationStatus

Change = tuple[ItemLedger | None, Reservation | None]
UNCHANGED: Change = (None, None)


def confirm(
    ledger: ItemLedger | None,
    reservation: Reservation | None,
    command: ConfirmReservation,
    out: Outbox,
) -> Change:
    item_id, booking_id = command.item_id, command.booking_id
    if ledger is None:
        out.emit(rejected(out, item_id, booking_id, "UNKNOWN_ITEM"))
        return UNCHANGED
    match reservation:
        case Reservation(status="CONFIRMED"):
            out.emit(confirmed(out, item_id, reservation))
            return UNCHANGED
        case Reservation(status="HELD") if out.now_ms < reservation.expires_at:
            change = _move(ledger, reservation, "CONFIRMED", held=-1, sold=+1)
            out.emit(confirmed(out, item_id, reservation))
            out.emit(snapshot(out, *change))
            return change
        case Reservation(status="HELD"):
            # Past its expiry but the ExpireHold timer has not fired yet (timers fire up to a
            # bucket late): the hold is gone all the same, so expire it now and refuse.
            change = _move(ledger, reservation, "EXPIRED", held=-1)
            out.emit(rejected(out, item_id, booking_id, "HOLD_EXPIRED"))
            out.emit(snapshot(out, *change))
            return change
        case Reservation(status="EXPIRED"):
            out.emit(rejected(out, item_id, booking_id, "HOLD_EXPIRED"))
            return UNCHANGED
        case _:
            out.emit(rejected(out, item_id, booking_id, "NOT_HELD"))
            return UNCHANGED


def release(
    ledger: ItemLedger | None,
    reservation: Reservation | None,
    command: ReleaseReservation,
    out: Outbox,
) -> Change:
    """Give stock back whether held or already sold; anything else is acknowledged with 0."""
    moved: tuple[ItemLedger, Reservation] | None = None
    if ledger is not None and reservation is not None:
        match reservation.status:
            case "HELD":
                moved = _move(ledger, reservation, "RELEASED", held=-1)
            case "CONFIRMED":
                moved = _move(ledger, reservation, "RELEASED", sold=-1)
    out.emit(
        ReservationReleased(
            **out.envelope(),
            item_id=command.item_id,
            booking_id=command.booking_id,
            quantity=0 if moved is None else moved[1].quantity,
            reason=command.reason,
        )
    )
    if moved is None:
        return UNCHANGED
    out.emit(snapshot(out, *moved))
    return moved


def expire(
    ledger: ItemLedger | None,
    reservation: Reservation | None,
    command: ExpireHold,
    out: Outbox,
) -> Change:
    """Only the hold the timer was set for: a stale timer (other expiry, hold gone) is ignored."""
    if (
        ledger is None
        or reservation is None
        or reservation.status != "HELD"
        or reservation.expires_at != command.hold_expires_at
    ):
        return UNCHANGED
    change = _move(ledger, reservation, "EXPIRED", held=-1)
    out.emit(
        HoldExpired(
            **out.envelope(),
            item_id=command.item_id,
            booking_id=command.booking_id,
            quantity=reservation.quantity,
        )
    )
    out.emit(snapshot(out, *change))
    return change


def _move(
    ledger: ItemLedger,
    reservation: Reservation,
    status: ReservationStatus,
    held: int = 0,
    sold: int = 0,
) -> tuple[ItemLedger, Reservation]:
    """Change the reservation's status, moving its quantity between the ledger's totals
    (held/sold are signs: -1 takes the quantity out, +1 puts it in)."""
    quantity = reservation.quantity
    new_ledger = replace(
        ledger,
        held=ledger.held + held * quantity,
        sold=ledger.sold + sold * quantity,
        version=ledger.version + 1,
    )
    return new_ledger, replace(reservation, status=status)
