"""The ledger's decision for one command: pure, from (ledger, reservation, command) to a Decision.

The store-applying shell (`handler.py`) loads the two records a command can touch, calls
`decide`, and writes back whatever the Decision says changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from msgspec.structs import replace

from schemas.base import Envelope, Money
from schemas.inventory_commands import (
    ConfirmReservation,
    ExpireHold,
    InventoryCommand,
    ReleaseReservation,
    ReserveInventory,
    SetCapacity,
)

from ..envelopes import Outbox
from ..exceptions import MisroutedMessageError
from . import lifecycle
from .capacity import set_capacity
from .replies import hold_timer, rejected, reserved, snapshot
from .state import ItemLedger, RejectionReason, Reservation

NAMESPACE = "inventory"


@dataclass(frozen=True)
class Decision:
    """Outputs to produce, and the records to store (None: unchanged)."""

    outputs: tuple[Envelope, ...] = ()
    ledger: ItemLedger | None = None
    reservation: Reservation | None = None


def decide(
    ledger: ItemLedger | None,
    reservation: Reservation | None,
    command: InventoryCommand,
    now_ms: int,
) -> Decision:
    if ledger is not None and ledger.item_id != command.item_id:
        raise MisroutedMessageError(f"{command.item_id} reached the state of {ledger.item_id}")
    out = Outbox(command, now_ms, NAMESPACE)
    match command:
        case ReserveInventory():
            new_ledger, new_reservation = reserve(ledger, reservation, command, out)
        case ConfirmReservation():
            new_ledger, new_reservation = lifecycle.confirm(ledger, reservation, command, out)
        case ReleaseReservation():
            new_ledger, new_reservation = lifecycle.release(ledger, reservation, command, out)
        case ExpireHold():
            new_ledger, new_reservation = lifecycle.expire(ledger, reservation, command, out)
        case SetCapacity():
            new_ledger, new_reservation = set_capacity(ledger, command, out), None
        case _:
            assert_never(command)
    return Decision(tuple(out.messages), new_ledger, new_reservation)


Change = tuple[ItemLedger | None, Reservation | None]


def reserve(
    ledger: ItemLedger | None,
    existing: Reservation | None,
    command: ReserveInventory,
    out: Outbox,
) -> Change:
    """All or nothing; a booking that already has a reservation gets its first answer again."""
    if existing is not None:
        _answer_again(out, command.item_id, existing)
        return None, None
    if ledger is None:
        return None, _refuse(out, command, "UNKNOWN_ITEM", 0)
    if command.quantity < 1:
        return None, _refuse(out, command, "INVALID_QUANTITY", ledger.available)
    if ledger.available < command.quantity:
        return None, _refuse(out, command, "SOLD_OUT", ledger.available)
    price = ledger.price
    held = Reservation(
        booking_id=command.booking_id,
        quantity=command.quantity,
        status="HELD",
        expires_at=command.hold_expires_at,
        amount=Money(price.amount_minor * command.quantity, price.currency),
    )
    ledger = replace(ledger, held=ledger.held + held.quantity, version=ledger.version + 1)
    out.emit(reserved(out, command.item_id, held))
    out.emit(hold_timer(out, command.item_id, held))
    out.emit(snapshot(out, ledger, held))
    return ledger, held


def _refuse(
    out: Outbox, command: ReserveInventory, reason: RejectionReason, available: int
) -> Reservation:
    """Record the refusal too: the stock may free up later, and a redelivered duplicate of
    this command must still be refused rather than place a hold nobody will release."""
    out.emit(rejected(out, command.item_id, command.booking_id, reason, available))
    return Reservation(
        booking_id=command.booking_id,
        quantity=command.quantity,
        status="REJECTED",
        reason=reason,
        available=max(available, 0),
    )


def _answer_again(out: Outbox, item_id: str, existing: Reservation) -> None:
    booking_id = existing.booking_id
    match existing.status:
        case "HELD" | "CONFIRMED":
            out.emit(reserved(out, item_id, existing))
        case "REJECTED":
            out.emit(rejected(out, item_id, booking_id, existing.reason, existing.available))
        case "EXPIRED":
            out.emit(rejected(out, item_id, booking_id, "HOLD_EXPIRED"))
        case "RELEASED":
            out.emit(rejected(out, item_id, booking_id, "NOT_HELD"))
